import { describe, expect, it } from 'vitest';
import { Session } from 'sojourn';
import { world } from './helpers/counting.js';

const MIN = 60_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('Session: reading a record', () => {
  it('createSession({ token }) sees the record', async () => {
    const { manager } = world();
    const { token, session: record } = await manager.createNewAuthenticatedSession({ id: 'u1', name: 'Ann' }, 'password');
    await manager.setActiveOrder(record, 'o-1');
    await using session = await manager.createSession({ token });
    expect(session).toBeInstanceOf(Session);
    expect(session.kind).toBe('internal');
    expect(session.id).toBe(record.id);
    expect(session.isAuthenticated).toBe(true);
    expect(session.user).toEqual({ id: 'u1', name: 'Ann' });
    expect(session.authenticationStrategy).toBe('password');
    expect(session.activeOrderId).toBe('o-1');
    expect(session.activeChannelId).toBeUndefined();
    expect(session.expiresAt).toBe(record.expiresAt);
  });

  it('an unknown, junk or expired token gives a session with no record', async () => {
    const { manager, advance } = world({ duration: '10m', absoluteDuration: '1h' });
    const { token } = await manager.createAnonymousSession();
    advance(10 * MIN);
    for (const presented of [token, 'junk', undefined]) {
      await using session = await manager.createSession({ token: presented });
      expect(session.id).toBeUndefined();
      expect(session.isAuthenticated).toBe(false);
      expect(session.get('anything')).toBeUndefined();
    }
  });

  it('get(key) reads the JSON data bag', async () => {
    const { manager } = world();
    await using session = await manager.createSession();
    await session.set('cart', { items: [1, 2] });
    expect(session.get('cart')).toEqual({ items: [1, 2] });
    expect(session.get('missing')).toBeUndefined();
  });
});

