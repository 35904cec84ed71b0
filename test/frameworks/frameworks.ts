/**
 * One adapter per framework the bindings support (Express 4 and 5, Koa 2 and 3). Each mounts a real
 * app the same way an application would: the session middleware, the shared routes below, and an
 * error handler that answers `{ error, message, code, hasSession }` and records what reached it.
 * Scenarios (scenarios.ts, sse.test.ts) are written once against this interface.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import Router from '@koa/router';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import express5 from 'express';
import express4 from 'express4';
import Koa3 from 'koa';
import Koa2 from 'koa2';
import {
  captureSessionErrors,
  eventStream,
  Session,
  sessionMiddleware,
  type EventStream,
  type EventStreamOptions,
  type SessionManager,
  type SessionOptions,
} from '../../lib/index.js';
import { eventStream as koaEventStream, sessionMiddleware as koaSessionMiddleware } from '../../lib/koa.js';

export interface RouteContext {
  readonly session: Session;
  readonly params: Readonly<Record<string, string>>;
  /** The JSON request body (`{}` without one). */
  readonly body: Readonly<Record<string, unknown>>;
  /** The Node response (for checks like `writableFinished`). */
  readonly res: ServerResponse;
  /** The framework's `eventStream()`; the route's return value is then not sent. */
  stream(options?: EventStreamOptions): EventStream;
}

export interface Route {
  readonly method: 'get' | 'post';
  readonly path: string;
  /** Returns the JSON body; a throw or a rejection goes to the framework's error handling. */
  handle(ctx: RouteContext): unknown;
}

export interface Mounted {
  /** The app as a Node request listener: for supertest and `http.createServer`. */
  readonly app: RequestListener;
  readonly middleware: { readonly manager: SessionManager };
  /** Errors that reached the app's error handler. */
  readonly errors: unknown[];
}

export type MiddlewareOptions = SessionOptions | { manager: SessionManager };

export interface Framework {
  readonly name: string;
  readonly family: 'express' | 'koa';
  /** How a failing route reaches the error handling here (test names). */
  readonly errorStyle: string;
  sessionMiddleware(options: MiddlewareOptions): { readonly manager: SessionManager };
  /** An app with the session middleware, the shared routes, `routes`, and the error handler. */
  mount(options: MiddlewareOptions, routes?: readonly Route[], settings?: AppSettings): Mounted;
}

export interface AppSettings {
  /** Express's `trust proxy`, Koa's `app.proxy`: X-Forwarded-Proto and X-Forwarded-For are believed. @default false */
  readonly trustProxy?: boolean;
}

/** What the shared routes answer: the session as the client sees it. */
export function view(session: Session) {
  return {
    id: session.id ?? null,
    order: session.activeOrderId ?? null,
    user: session.user ?? null,
    strategy: session.authenticationStrategy ?? null,
    authenticated: session.isAuthenticated,
    expiresAt: session.expiresAt ?? null,
  };
}

/** The routes every app has. */
export const ROUTES: readonly Route[] = [
  { method: 'get', path: '/read', handle: ({ session }) => view(session) },
  { method: 'get', path: '/me', handle: ({ session }) => ({ id: session.id ?? null, user: session.user ?? null }) },
  {
    method: 'get',
    path: '/keys/:n',
    handle: ({ session, params }) => {
      const keys = Array.from({ length: Number(params.n) }, (_, i) => `k${i}`);
      return Object.fromEntries(keys.map((key) => [key, session.get(key) ?? null]));
    },
  },
  { method: 'get', path: '/data/:key', handle: ({ session, params }) => ({ value: session.get(params.key!) ?? null }) },
  {
    method: 'post',
    path: '/data/:key',
    handle: async ({ session, params, body }) => ({ written: await session.set(params.key!, body.value ?? null), id: session.id ?? null }),
  },
  {
    method: 'post',
    path: '/order/:id',
    handle: async ({ session, params }) => {
      await session.setActiveOrder(params.id!);
      return view(session);
    },
  },
  {
    method: 'post',
    path: '/set/:key/:value',
    handle: async ({ session, params }) => ({ ok: await session.set(params.key!, Number(params.value)) }),
  },
  {
    method: 'post',
    path: '/login',
    // `{ user }` in the body logs that user in; without one, Ann.
    handle: async ({ session, body }) => {
      await session.authenticate(body.user === undefined ? { id: 'u1', name: 'Ann' } : { id: body.user as string | number }, 'password');
      return view(session);
    },
  },
  {
    method: 'post',
    path: '/logout',
    handle: async ({ session }) => {
      await session.destroy();
      return view(session);
    },
  },
];

