import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSessionManager, type SessionManager } from '../../lib/manager.js';
import type { SessionLog } from '../../lib/logs/types.js';
import { websocketSessions, sessionOf } from '../../lib/websocket.js';
import { countingStore } from '../helpers/counting.js';
import { captureWarnings } from '../helpers/warnings.js';
import { cookiePair, setCookieOf } from '../helpers/http.js';
import { bearer, closeHarnesses, closedWith, connect, connected, harness, request } from './harness.js';

const managers: SessionManager[] = [];
afterEach(async () => {
  await closeHarnesses();
  await Promise.all(managers.splice(0).map((m) => m.close()));
});

function manager(options: Parameters<typeof createSessionManager>[0] = {}): SessionManager {
  const m = createSessionManager({ secret: 'ws-test-secret', cleanupInterval: false, ...options });
  managers.push(m);
  return m;
}

async function loginCookie(h: { http: import('supertest').Agent | ReturnType<typeof import('supertest')> }, user: string): Promise<string> {
  const res = await h.http.post('/login').send({ user }).expect(200);
  return cookiePair(setCookieOf(res)!);
}

describe('websocketSessions: the upgrade', () => {
  it('a real client with the login cookie gets a kind websocket session of that user', async () => {
    const m = manager();
    const h = await harness(m, { require: 'user' });
    const cookie = await loginCookie(h, 'ann');
    const { ws, greeting } = await connected(h.url, { cookie });
    expect(greeting).toMatchObject({ kind: 'websocket', user: { id: 'ann' }, id: expect.any(String) });
    expect(h.sockets.size).toBe(1);
    expect(m.openSessions).toBe(1);
    ws.close();
  });

  it('a real client with a bearer token (the headers option) gets its session', async () => {
    const m = manager();
    const h = await harness(m, { require: 'session' });
    const { token, session } = await m.createNewAuthenticatedSession({ id: 'bob' }, 'password');
    const { ws, greeting } = await connected(h.url, bearer(token));
    expect(greeting).toEqual({ kind: 'websocket', id: session.id, user: { id: 'bob' } });
    ws.close();
  });

  it.each([
    ['a junk bearer token', bearer('junk')],
    ['a well-formed but unknown token', bearer(`0190a3c2-0000-7000-8000-000000000000.${'A'.repeat(43)}`)],
    ['no token at all', {}],
  ])('refuses %s with 401 at the upgrade when a session is required, and leaves no session open', async (_name, headers) => {
    const m = manager();
    const h = await harness(m, { require: 'session' });
    const result = await connect(h.url, headers);
    expect(result).toMatchObject({ status: 401 });
    expect(h.connected).toHaveLength(0);
    await vi.waitFor(() => expect(m.openSessions).toBe(0));
  });

  it("require 'user' refuses a valid anonymous session; require 'session' accepts it", async () => {
    const m = manager();
    const { token } = await m.createAnonymousSession();
    const strict = await harness(m, { require: 'user' });
    expect(await connect(strict.url, bearer(token))).toMatchObject({ status: 401 });
    const loose = await harness(m, { require: 'session' });
    const { ws, greeting } = await connected(loose.url, bearer(token));
    expect(greeting).toMatchObject({ kind: 'websocket', user: null, id: expect.any(String) });
    ws.close();
  });

  it('without require, anyone connects; a junk token leaves an empty session', async () => {
    const m = manager();
    const h = await harness(m);
    const { ws, greeting } = await connected(h.url, bearer('junk'));
    expect(greeting).toEqual({ kind: 'websocket', id: null, user: null });
    ws.close();
  });

  it('a forged cookie is refused with 401 and the refusal tells the browser to forget it', async () => {
    const m = manager();
    const h = await harness(m, { require: 'user' });
    const cookie = await loginCookie(h, 'ann');
    const forged = cookie.slice(0, -4) + 'AAAA';
    const result = await connect(h.url, { cookie: forged });
    expect(result).toMatchObject({ status: 401 });
    const cleared = setCookieOf(result as { headers: Record<string, string | string[] | undefined> });
    expect(cleared).toMatch(/^session=;/);
    expect(cleared).toMatch(/Max-Age=0/);
  });

  it('reads the token from a query parameter only when opted in, and keeps it out of the log route', async () => {
    const logs: SessionLog[] = [];
    const m = manager({ logs: { sink: (log) => void logs.push(log), logAll: true } });
    const { token } = await m.createNewAuthenticatedSession({ id: 'cy' }, 'password');
    const plain = await harness(m, { require: 'user' });
    const query = `token=${encodeURIComponent(token)}`; // the tag is base64: `+` and `/` must be encoded in a URL
    expect(await connect(`${plain.url}/live?${query}`)).toMatchObject({ status: 401 });
    const opted = await harness(m, { require: 'user', queryParam: 'token' });
    const { ws, greeting } = await connected(`${opted.url}/live?${query}`);
    expect(greeting.user).toEqual({ id: 'cy' });
    const gone = once(ws, 'close');
    ws.close();
    await gone;
    await vi.waitFor(() => expect(logs.filter((log) => log.kind === 'websocket' && log.userId === 'cy')).toHaveLength(1));
    expect(logs.map((log) => log.route)).toContain('GET /live');
    expect(JSON.stringify(logs)).not.toContain(token.slice(37));
  });

  it('refuses an Origin outside `origins` with 403', async () => {
    const m = manager();
    const h = await harness(m, { origins: ['https://shop.example'] });
    expect(await connect(h.url, { origin: 'https://evil.example' })).toMatchObject({ status: 403 });
    expect(m.openSessions).toBe(0); // refused before any session was opened
    const { ws, greeting } = await connected(h.url, { origin: 'https://shop.example' });
    expect(greeting.kind).toBe('websocket');
    ws.close();
  });

  it('a renewal during the handshake sends the new expiry in the 101 (Set-Cookie)', async () => {
    let now = Date.UTC(2030, 0, 1);
    const m = manager({ clock: () => now, duration: '10d' });
    const h = await harness(m, { require: 'user' });
    const cookie = await loginCookie(h, 'ann');
    now += 6 * 86_400_000; // less than half of the idle lifetime left: the next use renews
    const { ws, upgradeHeaders } = await connected(h.url, { cookie });
    const renewed = setCookieOf({ headers: upgradeHeaders });
    expect(renewed).toMatch(/Max-Age=864000/);
    expect(cookiePair(renewed!)).toBe(cookie); // same token, later expiry
    ws.close();
  });

  it('a store failure at the upgrade is a 503, and the session is closed with the error', async () => {
    const logs: SessionLog[] = [];
    const store = countingStore(); // the real memory store, with a hook to break it on purpose
    const m = manager({ store, cache: false, logs: { sink: (log) => void logs.push(log) } });
    const { token } = await m.createNewAuthenticatedSession({ id: 'dee' }, 'password');
    store.before = (op) => {
      if (op === 'get') throw new Error('store down');
    };
    const h = await harness(m, { require: 'user' });
    expect(await connect(h.url, bearer(token))).toMatchObject({ status: 503 });
    await vi.waitFor(() => expect(logs).toHaveLength(1));
    expect(logs[0]).toMatchObject({ kind: 'websocket', error: expect.objectContaining({ code: 'ERR_SESSION_STORE' }) });
    expect(m.openSessions).toBe(0);
  });
});

