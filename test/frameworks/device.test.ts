/**
 * What device lists show: the client's User-Agent (cut) and address (through a proxy only when
 * the app trusts it), taken when a record is created or logged in, and `lastSeenAt` written at most
 * once per `device.lastSeenEvery`, never once per request.
 */
import http from 'node:http';
import request from 'supertest';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import type { SessionManager, SessionOptions } from '../../lib/index.js';
import { world } from '../helpers/counting.js';
import { cookieValue, setCookieOf, tokenCookie } from '../helpers/http.js';
import { TEST_SECRET } from '../helpers/records.js';
import { report } from '../reliability/figures.js';
import { client, listen } from '../reliability/client.js';
import { appOf, FRAMEWORKS, type AppSettings } from './frameworks.js';

const managers: SessionManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

const HOUR = 3_600_000;

describe.each(FRAMEWORKS)('$name: device fields', (framework) => {
  /** The record a first write made, as the store keeps it. */
  async function created(options: SessionOptions, settings: AppSettings, headers: Record<string, string>) {
    const { app, middleware } = framework.mount({ secret: TEST_SECRET, ...options }, [], settings);
    managers.push(middleware.manager);
    const res = await request(app).post('/set/k/1').set(headers);
    const token = cookieValue(setCookieOf(res)!);
    return { app, manager: middleware.manager, token, record: (await middleware.manager.getSessionFromToken(token))! };
  }

  it('keeps the User-Agent, cut to 512 characters, and the peer address; X-Forwarded-For is ignored without trust', async () => {
    const { record } = await created({}, { trustProxy: false }, { 'user-agent': `Mozilla/5.0 ${'x'.repeat(2_000)}`, 'x-forwarded-for': '203.0.113.9' });
    expect(record.userAgent).toHaveLength(512);
    expect(record.userAgent!.startsWith('Mozilla/5.0 x')).toBe(true);
    expect(record.ip).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/);
    expect(record.lastSeenAt).toBe(record.createdAt);
  });

  it('behind a trusted proxy, the address the proxy forwarded', async () => {
    const { record } = await created({}, { trustProxy: true }, { 'user-agent': 'curl/8.5', 'x-forwarded-for': '203.0.113.9' });
    expect(record).toMatchObject({ userAgent: 'curl/8.5', ip: '203.0.113.9' });
  });

  it('device: { ip: false, userAgent: false } keeps neither', async () => {
    const { record } = await created({ device: { ip: false, userAgent: false } }, { trustProxy: true }, { 'user-agent': 'curl/8.5', 'x-forwarded-for': '203.0.113.9' });
    expect(record).not.toHaveProperty('ip');
    expect(record).not.toHaveProperty('userAgent');
  });

  it('a login takes the device of the request that logs in; listSessionsByUser shows it', async () => {
    const { app, manager, token } = await created({}, { trustProxy: true }, { 'user-agent': 'Guest/1', 'x-forwarded-for': '198.51.100.1' });
    await request(app).post('/login').set({ cookie: tokenCookie(token), 'user-agent': 'Firefox/133', 'x-forwarded-for': '198.51.100.2' });
    const [device] = await manager.listSessionsByUser('u1');
    expect(device).toMatchObject({ userAgent: 'Firefox/133', ip: '198.51.100.2', authenticationStrategy: 'password' });
    expect(device).toHaveProperty('lastSeenAt');
    expect(device).toHaveProperty('createdAt');
  });
});

describe('lastSeenAt', () => {
  /** 1,000 requests over real HTTP, the clock 36 s further at each (10 hours in all); the store's writes counted. */
  async function writesOver1000Requests(options: SessionOptions) {
    const { manager, store, advance, now } = world({ duration: '30d', ...options });
    managers.push(manager);
    const server = http.createServer(appOf(manager));
    const http1 = client(await listen(server)); // one keep-alive connection, as a browser would hold
    onTestFinished(() => {
      http1.close();
      server.close();
    });
    const res = await http1.send('POST', '/set/k/1');
    const token = cookieValue(setCookieOf(res)!);
    store.reset();
    for (let i = 0; i < 1_000; i++) {
      advance(36_000);
      expect((await http1.send('GET', '/read', { cookie: tokenCookie(token) })).status).toBe(200);
    }
    const record = (await store.inner.get(token.split('.')[0]!))!;
    return { writes: store.calls.update, lastSeenAt: record.lastSeenAt, now: now() };
  }

  it('1,000 requests over 10 hours: one write per hour by default, none with `false`, 111 every 5 minutes', async () => {
    const hourly = await writesOver1000Requests({});
    const never = await writesOver1000Requests({ device: { lastSeenEvery: false } });
    const often = await writesOver1000Requests({ device: { lastSeenEvery: '5m' } });
    report('lastSeenAt writes under 1,000 requests over 10 hours', { default1h: hourly.writes, off: never.writes, every5m: often.writes });
    expect(hourly.writes).toBe(10);
    expect(hourly.lastSeenAt).toBe(hourly.now); // the 1,000th request was 10 h in: due, written
    expect(never.writes).toBe(0);
    expect(often.writes).toBe(Math.floor(1_000 / Math.ceil(300 / 36))); // due at the 9th request of 36 s after each write
  }, 60_000);

  it('a renewal writes lastSeenAt with the new expiry (one write, not two)', async () => {
    const { manager, store, advance } = world({ duration: '2h', device: { lastSeenEvery: '1h' } });
    managers.push(manager);
    const { token, session } = await manager.createAnonymousSession();
    store.reset();
    advance(HOUR + 1); // past half of 2 h: renewal due, and lastSeen due
    const renewed = (await manager.getSessionFromToken(token))!;
    expect(store.calls.update).toBe(1);
    expect(renewed.expiresAt).toBeGreaterThan(session.expiresAt);
    expect(renewed.lastSeenAt).toBe(session.createdAt + HOUR + 1);
  });

  it('wrong device options fail at start-up, naming the option', () => {
    expect(() => world({ device: { ip: 'no' as never } })).toThrow(/`device.ip` must be a boolean/);
    expect(() => world({ device: { lastSeenEvery: '10ms' } })).toThrow(/`device.lastSeenEvery` must be a duration/);
    expect(() => world({ device: { trustProxy: true } as never })).toThrow(/`device.trustProxy` is not a sojourn device option/);
  });
});
