/**
 * The same small application on each framework binding, for the reliability suite: read the
 * session, write a field, log in, log out. The error handler answers what a typical app answers
 * (`status`, `code` and the error's `message`) so a token leaking into an error message would show.
 */
import { createServer, type Server } from 'node:http';
import type { ErrorRequestHandler } from 'express';
import express5 from 'express';
import express4 from 'express4';
import Koa3 from 'koa';
import Koa2 from 'koa2';
import { sessionMiddleware, type SessionManager } from '../../lib/index.js';
import { sessionMiddleware as koaSessionMiddleware } from '../../lib/koa.js';

export interface Target {
  readonly name: string;
  server(manager: SessionManager): Server | Promise<Server>;
}

type ExpressFactory = typeof express5;

function expressApp(express: ExpressFactory, manager: SessionManager) {
  const app = express();
  app.use(express.json());
  app.use(sessionMiddleware({ manager }));
  app.get('/me', (req, res) => {
    res.json({ id: req.session.id ?? null, user: req.session.user ?? null, k: req.session.get('k') ?? null });
  });
  app.post('/write', async (req, res) => {
    const written = await req.session.set(String(req.body?.key ?? 'k'), req.body?.value ?? null);
    res.json({ written, id: req.session.id ?? null });
  });
  app.post('/login', async (req, res) => {
    await req.session.authenticate({ id: String(req.body?.user) }, 'password');
    res.json({ id: req.session.id, user: req.session.user });
  });
  app.post('/logout', async (req, res) => {
    await req.session.destroy();
    res.json({});
  });
  const errors: ErrorRequestHandler = (error, _req, res, _next) => {
    res.status(error.status ?? 500).json({ code: error.code ?? null, message: String(error.message) });
  };
  app.use(errors);
  return app;
}

export const expressTargets: Target[] = [
  { name: 'express 5', server: (manager) => createServer(expressApp(express5, manager)) },
  { name: 'express 4', server: (manager) => createServer(expressApp(express4 as unknown as ExpressFactory, manager)) },
];

// Koa: the same app through sojourn/koa's binding (Koa 2 and 3).
type KoaClass = typeof Koa3;

function koaApp(Koa: KoaClass, manager: SessionManager) {
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const e = error as { status?: number; code?: string; message?: string };
      ctx.status = e.status ?? 500;
      ctx.body = { code: e.code ?? null, message: String(e.message) };
    }
  });
  app.use(koaSessionMiddleware({ manager }));
  app.use(async (ctx) => {
    const body = ctx.method === 'POST' ? await readJson(ctx.req) : {};
    const route = `${ctx.method} ${ctx.path}`;
    if (route === 'GET /me') ctx.body = { id: ctx.session.id ?? null, user: ctx.session.user ?? null, k: ctx.session.get('k') ?? null };
    else if (route === 'POST /write') {
      const written = await ctx.session.set(String(body.key ?? 'k'), body.value ?? null);
      ctx.body = { written, id: ctx.session.id ?? null };
    } else if (route === 'POST /login') {
      await ctx.session.authenticate({ id: String(body.user) }, 'password');
      ctx.body = { id: ctx.session.id, user: ctx.session.user };
    } else if (route === 'POST /logout') {
      await ctx.session.destroy();
      ctx.body = {};
    } else ctx.status = 404;
  });
  return app;
}

async function readJson(req: import('node:http').IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export const koaTargets: Target[] = [
  { name: 'koa 3', server: (manager) => createServer(koaApp(Koa3, manager).callback()) },
  { name: 'koa 2', server: (manager) => createServer(koaApp(Koa2 as unknown as KoaClass, manager).callback()) },
];
