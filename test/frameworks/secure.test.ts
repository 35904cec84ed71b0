/**
 * `Secure` follows the request: a request that came over TLS, as the framework sees it behind a
 * proxy it trusts (Express `trust proxy`, Koa `app.proxy`), gets a Secure cookie; production
 * always does; `cookie.secure` set either way wins.
 */
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SessionManager, SessionOptions } from '../../lib/index.js';
import { cookieAttributes, setCookieOf } from '../helpers/http.js';
import { TEST_SECRET } from '../helpers/records.js';
import { captureWarnings } from '../helpers/warnings.js';
import { FRAMEWORKS } from './frameworks.js';

const managers: SessionManager[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

describe.each(FRAMEWORKS)('$name: the Secure attribute', (framework) => {
  const secureOf = async (options: SessionOptions, trustProxy: boolean, proto?: string) => {
    const { app, middleware } = framework.mount({ secret: TEST_SECRET, ...options }, [], { trustProxy });
    managers.push(middleware.manager);
    const req = request(app).post('/set/k/1');
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