type ErrorLike = Error & { status?: number; code?: string };

function errorBody(error: ErrorLike, session: unknown) {
  return { error: error.name, message: error.message, code: error.code, hasSession: session instanceof Session };
}

// ---------------------------------------------------------------------------------------

function expressFramework(name: string, express: typeof express5, major: 4 | 5): Framework {
  return {
    name,
    family: 'express',
    errorStyle: major === 5 ? 'async throw' : 'next(err)',
    sessionMiddleware: (options) => sessionMiddleware(options),
    mount(options, routes = [], { trustProxy = false } = {}) {
      const middleware = sessionMiddleware(options);
      const errors: unknown[] = [];
      const app = express();
      app.set('trust proxy', trustProxy);
      app.use(express.json());
      app.use(middleware);
      for (const route of [...ROUTES, ...routes]) app[route.method](route.path, expressRoute(route, major));
      app.use(captureSessionErrors());
      const onError: ErrorRequestHandler = (error: ErrorLike, req, res, _next) => {
        errors.push(error);
        res.status(error.status ?? 500).json(errorBody(error, req.session));
      };
      app.use(onError);
      return { app, middleware, errors };
    },
  };
}

/** Express 5 takes the async route as is (it catches rejections); Express 4 needs `next(err)`. */
function expressRoute(route: Route, major: 4 | 5): RequestHandler {
  const run = async (req: Request, res: Response): Promise<void> => {
    let streaming = false;
    const stream = (options?: EventStreamOptions) => {
      streaming = true;
      return eventStream(req, res, options);
    };
    const answer = await route.handle({ session: req.session, params: req.params as Record<string, string>, body: req.body ?? {}, res, stream });
    if (!streaming) res.json(answer);
  };
  if (major === 5) return run;
  return (req, res, next) => {
    run(req, res).catch(next);
  };
}

function koaFramework(name: string, Koa: typeof Koa3): Framework {
  return {
    name,
    family: 'koa',
    errorStyle: 'async throw',
    sessionMiddleware: (options) => koaSessionMiddleware(options),
    mount(options, routes = [], { trustProxy = false } = {}) {
      const middleware = koaSessionMiddleware(options);
      const errors: unknown[] = [];
      const app = new Koa();
      app.proxy = trustProxy;
      app.silent = true; // errors are answered (and recorded) by the first middleware
      app.use(async (ctx, next) => {
        try {
          await next();
        } catch (caught) {
          const error = caught as ErrorLike;
          errors.push(error);
          ctx.status = error.status ?? 500;
          ctx.body = errorBody(error, ctx.session);
        }
      });
      app.use(middleware);
      const router = new Router();
      for (const route of [...ROUTES, ...routes]) {
        router[route.method](route.path, async (ctx) => {
          let streaming = false;
          const stream = (opts?: EventStreamOptions) => {
            streaming = true;
            return koaEventStream(ctx, opts);
          };
          const body = ctx.method === 'POST' ? await readJson(ctx.req) : {};
          const answer = await route.handle({ session: ctx.session, params: ctx.params, body, res: ctx.res, stream });
          if (!streaming) ctx.body = answer;
        });
      }
      app.use(router.routes());
      return { app: app.callback(), middleware, errors };
    },
  };
}

/** Koa has no body parser of its own: the JSON body, `{}` when empty. */
async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export const express4Framework = expressFramework('express 4', express4, 4);
export const express5Framework = expressFramework('express 5', express5, 5);
export const koa2Framework = koaFramework('koa 2', Koa2);
export const koa3Framework = koaFramework('koa 3', Koa3);

export const FRAMEWORKS: readonly Framework[] = [express4Framework, express5Framework, koa2Framework, koa3Framework];

/** One instance's app over `manager`: the shared routes on `framework` (Express 5 unless told). */
export function appOf(manager: SessionManager, framework: Framework = express5Framework, routes: readonly Route[] = []): RequestListener {
  return framework.mount({ manager }, routes).app;
}