describe('Session: lazy creation', () => {
  it('a session that never writes creates no record', async () => {
    const { manager, store } = world();
    await manager.withSession((session) => {
      session.get('x');
      void session.isAuthenticated;
      void session.activeOrderId;
    });
    await manager.withSession((session) => session.unsetActiveOrder()); // clearing nothing creates nothing
    await manager.withSession((session) => session.unset('x'));
    expect(store.calls.create).toBe(0);
  });

  it('ensure() creates the anonymous record', async () => {
    const { manager, store, now } = world({ duration: '10m', absoluteDuration: '1h' });
    await using session = await manager.createSession();
    expect(session.id).toBeUndefined();
    await expect(session.ensure()).resolves.toBe(true);
    expect(store.calls.create).toBe(1);
    expect(session.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(session.isAuthenticated).toBe(false);
    expect(session.expiresAt).toBe(now() + 10 * MIN);
    expect(await store.inner.get(session.id!)).toMatchObject({ id: session.id, data: {} });
    await session.ensure();
    expect(store.calls.create).toBe(1);
  });

  it('concurrent first writes in one session create ONE record and all land', async () => {
    const { manager, store } = world();
    await using session = await manager.createSession();
    const results = await Promise.all([
      session.set('a', 1),
      session.set('b', 2),
      session.setActiveOrder('o'),
      session.setActiveChannel('c'),
      session.ensure(),
    ]);
    expect(results).toEqual([true, true, true, true, true]);
    expect(store.calls.create).toBe(1);
    const record = await store.inner.get(session.id!);
    expect(record).toMatchObject({ data: { a: 1, b: 2 }, activeOrderId: 'o', activeChannelId: 'c' });
  });
});

describe('Session: field-level writes', () => {
  it('two Session objects on one token writing different fields concurrently: every write survives', async () => {
    const { manager, store } = world();
    const { token, session: record } = await manager.createAnonymousSession();
    await using a = await manager.createSession({ token });
    await using b = await manager.createSession({ token });
    const writes: Promise<boolean>[] = [];
    for (let i = 0; i < 50; i++) writes.push((i % 2 === 0 ? a : b).set(`k${i}`, i));
    writes.push(a.setActiveOrder({ id: 'o-1' }), b.setActiveChannel('ch-1'));
    expect(await Promise.all(writes)).toEqual(writes.map(() => true));

    const expected = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    const stored = await store.inner.get(record.id);
    expect(stored).toMatchObject({ data: expected, activeOrderId: 'o-1', activeChannelId: 'ch-1' });

    const looked = await manager.getSessionFromToken(token);
    expect(looked).toMatchObject({ data: expected, activeOrderId: 'o-1', activeChannelId: 'ch-1' });
    await using fresh = await manager.createSession({ token });
    for (let i = 0; i < 50; i++) expect(fresh.get(`k${i}`)).toBe(i);

    // each writer sees at least its own writes
    for (let i = 0; i < 50; i += 2) expect(a.get(`k${i}`)).toBe(i);
    for (let i = 1; i < 50; i += 2) expect(b.get(`k${i}`)).toBe(i);
  });

  it('unset removes one key and keeps the rest', async () => {
    const { manager, store } = world();
    await using session = await manager.createSession();
    await session.set('a', 1);
    await session.set('b', 2);
    await expect(session.unset('a')).resolves.toBe(true);
    expect(session.get('a')).toBeUndefined();
    expect(session.get('b')).toBe(2);
    expect((await store.inner.get(session.id!))?.data).toEqual({ b: 2 });
  });

  it('set() stores a JSON copy: later changes to the value do not leak in', async () => {
    const { manager, store } = world();
    await using session = await manager.createSession();
    const value = { when: new Date(0), n: 1, skip: undefined as unknown };
    await session.set('v', value);
    value.n = 2;
    expect(session.get('v')).toEqual({ when: '1970-01-01T00:00:00.000Z', n: 1 });
    expect((await store.inner.get(session.id!))?.data).toEqual({ v: { when: '1970-01-01T00:00:00.000Z', n: 1 } });
  });

  it.each([
    ['undefined', undefined],
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a bigint', 10n],
    ['a cycle', (() => {
      const o: Record<string, unknown> = {};
      o.self = o;
      return o;
    })()],
  ])('set() of %s throws TypeError and writes nothing', async (_name, value) => {
    const { manager, store } = world();
    await using session = await manager.createSession();
    await expect(async () => session.set('k', value)).rejects.toThrow(TypeError);
    expect(store.calls.create + store.calls.update).toBe(0);
  });

  it('set() and unset() of an empty key throw TypeError', async () => {
    const { manager } = world();
    await using session = await manager.createSession();
    await expect(async () => session.set('', 1)).rejects.toThrow(TypeError);
    await expect(async () => session.unset('')).rejects.toThrow(TypeError);
  });

  it('the record view is frozen: the data bag cannot be mutated in place', async () => {
    const { manager } = world();
    await using session = await manager.createSession();
    await session.set('cart', { items: [1] });
    const cart = session.get<{ items: number[] }>('cart')!;
    expect(() => cart.items.push(2)).toThrow(TypeError);
  });
});

describe('Session: writes never resurrect a destroyed record', () => {
  it("destroy() on A, then a write on B: B's write resolves false and the record stays gone", async () => {
    const { manager, store } = world();
    const { token, session: record } = await manager.createAnonymousSession();
    await using a = await manager.createSession({ token });
    await using b = await manager.createSession({ token });
    const destroyed = a.destroy();
    const written = b.set('x', 1);
    await destroyed;
    await expect(written).resolves.toBe(false);
    expect(await store.inner.get(record.id)).toBeUndefined();
    await expect(manager.getSessionFromToken(token)).resolves.toBeUndefined();
    expect(b.id).toBeUndefined();
    expect(b.get('x')).toBeUndefined();
    // later writes on B are refused too, and do not start a new record
    await expect(b.setActiveOrder(1)).resolves.toBe(false);
    await expect(b.ensure()).resolves.toBe(false);
    expect(store.calls.create).toBe(1);
  });

  it("a write of B in flight (slow store) when A destroys: false, and nothing comes back", async () => {
    const { manager, store } = world();
    const { token, session: record } = await manager.createAnonymousSession();
    await using a = await manager.createSession({ token });
    await using b = await manager.createSession({ token });
    store.before = (op) => (op === 'update' ? sleep(20) : undefined);
    const written = b.set('x', 1); // counted, waiting in front of the store
    await sleep(1);
    expect(store.calls.update).toBe(1);
    await a.destroy();
    await expect(written).resolves.toBe(false);
    expect(await store.inner.get(record.id)).toBeUndefined();
    await expect(manager.getSessionFromToken(token)).resolves.toBeUndefined();
    expect(b.id).toBeUndefined();
    expect(store.calls.create).toBe(1);
  });

  it('a revoke through the manager is seen by an open session as lost', async () => {
    const { manager, store } = world();
    const { token, session: record } = await manager.createNewAuthenticatedSession({ id: 'u' }, 'password');
    await using s = await manager.createSession({ token });
    await manager.deleteSessionsByUser('u');
    await expect(s.set('x', 1)).resolves.toBe(false);
    expect(s.id).toBeUndefined();
    expect(await store.inner.get(record.id)).toBeUndefined();
  });

  it('destroy() then a write on the same session starts a new anonymous record', async () => {
    const { manager, store } = world();
    const { token, session: record } = await manager.createAnonymousSession();
    await using s = await manager.createSession({ token });
    await s.destroy();
    expect(s.id).toBeUndefined();
    await expect(manager.getSessionFromToken(token)).resolves.toBeUndefined();
    await expect(s.set('x', 1)).resolves.toBe(true);
    expect(s.id).toBeDefined();
    expect(s.id).not.toBe(record.id);
    expect(store.calls.create).toBe(2);
    expect(await store.inner.get(record.id)).toBeUndefined();
  });

  it('destroy() of a session with no record does nothing', async () => {
    const { manager, store } = world();
    await using s = await manager.createSession();
    await s.destroy();
    expect(store.calls.delete + store.calls.create).toBe(0);
  });
});

describe('Session: authenticate', () => {
  it('issues a new id, supersedes the guest record and carries its active order, channel and data', async () => {
    const { manager, store } = world();
    await using s = await manager.createSession();
    await s.set('cart-note', 'gift');
    await s.setActiveOrder({ id: 'o-1' });
    await s.setActiveChannel('eu');
    const guestId = s.id!;
    await s.authenticate({ id: 'u1', name: 'Ann' }, 'password');
    expect(s.id).toBeDefined();
    expect(s.id).not.toBe(guestId);
    expect(s.isAuthenticated).toBe(true);
    expect(s.authenticationStrategy).toBe('password');
    expect(s.activeOrderId).toBe('o-1');
    expect(s.activeChannelId).toBe('eu');
    expect(s.get('cart-note')).toBe('gift');
    expect(await store.inner.get(guestId)).toMatchObject({ supersededUntil: expect.any(Number) }); // for the login race's grace window
    expect(await store.inner.get(s.id!)).toMatchObject({ userId: 'u1', activeOrderId: 'o-1', data: { 'cart-note': 'gift' } });
    expect((await manager.listSessionsByUser('u1')).map((x) => x.id)).toEqual([s.id]);
  });

  it('the guest token no longer resolves; the new record is reachable', async () => {
    const { manager } = world();
    const guest = await manager.createAnonymousSession();
    await using s = await manager.createSession({ token: guest.token });
    await s.authenticate({ id: 'u1' }, 'password');
    await expect(manager.getSessionFromToken(guest.token)).resolves.toBeUndefined();
    await expect(manager.listSessionsByUser('u1')).resolves.toHaveLength(1);
  });

  it('calls a custom mergeActiveOrder({ guestOrderId, user }) and uses its answer', async () => {
    const calls: unknown[] = [];
    const { manager } = world({
      mergeActiveOrder: async (input) => {
        calls.push(input);
        return `merged-${String(input.guestOrderId)}-for-${String(input.user.id)}`;
      },
    });
    await using s = await manager.createSession();
    await s.setActiveOrder('g-7');
    await s.authenticate({ id: 'u1', role: 'x' }, 'password');
    expect(calls).toEqual([{ guestOrderId: 'g-7', user: { id: 'u1', role: 'x' } }]);
    expect(s.activeOrderId).toBe('merged-g-7-for-u1');
  });

  it('mergeActiveOrder returning undefined leaves no active order', async () => {
    const { manager } = world({ mergeActiveOrder: () => undefined });
    await using s = await manager.createSession();
    await s.setActiveOrder('g-7');
    await s.authenticate({ id: 'u1' }, 'password');
    expect(s.activeOrderId).toBeUndefined();
  });

  it('authenticate with no guest record: guestOrderId undefined, no guest deleted', async () => {
    const seen: unknown[] = [];
    const { manager, store } = world({ mergeActiveOrder: (input) => void seen.push(input.guestOrderId) });
    await using s = await manager.createSession();
    await s.authenticate({ id: 'u1' }, 'password');
    expect(seen).toEqual([undefined]);
    expect(store.calls.delete).toBe(0);
    expect(store.calls.create).toBe(1);
  });

  it('carries the order and data another request wrote to the same guest meanwhile', async () => {
    const { manager } = world();
    const guest = await manager.createAnonymousSession();
    await using loginRequest = await manager.createSession({ token: guest.token });
    await using cartRequest = await manager.createSession({ token: guest.token });
    await cartRequest.setActiveOrder('o-from-other-tab');
    await cartRequest.set('coupon', 'SPRING');
    await loginRequest.authenticate({ id: 'u1' }, 'password');
    expect(loginRequest.activeOrderId).toBe('o-from-other-tab');
    expect(loginRequest.get('coupon')).toBe('SPRING');
  });

  it('the user is a JSON snapshot, deep-frozen: mutating session.user throws (strict mode)', async () => {
    const { manager } = world();
    await using s = await manager.createSession();
    const user = { id: 'u1', name: 'Ann', roles: ['buyer'], since: new Date(0) };
    await s.authenticate(user, 'password');
    user.name = 'Bob';
    user.roles.push('admin');
    expect(s.user).toEqual({ id: 'u1', name: 'Ann', roles: ['buyer'], since: '1970-01-01T00:00:00.000Z' });
    expect(Object.isFrozen(user)).toBe(false); // the caller's object is not frozen
    const snapshot = s.user as unknown as { name: string; roles: string[] };
    expect(() => {
      snapshot.name = 'Eve';
    }).toThrow(TypeError);
    expect(() => snapshot.roles.push('root')).toThrow(TypeError);
  });

  it('rejects a user that is not JSON or has no id', async () => {
    const { manager } = world();
    await using s = await manager.createSession();
    await expect(s.authenticate({ id: 1n } as never, 'password')).rejects.toThrow(TypeError);
    await expect(s.authenticate({ name: 'x' } as never, 'password')).rejects.toThrow(TypeError);
    expect(s.isAuthenticated).toBe(false);
  });
});
