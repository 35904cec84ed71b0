import type { ServerResponse } from 'node:http';
import type { Context, Middleware, ParameterizedContext } from 'koa';
import type { SessionManager } from '../manager.js';
import type { ResolvedOptions, SessionOptions } from '../options.js';
import { sessionControl, type Session } from '../session.js';
import { headerValues, httpSessions, openHttpSession, type HttpFramework } from './http.js';
import { openEventStream, type EventStream, type EventStreamOptions } from './sse.js';

declare module 'koa' {
  interface ExtendableContext {
    /** The request's session: sojourn's `sessionMiddleware()` from `sojourn/koa`. */
    session: Session;
  }
  interface DefaultState {
    /** The request's session (the same object as `ctx.session`). */
    session: Session;
  }
}

export interface KoaSessionMiddleware extends Middleware {
  /** The manager behind the middleware (created from the options, or the one given). */
  readonly manager: SessionManager;
}

/**
 * `app.use(sessionMiddleware())`: `ctx.session` (and `ctx.state.session`) on every request, closed
 * once the response is finished or the client went away, with the error when downstream
 * middleware threw. A failing store throws a `SessionStoreError` (503) into Koa's error handling.
 * A token answer made before the throw (a login's new cookie, a logout's clearing one) still
 * reaches the client. Koa 2 and Koa 3.
 */
export function sessionMiddleware(options: SessionOptions | { manager: SessionManager } = {}): KoaSessionMiddleware {
  const sessions = httpSessions(options);
  const middleware: Middleware = async (ctx, next) => {
    const { session, ready } = openHttpSession(sessions, ctx.req, ctx.res, 'request', ctx, KOA);
    ctx.session = session;
    ctx.state.session = session;
    try {
      await ready;
      await next();
    } catch (error) {
      sessionControl.fail(session, error); // the session closes with it once Koa has answered
      carryTokenAnswer(error, ctx.res, sessions.manager.options);
      throw error;
    }
  };
  return Object.assign(middleware, { manager: sessions.manager });
}

/**
 * `const stream = eventStream(ctx)` in a route: the response becomes a Server-Sent Events stream
 * and `ctx.session` a `'stream'` session that stays open until the stream ends, the client
 * disconnects, or the session is revoked. Return from the route; send from your event source.
 */
export function eventStream(ctx: ParameterizedContext, options?: EventStreamOptions): EventStream {
  const stream = openEventStream(ctx.session, ctx.req, ctx.res, options);
  // The stream writes to the response itself: Koa 3 would report every client disconnect of a
  // piped body as an app error, and body middleware (compression) would buffer the events.
  ctx.respond = false;
  return stream;
}

// ---------------------------------------------------------------------------------------

const KOA: HttpFramework<Context | ParameterizedContext> = {
  /** `GET /orders/:id` when a @koa/router route matched (no ids in logs), the bare path otherwise. */
  route(ctx) {
    const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
    const path = matched === undefined ? ctx.originalUrl.split('?')[0] : String(matched);
    return `${ctx.method} ${path}`;
  },
  /** `ctx.secure` honours `app.proxy` (X-Forwarded-Proto). */
  secure: (ctx) => ctx.secure === true,
  /** `ctx.ip` honours `app.proxy` (X-Forwarded-For). */
  ip: (ctx) => ctx.ip,
};

/**
 * Koa's default error handler removes every response header, then sets the error's `headers`
 * (http-errors' field for them). Our token answer rides there: what the route wrote before it threw
 * is stored, and a client left with its old token loses it (after a login the old token names the
 * deleted guest session; a new guest's first write made a record only the new cookie reaches).
 * Other headers are Koa's to drop; an error handler of your own that sets the status and body
 * keeps them all anyway.
 */
function carryTokenAnswer(error: unknown, res: ServerResponse, options: ResolvedOptions): void {
  if (res.headersSent || typeof error !== 'object' || error === null) return;
  const cookies = headerValues(res.getHeader('set-cookie')).filter((cookie) => cookie.startsWith(`${options.cookie.name}=`));
  const token = res.getHeader(options.tokenHeader);
  if (cookies.length === 0 && token === undefined) return;
  const headers: Record<string, unknown> = { ...(error as { headers?: Record<string, unknown> }).headers };
  if (cookies.length > 0) {
    // One key for Set-Cookie whatever its case: Koa sets the keys in turn, a second would replace the first.
    const key = Object.keys(headers).find((name) => name.toLowerCase() === 'set-cookie') ?? 'set-cookie';
    headers[key] = [...headerValues(headers[key]).filter((cookie) => !cookie.startsWith(`${options.cookie.name}=`)), ...cookies];
  }
  if (token !== undefined) headers[options.tokenHeader] = token;
  try {
    (error as { headers?: Record<string, unknown> }).headers = headers;
  } catch {
    // A frozen error or a read-only `headers`: Koa answers without the token, as it did before.
  }
}