describe('websocketSessions: the session follows the socket', () => {
  it('closes when the client closes: listeners run, signal aborted, openSessions back to 0', async () => {
    const m = manager();
    const h = await harness(m, { require: 'user' });
    const cookie = await loginCookie(h, 'ann');
    const { ws } = await connected(h.url, { cookie });
    const { session } = h.connected[0]!;
    const events: string[] = [];
    session.signal.addEventListener('abort', () => events.push('aborted'));
    const closed = new Promise<void>((resolve) =>
      session.addWillCloseListener((s) => {
        events.push(`listener state=${s.state}`);
        resolve();
      }),
    );
    expect(m.openSessions).toBe(1);
    ws.close(1000, 'bye');
    await closed;
    await vi.waitFor(() => expect(session.state).toBe('closed'));
    expect(events).toEqual(['aborted', 'listener state=closing']);
    expect(m.openSessions).toBe(0);
    expect(h.sockets.size).toBe(0);
    expect(() => session.user).toThrow(expect.objectContaining({ code: 'ERR_SESSION_CLOSED' }));
    expect(sessionOf(h.connected[0]!.ws)).toBe(session);
  });

  it('a socket error closes the session with that error (logged as failed)', async () => {
    const logs: SessionLog[] = [];
    const m = manager({ logs: { sink: (log) => void logs.push(log), logAll: false } });
    const h = await harness(m, {}, { maxPayload: 16 });
    const { ws } = await connected(h.url);
    const closed = closedWith(ws);
    ws.send('x'.repeat(64)); // over maxPayload: the server's ws emits 'error' and closes 1009
    expect((await closed).code).toBe(1009);
    await vi.waitFor(() => expect(logs.filter((log) => !log.open)).toHaveLength(1));
    expect(logs.at(-1)).toMatchObject({ kind: 'websocket', open: false, slow: false, error: expect.any(RangeError) });
    expect(m.openSessions).toBe(0);
  });

  it('closing the manager closes the sockets (1001)', async () => {
    const m = manager();
    const h = await harness(m);
    const { ws } = await connected(h.url);
    const closed = closedWith(ws);
    await m.close();
    expect(await closed).toEqual({ code: 1001, reason: 'session closed' });
  });

  it('sockets.close() closes every socket and stops listening for revocations', async () => {
    const m = manager();
    const h = await harness(m);
    const first = await connected(h.url);
    const second = await connected(h.url);
    const closed = [closedWith(first.ws), closedWith(second.ws)];
    await h.sockets.close();
    expect((await Promise.all(closed)).map((c) => c.code)).toEqual([1001, 1001]);
    expect(m.openSessions).toBe(0);
  });

  it('sessionOf refuses a socket it did not upgrade', async () => {
    const m = manager();
    const h = await harness(m);
    const { ws } = await connected(h.url);
    expect(() => sessionOf(ws)).toThrow(TypeError); // the client side is not ours
    ws.close();
  });
});

