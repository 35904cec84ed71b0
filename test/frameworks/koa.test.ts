import { Readable } from 'node:stream';
import Router from '@koa/router';
import Koa3 from 'koa';
import Koa2 from 'koa2';
import request from 'supertest';
import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { createSessionManager, Session, SessionStoreError, type SessionLog, type SessionOptions } from '../../lib/index.js';
import { eventStream, sessionMiddleware } from '../../lib/koa.js';
import { countingStore } from '../helpers/counting.js';
import { connectEventStream, cookiePair, cookieValue, deferred, listen, setCookieOf } from '../helpers/http.js';
import { koa2Framework, koa3Framework } from './frameworks.js';
import { SECRET, sessionScenarios, trackManagers } from './scenarios.js';

// The shared scenarios (scenarios.ts) on both Koa majors; the same list runs on Express in express.test.ts.
describe.each([
  ['koa 2', koa2Framework],
  ['koa 3', koa3Framework],
])('%s', (_name, framework) => {
  sessionScenarios(framework);
});

// What only Koa has: ctx.state, @koa/router's matched routes, Koa's own error handling and bodies.
describe.each([
  ['koa 2', Koa2],
  ['koa 3', Koa3],
] as [string, typeof Koa3][])('%s binding', (_name, Koa) => {
  const managers = trackManagers();

  /** A bare Koa app (Koa's default error handling) with the session middleware and a log sink. */
  function app(options: SessionOptions = {}) {
    const logs: SessionLog[] = [];
    const appErrors: unknown[] = [];
    const middleware = sessionMiddleware({ secret: SECRET, logs: { sink: (log) => void logs.push(log), logAll: true }, ...options });
    managers.add(middleware.manager);
    const koa = new Koa();
    koa.silent = true;
    koa.on('error', (error: unknown) => void appErrors.push(error));
    koa.use(middleware);
    return { koa, logs, appErrors, middleware };
  }

  it('ctx.session and ctx.state.session are the same typed Session', async () => {
    const { koa } = app();
    koa.use((ctx) => {
      expectTypeOf(ctx.session).toEqualTypeOf<Session>();
      expectTypeOf(ctx.state.session).toEqualTypeOf<Session>();
      ctx.body = { same: ctx.state.session === ctx.session, isSession: ctx.session instanceof Session, kind: ctx.session.kind };
    });
    const res = await request(koa.callback()).get('/').expect(200);
    expect(res.body).toEqual({ same: true, isSession: true, kind: 'request' });
  });

  it("logs name @koa/router's matched route (with the router's prefix), the bare path otherwise", async () => {
    const { koa, logs } = app();
    const router = new Router({ prefix: '/api' });
    router.get('/items/:id', (ctx) => {
      ctx.body = { id: ctx.params.id };
    });
    koa.use(router.routes());
    koa.use((ctx) => {
      ctx.body = 'plain';
    });
    await request(koa.callback()).get('/api/items/42').expect(200);
    await request(koa.callback()).get('/plain/7?x=1').expect(200);
    await vi.waitFor(() => expect(logs).toHaveLength(2));
    expect(logs.map((log) => log.route).sort()).toEqual(['GET /api/items/:id', 'GET /plain/7']);
  });

  it("with Koa's default error handling: a throw answers 500, reaches app 'error', and the session closes with it", async () => {
    const { koa, logs, appErrors, middleware } = app();
    const boom = new Error('boom');
    koa.use(async (ctx) => {
      await ctx.session.set('before', 1);
      throw boom;
    });
    await request(koa.callback()).get('/boom').expect(500);
    expect(appErrors).toEqual([boom]);
    await vi.waitFor(() => expect(logs).toHaveLength(1));
    expect(logs[0]).toMatchObject({ kind: 'request', route: 'GET /boom', error: boom, sessionId: expect.any(String) });
    expect(middleware.manager.openSessions).toBe(0);
  });

  describe("a token answer made before a throw survives Koa's default error handler (which drops every header)", () => {
    it('a first write then a throw: the 500 carries the new cookie, and it reaches what was written', async () => {
      const { koa } = app();
      koa.use(async (ctx) => {
        if (ctx.path === '/read') return void (ctx.body = { before: ctx.session.get('before') ?? null });
        await ctx.session.set('before', 1);
        ctx.set('x-route', 'dropped'); // not ours: Koa still drops it
        throw new Error('boom');
      });
      const failed = await request(koa.callback()).get('/boom').expect(500);
      expect(failed.headers['x-route']).toBeUndefined();
      const cookie = setCookieOf(failed);
      expect(cookie).toMatch(/^session=[^;]+; Max-Age=/);
      const res = await request(koa.callback()).get('/read').set('Cookie', cookiePair(cookie!)).expect(200);
      expect(res.body).toEqual({ before: 1 });
    });

    it("a login then ctx.throw(403, …, { headers }): the new cookie joins the error's own headers and cookies", async () => {
      const { koa } = app();
      koa.use(async (ctx) => {
        if (ctx.path === '/read') return void (ctx.body = { user: ctx.session.user ?? null });
        await ctx.session.setActiveOrder('o1');
        await ctx.session.authenticate({ id: 'u1' }, 'password');
        ctx.throw(403, 'second factor required', { headers: { 'X-Reason': 'mfa', 'Set-Cookie': 'mfa=pending; Path=/' } });
      });
      const guest = await request(koa.callback()).get('/read').expect(200);
      expect(setCookieOf(guest)).toBeUndefined();
      const failed = await request(koa.callback()).get('/login').expect(403);
      expect(failed.headers['x-reason']).toBe('mfa');
      const cookies = failed.headers['set-cookie'] as unknown as string[];
      expect(cookies).toHaveLength(2);
      expect(cookies[0]).toBe('mfa=pending; Path=/');
      const res = await request(koa.callback()).get('/read').set('Cookie', cookiePair(setCookieOf(failed)!)).expect(200);
      expect(res.body).toEqual({ user: { id: 'u1' } });
    });

    it('a logout then a throw: the 500 still tells the client to forget its cookie', async () => {
      const { koa } = app();
      koa.use(async (ctx) => {
        if (ctx.path === '/login') {
          await ctx.session.authenticate({ id: 'u1' }, 'password');
          return void (ctx.body = 'in');
        }
        await ctx.session.destroy();
        throw new Error('after logout');
      });
      const login = await request(koa.callback()).get('/login').expect(200);
      const failed = await request(koa.callback()).get('/logout').set('Cookie', cookiePair(setCookieOf(login)!)).expect(500);
      expect(setCookieOf(failed)).toMatch(/^session=;.*Max-Age=0/);
    });

    it("with tokenMethod 'bearer': the 500 carries the token header", async () => {
      const { koa, middleware } = app({ tokenMethod: 'bearer' });
      koa.use(async (ctx) => {
        await ctx.session.setActiveOrder('o2');
        throw new Error('boom');
      });
      const failed = await request(koa.callback()).get('/').expect(500);
      const token = failed.headers['session-token'] as string;
      expect(await middleware.manager.getSessionFromToken(token)).toMatchObject({ activeOrderId: 'o2' });
    });

    it('an error whose `headers` is read-only is answered as before: its headers, no cookie, no other failure', async () => {
      const { koa, appErrors } = app();
      const fixed = Object.defineProperty(new Error('fixed headers'), 'headers', { value: { 'x-reason': 'fixed' }, enumerable: true });
      koa.use(async (ctx) => {
        await ctx.session.set('before', 1);
        throw fixed;
      });
      const failed = await request(koa.callback()).get('/').expect(500);
      expect(failed.headers['x-reason']).toBe('fixed');
      expect(setCookieOf(failed)).toBeUndefined();
      expect(appErrors).toEqual([fixed]);
    });
  });

  it("a failing store is a 503 through Koa's default error handling, ctx.session still set", async () => {
    const store = countingStore();
    const { koa, appErrors, middleware } = app({ store });
    let seen: unknown;
    koa.use(async (ctx, next) => {
      await ctx.session.ensure();
      ctx.body = 'ok';
      await next();
    });
    const created = await request(koa.callback()).get('/').expect(200);
    await middleware.manager.clearCache();
    store.failing.add('get');
    // An upstream middleware sees the error and the session, as an application's error handler would.
    const upstream = new Koa();
    upstream.silent = true;
    upstream.on('error', () => {});
    upstream.use(async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        seen = ctx.session;
        throw error;
      }
    });
    upstream.use(middleware);
    await request(upstream.callback()).get('/').set('Cookie', cookiePair(setCookieOf(created)!)).expect(503);
    expect(seen).toBeInstanceOf(Session);
    await request(koa.callback()).get('/').set('Cookie', cookiePair(setCookieOf(created)!)).expect(503);
    expect(appErrors.at(-1)).toBeInstanceOf(SessionStoreError);
  });

  it('the session stays open while Koa pipes a streamed body, and closes after the response finished', async () => {
    const { koa, middleware } = app();
    const body = new Readable({ read() {} });
    const closedWhenFinished = deferred<boolean>();
    koa.use((ctx) => {
      ctx.session.addWillCloseListener(() => closedWhenFinished.resolve(ctx.res.writableFinished));
      ctx.body = body;
    });
    const server = await listen(koa.callback());
    try {
      const response = fetch(`http://127.0.0.1:${server.port}/file`).then((res) => res.text());
      body.push('part 1, ');
      await vi.waitFor(() => expect(middleware.manager.openSessions).toBe(1));
      await new Promise((resolve) => setTimeout(resolve, 20)); // the middleware chain has long returned
      expect(middleware.manager.openSessions).toBe(1);
      body.push('part 2');
      body.push(null);
      expect(await response).toBe('part 1, part 2');
      expect(await closedWhenFinished.promise).toBe(true);
      await vi.waitFor(() => expect(middleware.manager.openSessions).toBe(0));
    } finally {
      await server.close();
    }
  });

  it("an event stream the client leaves raises no app 'error' (Koa never pipes it)", async () => {
    const { koa, appErrors, middleware } = app();
    const opened = deferred();
    koa.use((ctx) => {
      const stream = eventStream(ctx);
      stream.send({ hello: 'koa' });
      opened.resolve();
    });
    const server = await listen(koa.callback());
    try {
      const client = await connectEventStream(server.port, '/events');
      await opened.promise;
      expect(await client.received(1)).toEqual([{ data: '{"hello":"koa"}' }]);
      client.close();
      await vi.waitFor(() => expect(middleware.manager.openSessions).toBe(0));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(appErrors).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('sessionMiddleware() with options creates and starts its own manager', async () => {
    const { koa, middleware } = app();
    expect(middleware.manager).toEqual(expect.objectContaining({ openSessions: 0 }));
    koa.use(async (ctx) => {
      await ctx.session.setActiveOrder('o9');
      ctx.body = { order: ctx.session.activeOrderId };
    });
    const res = await request(koa.callback()).post('/').expect(200);
    expect(res.body).toEqual({ order: 'o9' });
    expect(await middleware.manager.getSessionFromToken(cookieValue(setCookieOf(res)!))).toMatchObject({ activeOrderId: 'o9' });
    const manager = createSessionManager({ secret: SECRET });
    managers.add(manager);
    expect(sessionMiddleware({ manager }).manager).toBe(manager);
  });
});
