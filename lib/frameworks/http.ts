import type { IncomingMessage, ServerResponse } from 'node:http';
import { CLOSED } from '../lifecycle.js';
import { createSessionManager, OPEN, type SessionManager } from '../manager.js';
import type { ResolvedOptions, SessionOptions } from '../options.js';
import { ABORT, LOAD, type Session, type SessionBinding } from '../session.js';
import { tokenAnswer } from '../token/answer.js';
import { extractToken, type PresentedToken } from '../token/extract.js';
import type { SessionKind } from '../types.js';

/** What the shared part needs from an HTTP framework binding; one object per framework. */
export interface HttpFramework<C> {
  /** Names the request in logs, from the framework's context (read only when a log is written). */
  route(context: C): string;
  /** The response closed: drop what the framework keeps for this request's `session`. */
  released?(context: C, session: Session, res: ServerResponse): void;
}

/**
 * The part of every HTTP framework binding that is plain Node: read the token from the request,
 * answer token changes on the response, close the session when the response is done.
 */
export function openHttpSession<C>(
  manager: SessionManager,
  req: IncomingMessage,
  res: ServerResponse,
  kind: SessionKind,
  context: C,
  framework: HttpFramework<C>,
): { session: Session; ready: Promise<void> | undefined } {
  const { options } = manager;
  const presented = extractToken(req.headers, options);
  const binding = new HttpBinding(res, options, presented, context, framework);
  const session = manager[OPEN](kind, binding);
  // A ServerResponse emits 'close' once, after 'finish' or when the connection went away first
  // (Node ≥ 16): what on-finished watches the response and its socket for, with one listener.
  // `on`, not `once`: emitting it then removes nothing. (Every property added to an Express
  // request or response builds a new hidden class, see request-session.ts: the session is not
  // stored on the response.)
  res.on('close', () => binding.responseClosed(session));
  if (presented && presented.token === undefined) respondToken(res, options, presented, undefined, undefined);
  return { session, ready: load(session, presented?.token) };
}

/** `sessionMiddleware(options | { manager })`: the given manager, or one created from the options and started. */
export function managerFrom(options: SessionOptions | { manager: SessionManager }): SessionManager {
  if (typeof options === 'object' && options !== null && 'manager' in options) {
    if (Object.keys(options).length > 1) {
      throw new TypeError('sojourn: option `manager` cannot be combined with other options (configure the manager instead)');
    }
    return options.manager;
  }
  const manager = createSessionManager(options as SessionOptions);
  void manager.start();
  return manager;
}

// ---------------------------------------------------------------------------------------

/** How a request's session answers token changes and hears that its response closed (one object per request). */
class HttpBinding<C> implements SessionBinding {
  readonly #res: ServerResponse;
  readonly #options: ResolvedOptions;
  readonly #presented: PresentedToken | undefined;
  readonly #context: C;
  readonly #framework: HttpFramework<C>;

  constructor(res: ServerResponse, options: ResolvedOptions, presented: PresentedToken | undefined, context: C, framework: HttpFramework<C>) {
    this.#res = res;
    this.#options = options;
    this.#presented = presented;
    this.#context = context;
    this.#framework = framework;
  }

  token(token: string | undefined, expiresAt: number | undefined): void {
    respondToken(this.#res, this.#options, this.#presented, token, expiresAt);
  }

  route(): string {
    return this.#framework.route(this.#context);
  }

  responseClosed(session: Session): void {
    this.#framework.released?.(this.#context, session, this.#res);
    if (!this.#res.writableEnded) session[ABORT](abortError()); // the route never ended its response
    const closing = session.close();
    // Listener failures are reported by the session itself. A synchronous close (no listeners, the
    // common case) cannot reject: catching it would only queue a microtask per request.
    if (closing !== CLOSED) closing.catch(ignore);
  }
}

/** `undefined` when the session is loaded already (a warm in-process cache hit), else a promise. */
function load(session: Session, token: string | undefined): Promise<void> | undefined {
  try {
    return session[LOAD](token) ?? undefined;
  } catch (error) {
    return Promise.reject(error);
  }
}

let warnedHeadersSent = false;

/**
 * Sends a new or renewed token, or tells the client to forget its token, by the way it came in
 * (or every configured way when it brought none).
 */
function respondToken(
  res: ServerResponse,
  options: ResolvedOptions,
  presented: PresentedToken | undefined,
  token: string | undefined,
  expiresAt: number | undefined,
): void {
  if (res.headersSent) {
    if (!warnedHeadersSent) {
      warnedHeadersSent = true;
      process.emitWarning('the session token changed after the response headers were sent; await session writes before responding', {
        code: 'SOJOURN_HEADERS_SENT',
      });
    }
    return;
  }
  const answer = tokenAnswer(options, presented?.via, token, expiresAt);
  if (answer.setCookie) setCookie(res, options.cookie.name, answer.setCookie);
  if (answer.header) res.setHeader(...answer.header);
}

/** Replaces our cookie among the response's cookies (a login after a lazy creation sends one, not two). */
function setCookie(res: ServerResponse, name: string, header: string): void {
  const others = headerValues(res.getHeader('set-cookie')).filter((cookie) => !cookie.startsWith(`${name}=`));
  res.setHeader('set-cookie', [...others, header]);
}

/** A header's values as a list, however it was set (one string, a list, a number, or not at all). */
export function headerValues(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

function ignore(): void {}

function abortError(): Error {
  const error = new Error('the client closed the connection before the response was sent');
  error.name = 'AbortError';
  return error;
}
