/**
 * The session middleware's behaviour, written once and run against every framework binding
 * (frameworks.ts): express.test.ts runs it on Express 4 and 5, koa.test.ts on Koa 2 and 3.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign } from 'cookie-signature';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createSessionManager,
  Session,
  SessionClosedError,
  SessionStoreError,
  type SessionLog,
  type SessionManager,
  type SessionOptions,
} from '../../lib/index.js';
import { countingStore, type CountingStore } from '../helpers/counting.js';
import { cookieAttributes, cookiePair, cookieValue, deferred, setCookieOf, tokenCookie, unknownToken, verifyToken } from '../helpers/http.js';
import { captureWarnings } from '../helpers/warnings.js';
import { view, type Framework, type Mounted, type Route } from './frameworks.js';

export const SECRET = 'test-secret-0123456789';
const DAY = 86_400_000;
const THIRTY_DAYS_S = 30 * 86_400;
const T0 = Date.UTC(2030, 0, 1);

/** Every scenario, for one framework: call it inside a `describe` named after the framework. */
export function sessionScenarios(framework: Framework): void {
  const managers = trackManagers();

  /** An app on a counting memory store (unless `store` is given), with a secret unless overridden. */
  function setup(options: SessionOptions = {}, routes?: readonly Route[]): Context {
    const store = (options.store as CountingStore | undefined) ?? countingStore();
    const mounted = framework.mount({ secret: SECRET, store, ...options }, routes);
    managers.add(mounted.middleware.manager);
    return { ...mounted, store, now: T0 };
  }

  describe('cookie flow', () => {
    it('creates nothing on a request that never writes (lazy creation)', async () => {
      const { app, store } = setup();
      const res = await request(app).get('/read').expect(200);
      expect(res.body).toEqual(emptyView);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.headers['session-token']).toBeUndefined();
      expect(store.calls.create).toBe(0);
      expect(store.calls.get).toBe(0);
    });

    it('a write sends the token cookie: 30 days, Path=/, HttpOnly, SameSite=Lax, no Secure outside production', async () => {
      const { app, store } = setup({ clock: () => T0 });
      const res = await request(app).post('/order/o1').expect(200);
      const line = setCookieOf(res)!;
      expect(line).toMatch(new RegExp(`^session=[^;]+; Max-Age=${THIRTY_DAYS_S}; Path=/; HttpOnly; SameSite=Lax$`));
      expect(cookieAttributes(line)).not.toHaveProperty('secure');
      // A browser that brought no token gets it only where page scripts cannot read it.
      expect(res.headers['session-token']).toBeUndefined();
      expect(verifyToken(cookieValue(line), SECRET)).toBe(res.body.id);
      expect(store.calls.create).toBe(1);
    });

    it('a client that asks for the header (the token header sent empty) gets the token there too', async () => {
      const { app } = setup();
      const res = await request(app).post('/order/o1').set('session-token', '').expect(200);
      expect(res.headers['session-token']).toBe(cookieValue(setCookieOf(res)!));
    });

    it('Max-Age is the full duration even when the clock ticks during the request', async () => {
      let now = T0;
      const { app } = setup({ clock: () => now++ }); // every reading 1 ms later, like Date.now under load
      const res = await request(app).post('/order/o1').expect(200);
      expect(cookieAttributes(setCookieOf(res)!)['max-age']).toBe(String(THIRTY_DAYS_S));
    });

    it('cookie: { secure: true } adds Secure', async () => {
      const { app } = setup({ cookie: { secure: true } });
      const res = await request(app).post('/order/o1').expect(200);
      expect(cookieAttributes(setCookieOf(res)!)).toMatchObject({ secure: true, httponly: true, path: '/', samesite: 'Lax' });
    });

    it('the cookie sent back resolves the session; a request that only reads sends no Set-Cookie', async () => {
      const { app } = setup();
      const created = await request(app).post('/order/o1').expect(200);
      const cookie = cookiePair(setCookieOf(created)!);
      const res = await request(app).get('/read').set('Cookie', cookie).expect(200);
      expect(res.body).toMatchObject({ id: created.body.id, order: 'o1', authenticated: false });
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.headers['session-token']).toBeUndefined();
      // A write to an existing record does not change the token either.
      const written = await request(app).post('/order/o2').set('Cookie', cookie).expect(200);
      expect(written.body).toMatchObject({ id: created.body.id, order: 'o2' });
      expect(written.headers['set-cookie']).toBeUndefined();
    });

    it('renews the cookie with a fresh Max-Age once less than half of `duration` is left', async () => {
      let now = T0;
      const { app } = setup({ clock: () => now });
      const created = await request(app).post('/order/o1').expect(200);
      const line = setCookieOf(created)!;
      const cookie = cookiePair(line);

      now = T0 + 10 * DAY; // 20 days left: more than half
      const early = await request(app).get('/read').set('Cookie', cookie).expect(200);
      expect(early.body.order).toBe('o1');
      expect(early.headers['set-cookie']).toBeUndefined();

      now = T0 + 16 * DAY; // 14 days left: renew
      const renewed = await request(app).get('/read').set('Cookie', cookie).expect(200);
      const renewedLine = setCookieOf(renewed)!;
      expect(cookiePair(renewedLine)).toBe(cookie); // same token, new expiry
      expect(cookieAttributes(renewedLine)['max-age']).toBe(String(THIRTY_DAYS_S));
      expect(renewed.body.expiresAt).toBe(now + 30 * DAY);

      now = T0 + 40 * DAY; // past the first expiry, within the renewed one
      const later = await request(app).get('/read').set('Cookie', cookie).expect(200);
      expect(later.body).toMatchObject({ id: created.body.id, order: 'o1' });
    });
  });

  describe('bearer flow', () => {
    it("tokenMethod 'bearer': the token comes back in `session-token`, `Authorization: Bearer` resolves it", async () => {
      const warnings = captureWarnings();
      const { app } = setup({ tokenMethod: 'bearer', secret: undefined });
      expect(warnings.codes.length).toBeLessThanOrEqual(1); // SOJOURN_NO_SECRET, once per process
      const created = await request(app).post('/order/o1').expect(200);
      expect(created.headers['set-cookie']).toBeUndefined();
      const token = created.headers['session-token'] as string;
      expect(token).toMatch(/^[0-9a-f-]{36}\.[\w-]{43}\.[\w+/]{43}$/);

      const res = await request(app).get('/read').set('Authorization', `Bearer ${token}`).expect(200);
      expect(res.body).toMatchObject({ id: created.body.id, order: 'o1' });
      expect(res.headers['session-token']).toBeUndefined();
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('`tokenHeader` names the response header', async () => {
      const { app } = setup({ tokenMethod: 'bearer', tokenHeader: 'X-Session-Token' });
      const created = await request(app).post('/order/o1').expect(200);
      expect(created.headers['session-token']).toBeUndefined();
      const token = created.headers['x-session-token'] as string;
      const res = await request(app).get('/read').set('Authorization', `Bearer ${token}`).expect(200);
      expect(res.body.order).toBe('o1');
    });

    it('a custom `bearerHeader` carries the token, with or without the Bearer prefix', async () => {
      const { app } = setup({ tokenMethod: 'bearer', bearerHeader: 'x-api-session' });
      const token = (await request(app).post('/order/o1').expect(200)).headers['session-token'] as string;
      for (const value of [token, `Bearer ${token}`]) {
        const res = await request(app).get('/read').set('X-Api-Session', value).expect(200);
        expect(res.body.order).toBe('o1');
      }
      // Authorization is not read any more.
      const ignored = await request(app).get('/read').set('Authorization', `Bearer ${token}`).expect(200);
      expect(ignored.body).toEqual(emptyView);
    });

    it('with both methods, answers go back the way the token came: header, cookie, and the cookie when none came', async () => {
      const { app } = setup();
      const none = await request(app).post('/order/o1').expect(200);
      expect(setCookieOf(none)).toBeDefined();
      expect(none.headers['session-token']).toBeUndefined();

      // One token form: the cookie's token works as a bearer token.
      const bearer = await request(app)
        .post('/login')
        .set('Authorization', `Bearer ${cookieValue(setCookieOf(none)!)}`)
        .expect(200);
      expect(bearer.headers['set-cookie']).toBeUndefined();
      expect(bearer.headers['session-token']).toMatch(new RegExp(`^${bearer.body.id}\\.`));

      const other = await request(app).post('/order/o2').expect(200);
      const cookie = await request(app).post('/login').set('Cookie', cookiePair(setCookieOf(other)!)).expect(200);
      expect(setCookieOf(cookie)).toBeDefined();
      expect(cookie.headers['session-token']).toBeUndefined();
      expect(cookie.body).toMatchObject({ authenticated: true, order: 'o2' });
    });
  });

  describe('bad tokens', () => {
    type Present = { cookie: string } | { bearer: string };
    const cases: [string, (ctx: Context) => Promise<Present>, { noStoreReads: boolean }][] = [
      ['a junk cookie value', async () => ({ cookie: 'session=junk' }), { noStoreReads: true }],
      ['a junk signed-looking cookie', async () => ({ cookie: `session=${encodeURIComponent('s:abc.def')}` }), { noStoreReads: true }],
      ['a real token re-tagged with another secret (forged tag)', async (ctx) => ({ cookie: tokenCookie(retag(await createToken(ctx), 'not-our-secret')) }), { noStoreReads: true }],
      ['a made-up token of the exact shape', async () => ({ cookie: tokenCookie(unknownToken('guessed-secret')) }), { noStoreReads: true }],
      ['an unknown token of ours (tagged, never stored)', async () => ({ cookie: tokenCookie(unknownToken(SECRET)) }), { noStoreReads: false }],
      ['the token of a destroyed session', async (ctx) => ({ cookie: tokenCookie(await destroyedToken(ctx)) }), { noStoreReads: false }],
      ['the token of an expired session', async (ctx) => ({ cookie: tokenCookie(await expiredToken(ctx)) }), { noStoreReads: false }],
      ['a junk bearer token', async () => ({ bearer: 'junk' }), { noStoreReads: true }],
      ['a bearer token with a forged secret (its tag no longer matches)', async (ctx) => ({ bearer: forgeSecret(await createToken(ctx)) }), { noStoreReads: true }],
      ['a made-up bearer token of the exact shape', async () => ({ bearer: unknownToken('guessed-secret') }), { noStoreReads: true }],
      ['an unknown bearer token of ours', async () => ({ bearer: unknownToken(SECRET) }), { noStoreReads: false }],
      ['the bearer token of a destroyed session', async (ctx) => ({ bearer: await destroyedToken(ctx) }), { noStoreReads: false }],
      ['the bearer token of an expired session', async (ctx) => ({ bearer: await expiredToken(ctx) }), { noStoreReads: false }],
    ];

    it.each(cases)('%s: 200, empty session, the client is told to forget it', async (_label, present, { noStoreReads }) => {
      const ctx = setup({ clock: () => ctx.now });
      const presented = await present(ctx);
      ctx.store.reset();
      const req = request(ctx.app).get('/read');
      if ('cookie' in presented) req.set('Cookie', presented.cookie);
      else req.set('Authorization', `Bearer ${presented.bearer}`);
      const res = await req.expect(200);

      expect(res.body).toEqual(emptyView);
      if ('cookie' in presented) {
        const line = setCookieOf(res)!;
        expect(line).toMatch(/^session=;/);
        expect(cookieAttributes(line)['max-age']).toBe('0');
        expect(res.headers['session-token']).toBeUndefined();
      } else {
        expect(res.headers['session-token']).toBe('');
        expect(res.headers['set-cookie']).toBeUndefined();
      }
      if (noStoreReads) expect(ctx.store.calls.get).toBe(0);
      expect(ctx.errors).toEqual([]);
    });
  });

  describe('secret rotation', () => {
    it('a cookie signed with the old secret, now second in `secret`, still works; new cookies use the new one', async () => {
      const store = countingStore();
      const before = setup({ store, secret: 'old-secret' });
      const created = await request(before.app).post('/order/o1').expect(200);
      const cookie = cookiePair(setCookieOf(created)!);

      const after = setup({ store, secret: ['new-secret', 'old-secret'] });
      const res = await request(after.app).get('/read').set('Cookie', cookie).expect(200);
      expect(res.body).toMatchObject({ id: created.body.id, order: 'o1' });
      expect(res.headers['set-cookie']).toBeUndefined();

      const login = await request(after.app).post('/login').set('Cookie', cookie).expect(200);
      const value = cookieValue(setCookieOf(login)!);
      expect(verifyToken(value, 'new-secret')).toBe(login.body.id);
      expect(verifyToken(value, 'old-secret')).toBeUndefined();
    });
  });

  describe('login rotation', () => {
    it('authenticate() issues a new token, retires the old one and carries the active order', async () => {
      const ctx = setup({ clock: () => ctx.now, supersededGrace: '10s' });
      const { app } = ctx;
      const guest = await request(app).post('/order/o1').expect(200);
      const guestCookie = cookiePair(setCookieOf(guest)!);

      const login = await request(app).post('/login').set('Cookie', guestCookie).expect(200);
      const userCookie = cookiePair(setCookieOf(login)!);
      expect(userCookie).not.toBe(guestCookie);
      expect(login.body.id).not.toBe(guest.body.id);
      expect(login.body).toMatchObject({ authenticated: true, user: { id: 'u1', name: 'Ann' }, order: 'o1', strategy: 'password' });

      const asUser = await request(app).get('/read').set('Cookie', userCookie).expect(200);
      expect(asUser.body).toMatchObject({ id: login.body.id, user: { id: 'u1', name: 'Ann' }, order: 'o1' });

      // The login race: a request that still carries the guest cookie sees nothing, and its
      // answer neither clears nor replaces the browser's (new) cookie while the grace window runs.
      const late = await request(app).get('/read').set('Cookie', guestCookie).expect(200);
      expect(late.body).toEqual(emptyView);
      expect(late.headers['set-cookie']).toBeUndefined();
      const lateWrite = await request(app).post('/order/o2').set('Cookie', guestCookie).expect(200);
      expect(lateWrite.body).toEqual(emptyView); // refused, not a new guest
      expect(lateWrite.headers['set-cookie']).toBeUndefined();

      ctx.now += 10_000; // past the window: the guest token is junk like any unknown one
      const asGuest = await request(app).get('/read').set('Cookie', guestCookie).expect(200);
      expect(asGuest.body).toEqual(emptyView);
      expect(cookieAttributes(setCookieOf(asGuest)!)['max-age']).toBe('0');
    });

    it('a custom `mergeActiveOrder` decides the order kept', async () => {
      const merge = vi.fn(({ guestOrderId, user }: { guestOrderId: unknown; user: { id: unknown } }) => `${String(user.id)}-${String(guestOrderId)}`);
      const { app } = setup({ mergeActiveOrder: merge as SessionOptions['mergeActiveOrder'] });
      const guest = await request(app).post('/order/o1').expect(200);
      const login = await request(app).post('/login').set('Cookie', cookiePair(setCookieOf(guest)!)).expect(200);
      expect(merge).toHaveBeenCalledExactlyOnceWith({ guestOrderId: 'o1', user: { id: 'u1', name: 'Ann' } });
      expect(login.body.order).toBe('u1-o1');
      const res = await request(app).get('/read').set('Cookie', cookiePair(setCookieOf(login)!)).expect(200);
      expect(res.body.order).toBe('u1-o1');
    });

    it('logout (destroy) clears the cookie and the token stops working', async () => {
      const { app, store } = setup();
      const guest = await request(app).post('/order/o1').expect(200);
      const login = await request(app).post('/login').set('Cookie', cookiePair(setCookieOf(guest)!)).expect(200);
      const cookie = cookiePair(setCookieOf(login)!);

      const logout = await request(app).post('/logout').set('Cookie', cookie).expect(200);
      expect(logout.body).toEqual(emptyView);
      const line = setCookieOf(logout)!;
      expect(line).toMatch(/^session=;/);
      expect(cookieAttributes(line)['max-age']).toBe('0');
      expect(await store.get(login.body.id)).toBeUndefined();

      const res = await request(app).get('/read').set('Cookie', cookie).expect(200);
      expect(res.body).toEqual(emptyView);
    });

    it('manager.deleteSessionsByUser logs out every device', async () => {
      const { app, middleware } = setup();
      const devices: string[] = [];
      for (const order of ['o1', 'o2']) {
        const guest = await request(app).post(`/order/${order}`).expect(200);
        const login = await request(app).post('/login').set('Cookie', cookiePair(setCookieOf(guest)!)).expect(200);
        devices.push(cookiePair(setCookieOf(login)!));
      }
      const bystander = cookiePair(setCookieOf(await request(app).post('/order/o3').expect(200))!);
      for (const cookie of devices) {
        expect((await request(app).get('/read').set('Cookie', cookie).expect(200)).body.user).toEqual({ id: 'u1', name: 'Ann' });
      }

      expect(await middleware.manager.deleteSessionsByUser('u1')).toHaveLength(2);

      for (const cookie of devices) {
        const res = await request(app).get('/read').set('Cookie', cookie).expect(200);
        expect(res.body).toEqual(emptyView);
        expect(cookieAttributes(setCookieOf(res)!)['max-age']).toBe('0');
      }
      expect((await request(app).get('/read').set('Cookie', bystander).expect(200)).body.order).toBe('o3');
    });
  });

  describe('lifecycle', () => {
    it('will-close listeners run after the response has been sent', async () => {
      const events: string[] = [];
      const { app } = setup({}, [
        {
          method: 'get',
          path: '/listen',
          handle: ({ session, res }) => {
            session.addWillCloseListener(() => {
              events.push(`listener finished=${res.writableFinished}`);
            });
            events.push('route');
            return { ok: true };
          },
        },
      ]);
      await request(app).get('/listen').expect(200);
      await vi.waitFor(() => expect(events).toHaveLength(2));
      expect(events).toEqual(['route', 'listener finished=true']);
    });

    it(`a route error (${framework.errorStyle}) closes the session with it, logged with the route`, async () => {
      const logs: SessionLog[] = [];
      const boom = new Error('boom');
      // Express 4's adapter passes the rejection to next(err); Express 5 and Koa take the async throw.
      const { app } = setup({ logs: { sink: (log) => void logs.push(log), logAll: true } }, [
        {
          method: 'get',
          path: '/boom',
          handle: async ({ session }) => {
            await session.set('before', 1);
            throw boom;
          },
        },
      ]);
      const res = await request(app).get('/boom').expect(500);
      expect(res.body).toMatchObject({ error: 'Error', message: 'boom' });
      await vi.waitFor(() => expect(logs).toHaveLength(1));
      expect(logs[0]).toMatchObject({ kind: 'request', route: 'GET /boom', error: boom, sessionId: expect.any(String) });
    });

    it('a route without error logs no error; the route names the pattern, not the id', async () => {
      const logs: SessionLog[] = [];
      const { app } = setup({ logs: { sink: (log) => void logs.push(log), logAll: true } });
      await request(app).post('/order/o42').expect(200);
      await vi.waitFor(() => expect(logs).toHaveLength(1));
      expect(logs[0]).toMatchObject({ route: 'POST /order/:id', error: undefined });
    });

    it('a client abort aborts req.session.signal before the will-close listeners run, then the session closes', async () => {
      const events: string[] = [];
      const reached = deferred();
      const release = deferred();
      const closed = deferred<Session>();
      const { app, middleware } = setup({}, [
        {
          method: 'get',
          path: '/slow',
          handle: async ({ session }) => {
            session.signal.addEventListener('abort', () => events.push(`abort ${(session.signal.reason as Error).name}`));
            session.addWillCloseListener((s) => {
              events.push(`listener aborted=${s.signal.aborted}`);
              closed.resolve(s);
            });
            reached.resolve();
            await release.promise;
            return { late: true };
          },
        },
      ]);
      const server = http.createServer(app).listen(0);
      try {
        await once(server, 'listening');
        const client = http.get({ port: (server.address() as AddressInfo).port, path: '/slow' });
        client.on('error', () => {}); // the socket hang-up we cause
        await reached.promise;
        expect(middleware.manager.openSessions).toBe(1);
        client.destroy();

        const session = await closed.promise;
        await vi.waitFor(() => expect(session.isClosed).toBe(true));
        expect(events).toEqual(['abort AbortError', 'listener aborted=true']);
        expect(middleware.manager.openSessions).toBe(0);
      } finally {
        release.resolve();
        server.closeAllConnections();
        server.close();
      }
    });

    it('a session captured in a timer that fires after the response throws SessionClosedError', async () => {
      const outcome = deferred<{ error: unknown; rejection: unknown; state: string; id: string | undefined }>();
      const { app } = setup({}, [
        {
          method: 'post',
          path: '/later',
          handle: async ({ session }) => {
            await session.set('x', 1);
            setTimeout(() => {
              let error: unknown;
              try {
                session.get('x');
              } catch (caught) {
                error = caught;
              }
              session.set('x', 2).then(
                () => outcome.resolve({ error, rejection: undefined, state: session.state, id: session.id }),
                (rejection: unknown) => outcome.resolve({ error, rejection, state: session.state, id: session.id }),
              );
            }, 100);
            return view(session);
          },
        },
      ]);
      const res = await request(app).post('/later').expect(200);
      const { error, rejection, state, id } = await outcome.promise;
      expect(error).toBeInstanceOf(SessionClosedError);
      expect(error).toMatchObject({ code: 'ERR_SESSION_CLOSED' });
      expect(rejection).toBeInstanceOf(SessionClosedError);
      expect(state).toBe('closed');
      expect(id).toBe(res.body.id); // id stays readable after close
    });
  });

  describe('store failure', () => {
    it('a rejecting store.get reaches the error handler as SessionStoreError (503) with req.session set, and recovers', async () => {
      const { app, store, middleware, errors } = setup();
      const created = await request(app).post('/order/o1').expect(200);
      const cookie = cookiePair(setCookieOf(created)!);
      await middleware.manager.clearCache(); // the next lookup must go to the store

      store.failing.add('get');
      const res = await request(app).get('/read').set('Cookie', cookie).expect(503);
      expect(res.body).toMatchObject({ error: 'SessionStoreError', code: 'ERR_SESSION_STORE', hasSession: true });
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(SessionStoreError);
      expect(errors[0]).toMatchObject({ status: 503, cause: expect.objectContaining({ code: 'ECONNREFUSED' }) });
      // A request without a token needs no store: unaffected.
      await request(app).get('/read').expect(200);

      store.failing.delete('get');
      const recovered = await request(app).get('/read').set('Cookie', cookie).expect(200);
      expect(recovered.body).toMatchObject({ id: created.body.id, order: 'o1' });
      expect(recovered.headers['set-cookie']).toBeUndefined(); // the failure did not make the client forget its token
    });
  });

  describe('concurrency', () => {
    it('20 parallel requests on one cookie, each setting its own key: all 20 keys survive', async () => {
      const { app, store } = setup();
      const created = await request(app).post('/order/o1').expect(200);
      const cookie = cookiePair(setCookieOf(created)!);

      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => request(app).post(`/set/k${i}/${i}`).set('Cookie', cookie)),
      );
      for (const res of results) {
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ ok: true });
        expect(res.headers['set-cookie']).toBeUndefined();
      }
      const expected = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]));
      expect((await store.get(created.body.id))?.data).toEqual(expected);
      const res = await request(app).get('/keys/20').set('Cookie', cookie).expect(200);
      expect(res.body).toEqual(expected);
    });

    it('a write racing a destroy does not bring the session back', async () => {
      const reached = deferred();
      const release = deferred();
      const { app, store } = setup({}, [
        {
          method: 'post',
          path: '/late-write',
          handle: async ({ session }) => {
            reached.resolve();
            await release.promise;
            const ok = await session.set('late', true);
            return { ok, id: session.id ?? null };
          },
        },
      ]);
      const created = await request(app).post('/order/o1').expect(200);
      const cookie = cookiePair(setCookieOf(created)!);

      const late = request(app).post('/late-write').set('Cookie', cookie).then((r) => r);
      await reached.promise;
      const logout = await request(app).post('/logout').set('Cookie', cookie).expect(200);
      expect(cookieAttributes(setCookieOf(logout)!)['max-age']).toBe('0');
      release.resolve();

      const lateRes = await late;
      expect(lateRes.status).toBe(200);
      expect(lateRes.body).toEqual({ ok: false, id: null });
      expect(cookieAttributes(setCookieOf(lateRes)!)['max-age']).toBe('0');
      expect(await store.get(created.body.id)).toBeUndefined();
      const res = await request(app).get('/read').set('Cookie', cookie).expect(200);
      expect(res.body).toEqual(emptyView);
    });
  });

  describe('options', () => {
    it('sessionMiddleware({ manager }) uses the given manager', async () => {
      const store = countingStore();
      const manager = createSessionManager({ store, secret: SECRET });
      managers.add(manager);
      const { app, middleware } = framework.mount({ manager });
      expect(middleware.manager).toBe(manager);
      const created = await request(app).post('/order/o1').expect(200);
      expect(store.calls.create).toBe(1);
      const res = await request(app).get('/read').set('Cookie', cookiePair(setCookieOf(created)!)).expect(200);
      expect(res.body.order).toBe('o1');
      expect(await manager.getSessionFromToken(cookieValue(setCookieOf(created)!))).toMatchObject({ activeOrderId: 'o1' });
    });

    it('`manager` combined with other options is a TypeError', () => {
      const manager = createSessionManager({ secret: SECRET });
      managers.add(manager);
      const options = { manager, secret: SECRET } as unknown as { manager: SessionManager };
      expect(() => framework.sessionMiddleware(options)).toThrow(TypeError);
      expect(() => framework.sessionMiddleware(options)).toThrow(/`manager`/);
    });

    it.each([
      ['duration', { duration: 'soon' }],
      ['tokenMethod', { tokenMethod: 'header' }],
      ['cookie.sameSite', { cookie: { sameSite: 'none' } }],
      ['durration', { durration: '1d' }],
    ])('a wrong option (%s) is a TypeError naming it, thrown by sessionMiddleware()', (option, options) => {
      const call = () => framework.sessionMiddleware({ secret: SECRET, ...options } as SessionOptions);
      expect(call).toThrow(TypeError);
      expect(call).toThrow(`\`${option}\``);
    });
  });
}

