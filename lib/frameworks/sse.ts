import type { IncomingMessage, ServerResponse } from 'node:http';
import { toMs, type Duration } from '../duration.js';
import { sessionControl, type Session } from '../session.js';

export interface EventStreamOptions {
  /** A comment line this often keeps proxies from timing the stream out; `false` for none. @default '15s' */
  keepAlive?: Duration | false;
}

export interface EventOptions {
  /** The event's type (`event:`); the client's `onmessage` gets untyped ones. */
  event?: string;
  /** The event's id (`id:`): the browser sends the last one back in `Last-Event-ID` when it reconnects. */
  id?: string | number;
}

/** A Server-Sent Events response bound to the request's session (now a `kind: 'stream'` session). */
export interface EventStream {
  /** Sends one event: a string as is, anything else as JSON. `false` when the stream has closed (the event is dropped). */
  send(data: unknown, options?: EventOptions): boolean;
  /** Sends a comment line (ignored by clients; keeps the connection warm). `false` when closed. */
  comment(text?: string): boolean;
  /** Ends the response; the session closes once it is finished. Idempotent. */
  close(): void;
  /** Aborted when the client goes away and when the stream (the session) closes: stop producing. */
  readonly signal: AbortSignal;
  readonly closed: boolean;
  /** The `Last-Event-ID` the client reconnected with, if any. */
  readonly lastEventId: string | undefined;
}

/** `no-transform` keeps compressing proxies from buffering the stream; `x-accel-buffering` does the same for nginx. */
const HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

/**
 * `const stream = eventStream(req, res)` in an Express (or plain Node) route after
 * `sessionMiddleware()`: writes the SSE headers and keeps `req.session` open, as a `'stream'`
 * session, until the stream ends, the client disconnects, or the session is revoked.
 */
export function eventStream(req: IncomingMessage & { session: Session }, res: ServerResponse, options?: EventStreamOptions): EventStream {
  return openEventStream(req.session, req, res, options);
}

/**
 * Every binding's stream: validates, then takes over the response (headers go out at once). The
 * response's end closes the session (the HTTP binding's 'close' listener); the session's end (a client
 * gone, `manager.close()`) ends the response.
 */
export function openEventStream(session: Session | undefined, req: IncomingMessage, res: ServerResponse, options: EventStreamOptions = {}): EventStream {
  const keepAlive = keepAliveMs(options.keepAlive);
  requestSession(session);
  // A logout (here or on another instance) ends a stream that was sending that session's data.
  const stopRevocations = sessionControl.stream(session, () => close());
  const { signal } = session;
  let closed = false;
  const write = (chunk: string): boolean => {
    if (closed || res.writableEnded || res.destroyed) return false;
    res.write(chunk);
    return true;
  };
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    stopRevocations();
    if (!res.writableEnded && !res.destroyed) res.end();
  };
  res.statusCode = 200;
  for (const [name, value] of Object.entries(HEADERS)) res.setHeader(name, value);
  const timer = keepAlive === undefined ? undefined : setInterval(() => write(':\n\n'), keepAlive).unref();
  if (signal.aborted) close(); // the client left before the route got here
  else signal.addEventListener('abort', close, { once: true });
  write(':ok\n\n'); // sends the headers now: the client's `open` fires before the first event
  return {
    send: (data, { event, id } = {}) => write(frame(data, event, id)),
    comment: (text = '') => write(`${lines(text).map((line) => `: ${line}`.trimEnd()).join('\n')}\n\n`),
    close,
    signal,
    get closed() {
      return closed;
    },
    lastEventId: typeof req.headers['last-event-id'] === 'string' ? req.headers['last-event-id'] : undefined,
  };
}

// ---------------------------------------------------------------------------------------

/** The session a stream can take over: a request's, still open. */
function requestSession(session: Session | undefined): asserts session is Session {
  if (session === undefined) throw new TypeError('sojourn: eventStream() needs the request session: mount sessionMiddleware() first');
  if (session.kind !== 'request') throw new TypeError(`sojourn: eventStream() takes over a request session, not a ${session.kind} session`);
}

function keepAliveMs(value: EventStreamOptions['keepAlive']): number | undefined {
  if (value === false) return undefined;
  const ms = toMs(value === undefined ? '15s' : value);
  if (ms === undefined || ms < 1) throw new TypeError('sojourn: eventStream option `keepAlive` must be a positive duration or false');
  return ms;
}

function frame(data: unknown, event: string | undefined, id: string | number | undefined): string {
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  if (text === undefined) throw new TypeError('sojourn: an event needs data that JSON can represent');
  let out = '';
  if (event !== undefined) out += `event: ${field('event', event)}\n`;
  if (id !== undefined) out += `id: ${field('id', String(id))}\n`;
  return `${out}${lines(text).map((line) => `data: ${line}`).join('\n')}\n\n`;
}

/** `event` and `id` are one line each: a newline in them would let a value forge other fields. */
function field(name: string, value: string): string {
  if (/[\r\n]/.test(value) || (name === 'id' && value.includes('\0'))) throw new TypeError(`sojourn: an event's \`${name}\` must be a single line`);
  return value;
}

function lines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}
