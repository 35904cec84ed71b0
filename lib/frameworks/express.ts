import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { SessionManager } from '../manager.js';
import type { SessionOptions } from '../options.js';
import { sessionControl, type Session } from '../session.js';
import { httpSessions, openHttpSession, type HttpFramework } from './http.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The request's session: sojourn's `sessionMiddleware()`. */
      session: Session;
    }
  }
}

export interface SessionMiddleware extends RequestHandler {
  /** The manager behind the middleware (created from the options, or the one given). */
  readonly manager: SessionManager;
}

/**
 * `app.use(sessionMiddleware())`: `req.session` on every request, closed when the response is
 * finished or the client went away. Takes options (a manager is created and started) or
 * `{ manager }`. A failing store reaches Express's error handling as a `SessionStoreError`.
 */
export function sessionMiddleware(options: SessionOptions | { manager: SessionManager } = {}): SessionMiddleware {
  const sessions = httpSessions(options);
  const middleware: RequestHandler = (req, res, next) => {
    const { session, ready } = openHttpSession(sessions, req, res, 'request', req, EXPRESS);
    req.session = session;
    ready.then(() => next(), next);
  };
  return Object.assign(middleware, { manager: sessions.manager });
}

/**
 * Error middleware that hands the route's error to the session, so it closes with it (logs mark
 * the session failed). Mount after your routes: `app.use(captureSessionErrors())`.
 */
export function captureSessionErrors(): ErrorRequestHandler {
  return (error, req, _res, next) => {
    if (req.session) sessionControl.fail(req.session, error);
    next(error);
  };
}

// ---------------------------------------------------------------------------------------

const EXPRESS: HttpFramework<Request> = {
  /** `GET /orders/:id` when a route matched (no ids in logs), the bare path otherwise. */
  route(req) {
    const pattern = (req.route as { path?: unknown } | undefined)?.path;
    const path = typeof pattern === 'string' ? req.baseUrl + pattern : (req.originalUrl ?? req.url).split('?')[0];
    return `${req.method} ${path}`;
  },
  /** `req.secure` honours Express's `trust proxy` (X-Forwarded-Proto). */
  secure: (req) => req.secure === true,
  /** `req.ip` honours `trust proxy` (X-Forwarded-For). */
  ip: (req) => req.ip,
};
