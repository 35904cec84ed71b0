/**
 * `Secure` follows the request: a request that came over TLS, as the framework sees it behind a
 * proxy it trusts (Express `trust proxy`, Koa `app.proxy`), gets a Secure cookie; production
 * always does; `cookie.secure` set either way wins.
 */
import express5 from 'express';
import express4 from 'express4';
import Koa3 from 'koa';
import Koa2 from 'koa2';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sessionMiddleware, type SessionManager, type SessionOptions } from '../../lib/index.js';
import { sessionMiddleware as koaSessionMiddleware } from '../../lib/koa.js';
import { cookieAttributes, setCookieOf } from '../helpers/http.js';
import { TEST_SECRET } from '../helpers/records.js';
import { captureWarnings } from '../helpers/warnings.js';

const managers: SessionManager[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

type App = (options: SessionOptions, trustProxy: boolean) => Parameters<typeof request>[0];

const expressApp = (express: typeof express5): App => (options, trustProxy) => {
  const middleware = sessionMiddleware({ secret: TEST_SECRET, ...options });
  managers.push(middleware.manager);
  const app = express();
  app.set('trust proxy', trustProxy);
  app.use(middleware);
  app.post('/write', async (req, res) => {
    await req.session.set('k', 1);
    res.end();
  });
  return app;
};

const koaApp = (Koa: typeof Koa3): App => (options, trustProxy) => {
  const middleware = koaSessionMiddleware({ secret: TEST_SECRET, ...options });
  managers.push(middleware.manager);
  const app = new Koa();
  app.proxy = trustProxy;
  app.use(middleware);
  app.use(async (ctx) => {
    await ctx.session.set('k', 1);
    ctx.status = 204;
  });
  return app.callback();
};

describe.each([
  ['express 4', expressApp(express4 as unknown as typeof express5)],
  ['express 5', expressApp(express5)],
  ['koa 2', koaApp(Koa2 as unknown as typeof Koa3)],
  ['koa 3', koaApp(Koa3)],
])('%s: the Secure attribute', (_name, app) => {
  const secureOf = async (options: SessionOptions, trustProxy: boolean, proto?: string) => {
    const req = request(app(options, trustProxy)).post('/write');
    if (proto) req.set('X-Forwarded-Proto', proto);
    return cookieAttributes(setCookieOf(await req)!).secure === true;
  };

  it('behind a trusted proxy that says https: Secure', async () => {
    expect(await secureOf({}, true, 'https')).toBe(true);
  });

  it('the same header without trust in the proxy, or over plain http: not Secure', async () => {
    expect(await secureOf({}, false, 'https')).toBe(false);
    expect(await secureOf({}, true, 'http')).toBe(false);
    expect(await secureOf({}, true)).toBe(false);
  });

  it('production: Secure whatever the request (NODE_ENV in any case)', async () => {
    captureWarnings('SOJOURN_MEMORY_STORE');
    vi.stubEnv('NODE_ENV', 'PRODUCTION');
    expect(await secureOf({}, false)).toBe(true);
  });

  it('cookie.secure, when given, wins', async () => {
    expect(await secureOf({ cookie: { secure: true } }, false)).toBe(true);
    expect(await secureOf({ cookie: { secure: false } }, true, 'https')).toBe(false);
  });
});
