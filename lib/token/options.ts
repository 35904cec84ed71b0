import { randomBytes } from 'node:crypto';
import { isProduction, warnOnce } from '../environment.js';
import { SessionConfigError } from '../errors.js';
import { describe, optionGroup } from '../validate.js';

export type TokenMethod = 'cookie' | 'bearer';

export interface CookieOptions {
  /** @default 'session' */
  name?: string;
  /** @default '/' */
  path?: string;
  /** @default undefined (host-only) */
  domain?: string;
  /** @default 'lax' */
  sameSite?: 'lax' | 'strict' | 'none';
  /** @default true in production and on secure requests (`req.secure` with `trust proxy`, Koa `ctx.secure`) */
  secure?: boolean;
  /** @default true */
  httpOnly?: boolean;
  /** CHIPS partitioned cookie. @default false */
  partitioned?: boolean;
}

export interface ResolvedCookie {
  readonly name: string;
  readonly path: string;
  readonly domain: string | undefined;
  readonly sameSite: 'lax' | 'strict' | 'none';
  /** `'auto'`: secure in production and on secure requests. */
  readonly secure: boolean | 'auto';
  readonly httpOnly: boolean;
  readonly partitioned: boolean;
}

/** Secrets shorter than this are refused in production: 256 bits, as the token secrets. */
const MIN_SECRET_BYTES = 32;

export function resolveTokenMethods(value: unknown): readonly TokenMethod[] {
  if (value === undefined) return Object.freeze(['cookie', 'bearer'] as const);
  const methods = typeof value === 'string' ? [value] : value;
  const valid =
    Array.isArray(methods) &&
    methods.length > 0 &&
    new Set(methods).size === methods.length &&
    methods.every((m) => m === 'cookie' || m === 'bearer');
  if (!valid) throw new SessionConfigError('tokenMethod', "must be 'cookie', 'bearer' or an array of them");
  return Object.freeze([...(methods as TokenMethod[])]);
}

/** Every token carries a tag under the first secret; all of them verify (rotation). */
export function resolveSecrets(value: unknown): readonly string[] {
  if (value === undefined) {
    if (isProduction()) throw new SessionConfigError('secret', 'is required in production (it tags every token and cookie)');
    warnOnce('SOJOURN_NO_SECRET', 'No `secret` given: tokens are tagged with a random secret, so they stop working on restart.');
    return Object.freeze([randomBytes(32).toString('base64url')]);
  }
  const secrets = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(secrets) || secrets.length === 0 || !secrets.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new SessionConfigError('secret', 'must be a non-empty string or a non-empty array of them');
  }
  if (isProduction() && secrets.some((s: string) => Buffer.byteLength(s) < MIN_SECRET_BYTES)) {
    throw new SessionConfigError('secret', `must be at least ${MIN_SECRET_BYTES} bytes in production (every secret of the list)`);
  }
  return Object.freeze([...(secrets as string[])]);
}

export function resolveCookie(value: unknown): ResolvedCookie {
  // express-session habits (`cookie.maxAge`) fail loudly instead of being silently ignored.
  const c = optionGroup('cookie', value, COOKIE_KEYS) as CookieOptions;
  const name = text('name', c.name, 'session')!;
  if (!TOKEN_CHARS.test(name)) throw new SessionConfigError('cookie.name', 'is not a valid cookie name');
  const sameSite = c.sameSite === undefined ? 'lax' : c.sameSite;
  if (sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none') {
    throw new SessionConfigError('cookie.sameSite', "must be 'lax', 'strict' or 'none'");
  }
  const secure = c.secure === undefined ? 'auto' : flag('secure', c.secure);
  if (sameSite === 'none' && secure !== true) throw new SessionConfigError('cookie.sameSite', "'none' needs `cookie.secure: true`");
  return Object.freeze({
    name,
    path: text('path', c.path, '/')!,
    domain: text('domain', c.domain, undefined),
    sameSite,
    secure,
    httpOnly: c.httpOnly === undefined ? true : flag('httpOnly', c.httpOnly),
    partitioned: c.partitioned === undefined ? false : flag('partitioned', c.partitioned),
  });
}

export function headerName(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !TOKEN_CHARS.test(value)) {
    throw new SessionConfigError(name, `must be a valid HTTP header name, got ${describe(value)}`);
  }
  return value.toLowerCase();
}

// ---------------------------------------------------------------------------------------

const TOKEN_CHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const COOKIE_KEYS = new Set(['name', 'path', 'domain', 'sameSite', 'secure', 'httpOnly', 'partitioned']);

function text(name: string, v: unknown, fallback: string | undefined): string | undefined {
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || v.length === 0) throw new SessionConfigError(`cookie.${name}`, 'must be a non-empty string');
  return v;
}

function flag(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new SessionConfigError(`cookie.${name}`, 'must be a boolean');
  return v;
}