describe('websocketSessions: revocation and token changes', () => {
  it('deleteSessionsByUser closes that user’s sockets with 4401, others stay open', async () => {
    const m = manager();
    const h = await harness(m, { require: 'user' });
    const ann = await connected(h.url, { cookie: await loginCookie(h, 'ann') });
    const ann2 = await connected(h.url, { cookie: await loginCookie(h, 'ann') });
    const bob = await connected(h.url, { cookie: await loginCookie(h, 'bob') });
    const closed = [closedWith(ann.ws), closedWith(ann2.ws)];
    expect(await m.deleteSessionsByUser('ann')).toHaveLength(2);
    expect(await Promise.all(closed)).toEqual([
      { code: 4401, reason: 'session revoked' },
      { code: 4401, reason: 'session revoked' },
    ]);
    await vi.waitFor(() => expect(m.openSessions).toBe(1));
    expect(bob.ws.readyState).toBe(bob.ws.OPEN);
    bob.ws.close();
  });

  it('deleteSession closes the socket with the configured code', async () => {
    const m = manager();
    const h = await harness(m, { require: 'user', revokedCode: 4000 });
    const { ws, greeting } = await connected(h.url, { cookie: await loginCookie(h, 'ann') });
    const closed = closedWith(ws);
    await m.deleteSession(greeting.id!);
    expect((await closed).code).toBe(4000);
  });

  it('authenticate on a socket moves it to a new record without closing it; onToken hands the token over', async () => {
    const m = manager();
    const handed: (string | undefined)[] = [];
    const h = await harness(m, { onToken: (_ws, token) => handed.push(token) });
    const { ws } = await connected(h.url);
    const guest = await request(ws, 'set:cart');
    const user = await request(ws, 'login:ann');
    expect(user.id).not.toBe(guest.id);
    await new Promise((resolve) => setImmediate(resolve)); // past the deferred revoke check
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ws.readyState).toBe(ws.OPEN); // the guest record's revoke was not this socket's end
    expect(handed).toHaveLength(2);
    expect(await m.getSessionFromToken(handed[1]!)).toMatchObject({ id: user.id, userId: 'ann' });
    expect(await m.getSessionFromToken(handed[0]!)).toBeUndefined(); // the guest record is gone
    ws.close();
  });

  it('destroy() on the socket tells onToken to forget the token and leaves the socket open, empty', async () => {
    const m = manager();
    const handed: (string | undefined)[] = [];
    const h = await harness(m, { require: 'user', onToken: (_ws, token) => handed.push(token) });
    const { ws, greeting } = await connected(h.url, { cookie: await loginCookie(h, 'ann') });
    expect(await request(ws, 'logout')).toEqual({ done: 'logout', id: null });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(handed).toEqual([undefined]);
    expect(ws.readyState).toBe(ws.OPEN);
    expect(await m.store.get(greeting.id!)).toBeUndefined();
    ws.close();
  });

  it('without onToken, a token created on a socket warns SOJOURN_WEBSOCKET_TOKEN once', async () => {
    const m = manager();
    const h = await harness(m);
    const capture = captureWarnings('SOJOURN_WEBSOCKET_TOKEN');
    try {
      const { ws } = await connected(h.url);
      await request(ws, 'set:cart');
      await vi.waitFor(() => expect(capture.warnings).toHaveLength(1));
      ws.close();
    } finally {
      capture.stop();
    }
  });
});

