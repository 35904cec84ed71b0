import { randomBytes } from 'node:crypto';
import { sign } from 'cookie-signature';
import { v7 as uuidv7 } from 'uuid';

interface HasHeaders {
  readonly headers: Record<string, string | string[] | undefined>;
}

/** The response's `Set-Cookie` line for cookie `name`, or `undefined` when none was sent. */
export function setCookieOf(res: HasHeaders, name = 'session'): string | undefined {
  const raw = res.headers['set-cookie'];
  const lines = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const ours = lines.filter((line) => line.startsWith(`${name}=`));
  if (ours.length > 1) throw new Error(`more than one Set-Cookie for ${name}: ${ours.join(' | ')}`);
  return ours[0];
}

/** `name=value` of a Set-Cookie line: what a browser sends back in `Cookie`. */
export function cookiePair(setCookie: string): string {
  return setCookie.split(';', 1)[0]!;
}

/** The attributes of a Set-Cookie line, lower-cased names (`max-age`, `path`, `httponly`…). */
export function cookieAttributes(setCookie: string): Record<string, string | true> {
  const attributes: Record<string, string | true> = {};
  for (const part of setCookie.split(';').slice(1)) {
    const [key, ...value] = part.trim().split('=');
    attributes[key!.toLowerCase()] = value.length === 0 ? true : value.join('=');
  }
  return attributes;
}

/** The decoded cookie value of a Set-Cookie line (`s:<token>.<signature>`). */
export function cookieValue(setCookie: string): string {
  return decodeURIComponent(cookiePair(setCookie).slice(cookiePair(setCookie).indexOf('=') + 1));
}

/** A `Cookie` request header carrying `token` signed the way sojourn (and express-session) signs it. */
export function signedCookie(token: string, secret: string, name = 'session'): string {
  return `${name}=${encodeURIComponent(`s:${sign(token, secret)}`)}`;
}

/** A token shaped exactly like a real one (`<uuid v7>.<32 bytes base64url>`) that no store knows. */
export function unknownToken(): string {
  return `${uuidv7()}.${randomBytes(32).toString('base64url')}`;
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