/**
 * Registers an `afterEach` (in the calling `describe`) that waits for every manager added to the
 * returned set to be back to zero open sessions, then closes it.
 */
export function trackManagers(): Set<SessionManager> {
  const managers = new Set<SessionManager>();
  afterEach(async () => {
    for (const manager of managers) {
      await vi.waitFor(() => expect(manager.openSessions).toBe(0), { timeout: 2_000 });
      await manager.close();
    }
    managers.clear();
  });
  return managers;
}

// ---------------------------------------------------------------------------------------

interface Context extends Mounted {
  store: CountingStore;
  /** The injected clock's time (used when the test passes `clock: () => ctx.now`). */
  now: number;
}

const emptyView = { id: null, order: null, user: null, strategy: null, authenticated: false, expiresAt: null };

/** A live session's token, created through the app. */
async function createToken(ctx: Context): Promise<string> {
  const res = await request(ctx.app).post('/order/o1').expect(200);
  return cookieValue(setCookieOf(res)!);
}

/** The token's id and secret under a tag made with `secret`. */
function retag(token: string, secret: string): string {
  return sign(token.slice(0, 80), secret);
}

async function destroyedToken(ctx: Context): Promise<string> {
  const token = await createToken(ctx);
  await request(ctx.app).post('/logout').set('Authorization', `Bearer ${token}`).expect(200);
  return token;
}

async function expiredToken(ctx: Context): Promise<string> {
  const token = await createToken(ctx);
  ctx.now += 31 * DAY;
  return token;
}

/** The same id and tag with another well-formed secret. */
function forgeSecret(token: string): string {
  const secret = token.slice(37, 80);
  const swapped = secret[0] === 'A' ? `B${secret.slice(1)}` : `A${secret.slice(1)}`;
  return `${token.slice(0, 37)}${swapped}${token.slice(80)}`;
}