describe('websocketSessions: logs', () => {
  it('entries arrive while the socket is open; the close arrives last, never slow', async () => {
    let now = Date.UTC(2030, 0, 1);
    const logs: SessionLog[] = [];
    const m = manager({ clock: () => now, logs: { sink: (log) => void logs.push(log), logAll: false, slowMs: 10 } });
    const h = await harness(m, { require: 'user' });
    const { ws } = await connected(h.url, { cookie: await loginCookie(h, 'ann') });
    logs.length = 0; // the login request
    await request(ws, 'log:first');
    expect(logs).toHaveLength(1); // before the socket closes
    expect(logs[0]).toMatchObject({ kind: 'websocket', open: true, userId: 'ann', entries: [expect.objectContaining({ message: 'first' })] });
    now += 60_000;
    await request(ws, 'log:second');
    expect(logs).toHaveLength(2);
    expect(logs[1]).toMatchObject({ open: true, duration: 60_000, entries: [expect.objectContaining({ message: 'second' })] });
    ws.close();
    await vi.waitFor(() => expect(logs).toHaveLength(3));
    expect(logs[2]).toMatchObject({ open: false, slow: false, duration: 60_000, entries: [], error: undefined });
  });

  it('a quiet socket with logAll off logs nothing', async () => {
    const logs: SessionLog[] = [];
    const m = manager({ logs: { sink: (log) => void logs.push(log), logAll: false } });
    const h = await harness(m);
    const { ws } = await connected(h.url);
    ws.close();
    await vi.waitFor(() => expect(m.openSessions).toBe(0));
    expect(logs).toEqual([]);
  });
});

describe('websocketSessions: options', () => {
  it.each([
    ['manager', { manager: {} }],
    ['require', { require: 'admin' }],
    ['queryParam', { queryParam: '' }],
    ['origins', { origins: 'https://a.example' }],
    ['revokedCode', { revokedCode: 1006 }],
    ['revokedCode', { revokedCode: 5000 }],
    ['onToken', { onToken: 'send' }],
  ])('refuses a wrong `%s` with a TypeError naming it', (option, input) => {
    const m = manager();
    expect(() => websocketSessions({ manager: m, ...input } as never)).toThrow(TypeError);
    expect(() => websocketSessions({ manager: m, ...input } as never)).toThrow(`\`${option}\``);
  });
});
