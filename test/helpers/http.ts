import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http, { type IncomingMessage, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign } from 'cookie-signature';
import { v7 as uuidv7 } from 'uuid';
import { createTokenCodec } from '../../lib/token/codec.js';

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

/** The decoded cookie value of a Set-Cookie line: the token itself. */
export function cookieValue(setCookie: string): string {
  return decodeURIComponent(cookiePair(setCookie).slice(cookiePair(setCookie).indexOf('=') + 1));
}

/** A `Cookie` request header carrying `token`, as a browser sends back what sojourn set. */
export function tokenCookie(token: string, name = 'session'): string {
  return `${name}=${encodeURIComponent(token)}`;
}

/**
 * A token of the exact shape, tagged under `secret`, that no store knows: what a server holding
 * `secret` could have issued (a session since cleaned up). Under another secret: a made-up token.
 */
export function unknownToken(secret: string): string {
  return sign(`${uuidv7()}.${randomBytes(32).toString('base64url')}`, secret);
}

/** The id and secret of `token` (any shape), verified under `secrets` (`undefined`: not ours). */
export function verifyToken(token: string, ...secrets: string[]): string | undefined {
  return createTokenCodec(secrets).verify(token)?.id;
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

/** `app` (a Node request listener) on an ephemeral port; `close()` drops open connections too. */
export async function listen(app: RequestListener): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** One Server-Sent Event as a client sees it. */
export interface SseEvent {
  readonly event?: string;
  readonly id?: string;
  readonly data: string;
}

export interface SseClient {
  readonly response: IncomingMessage;
  /** Every event received so far. */
  readonly events: readonly SseEvent[];
  /** Every comment line received so far (`:ok` → `'ok'`). */
  readonly comments: readonly string[];
  /** Resolves once `count` events have been received (in total). */
  received(count: number): Promise<readonly SseEvent[]>;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  /** Disconnects, as a browser tab that is closed. */
  close(): void;
}

/** A real HTTP client reading an event stream (what `EventSource` does, without reconnecting). */
export async function connectEventStream(port: number, path: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const req = http.get({ host: '127.0.0.1', port, path, headers: { accept: 'text/event-stream', ...headers } });
  req.on('error', () => {}); // the hang-up a test causes on purpose
  const [response] = (await once(req, 'response')) as [IncomingMessage];
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const waiting = new Set<() => void>();
  let buffer = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      parseBlock(buffer.slice(0, end), events, comments);
      buffer = buffer.slice(end + 2);
    }
    for (const wake of waiting) wake();
  });
  const ended = new Promise<void>((resolve) => response.on('end', resolve));
  ended.catch(() => {});
  return {
    response,
    events,
    comments,
    received(count) {
      return new Promise((resolve) => {
        const check = () => {
          if (events.length < count) return;
          waiting.delete(check);
          resolve(events.slice(0, count));
        };
        waiting.add(check);
        check();
      });
    },
    ended,
    close: () => req.destroy(),
  };
}

function parseBlock(block: string, events: SseEvent[], comments: string[]): void {
  const event: { event?: string; id?: string; data?: string } = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      comments.push(line.slice(1).trim());
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') event.data = event.data === undefined ? value : `${event.data}\n${value}`;
    else if (field === 'event' || field === 'id') event[field] = value;
  }
  if (event.data !== undefined) events.push(event as SseEvent);
}
