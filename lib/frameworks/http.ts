import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Device } from '../device.js';
import { warnOnce } from '../environment.js';
import { createSessionManager, serviceOf, type SessionManager } from '../manager.js';
import type { ResolvedOptions, SessionOptions } from '../options.js';
import type { SessionService } from '../service.js';
import { sessionControl, type Session, type SessionBinding } from '../session.js';
import { tokenAnswer, type TokenChange } from '../token/answer.js';
import { extractToken, type PresentedToken } from '../token/extract.js';
import type { SessionKind } from '../types.js';

/** What the shared part needs from an HTTP framework binding; one object per framework. */
export interface HttpFramework<C> {
  /** Names the request in logs, from the framework's context (read only when a log is written). */
  route(context: C): string;
  /** Whether the request came over TLS, as the framework sees it behind a proxy it trusts. */
  secure(context: C): boolean;
  /** The client's address, as the framework sees it behind a proxy it trusts. */
  ip(context: C): string | undefined;
}

/** What a framework binding holds for its middleware's lifetime. */
export interface HttpSessions {
  readonly manager: SessionManager;
  readonly service: SessionService;
}

/** `sessionMiddleware(options | { manager })`: the given manager, or one created from the options and started. */
export function httpSessions(options: SessionOptions | { manager: SessionManager }): HttpSessions {
  let manager: SessionManager;
  if (typeof options === 'object' && options !== null && 'manager' in options) {
    if (Object.keys(options).length > 1) {
      throw new TypeError('sojourn: option `manager` cannot be combined with other options (configure the manager instead)');
    }
    manager = options.manager;
  } else {
    manager = createSessionManager(options as SessionOptions);
    void manager.start();
  }
  return { manager, service: serviceOf(manager) };
}

/**
 * The part of every HTTP framework binding that is plain Node: read the token from the request,
 * answer token changes on the response, close the session when the response is done.
 */
export function openHttpSession<C>(
  sessions: HttpSessions,
  req: IncomingMessage,
  res: ServerResponse,
  kind: SessionKind,
  context: C,
  framework: HttpFramework<C>,
): { session: Session; ready: Promise<void> } {
  const { options } = sessions.service;
  const presented = extractToken(req.headers, options, sessions.service.codec);
  const binding = new HttpBinding(res, options, presented, context, framework);
  const session = sessions.service.open(kind, binding);
  // A ServerResponse emits 'close' once, after 'finish' or when the connection went away first.
  res.on('close', () => binding.responseClosed(session));
  if (presented.via !== undefined && presented.token === undefined) binding.token({ token: undefined, expiresAt: undefined });
  return { session, ready: sessionControl.load(session, presented.token) };
}

/** A header's values as a list, however it was set (one string, a list, a number, or not at all). */
export function headerValues(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

// ---------------------------------------------------------------------------------------

/** How a request's session answers token changes and hears that its response closed (one object per request). */
class HttpBinding<C> implements SessionBinding {
  readonly #res: ServerResponse;
  readonly #options: ResolvedOptions;
  readonly #presented: PresentedToken;
  readonly #context: C;
  readonly #framework: HttpFramework<C>;

  constructor(res: ServerResponse, options: ResolvedOptions, presented: PresentedToken, context: C, framework: HttpFramework<C>) {
    this.#res = res;
    this.#options = options;
    this.#presented = presented;
    this.#context = context;
    this.#framework = framework;
  }

  /** Sends a new or renewed token, or tells the client to forget its token (see `tokenAnswer`). */
  token(change: TokenChange): void {
    const res = this.#res;
    if (res.headersSent) {
      warnOnce('SOJOURN_HEADERS_SENT', 'the session token changed after the response headers were sent; await session writes before responding');
      return;
    }
    const { cookie } = this.#options;
    const answer = tokenAnswer(this.#options, this.#presented, change, this.#framework.secure(this.#context));
    if (answer.setCookie) {
      // Replaces our cookie among the response's cookies (a login after a lazy creation sends one, not two).
      const others = headerValues(res.getHeader('set-cookie')).filter((line) => !line.startsWith(`${cookie.name}=`));
      res.setHeader('set-cookie', [...others, answer.setCookie]);
    }
    if (answer.header) res.setHeader(...answer.header);
  }

  route(): string {
    return this.#framework.route(this.#context);
  }

  device(): Device {
    return { userAgent: this.#res.req.headers['user-agent'], ip: this.#framework.ip(this.#context) };
  }

  responseClosed(session: Session): void {
    if (!this.#res.writableEnded) sessionControl.abort(session, abortError()); // the route never ended its response
    session.close().catch(() => {}); // listener failures are reported by the session itself
  }
}

function abortError(): Error {
  const error = new Error('the client closed the connection before the response was sent');
  error.name = 'AbortError';
  return error;
}
