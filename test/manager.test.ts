import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { countingCache, countingStore, settle, world } from './helpers/counting.js';
import { captureWarnings } from './helpers/warnings.js';

const MIN = 60_000;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('manager writes: setActiveOrder / unsetActiveOrder / setActiveChannel', () => {
  it('return a new frozen CachedSession and refresh the cache: the next lookup sees it with no store read', async () => {
    const { manager, store } = world();
    const { token, session } = await manager.createAnonymousSession();

    const withOrder = await manager.setActiveOrder(session, { id: 'order-1' });
    expect(withOrder).not.toBe(session);
    expect(withOrder).toMatchObject({ id: session.id, activeOrderId: 'order-1', version: session.version + 1 });
    expect(Object.isFrozen(withOrder)).toBe(true);
    expect(session.activeOrderId).toBeUndefined(); // the old snapshot is untouched
    expect((await manager.getSessionFromToken(token))?.activeOrderId).toBe('order-1');

    const withChannel = await manager.setActiveChannel(withOrder!, 7);
    expect(withChannel).toMatchObject({ activeOrderId: 'order-1', activeChannelId: 7 });
    expect((await manager.getSessionFromToken(token))?.activeChannelId).toBe(7);

    const unset = await manager.unsetActiveOrder(withChannel!);
    expect(unset?.activeOrderId).toBeUndefined();
    expect(unset?.activeChannelId).toBe(7);
    const seen = await manager.getSessionFromToken(token);
    expect(seen?.activeOrderId).toBeUndefined();
    expect(seen?.version).toBe(unset?.version);

    expect(store.calls.get).toBe(0);
    expect(store.calls.update).toBe(3);
    expect((await store.inner.get(session.id))?.activeChannelId).toBe(7);
  });

  it('are field-level: a write from a stale snapshot keeps the other fields', async () => {
    const { manager } = world();
    const { token, session } = await manager.createAnonymousSession();
    await manager.setActiveOrder(session, 1);
    await manager.setActiveChannel(session, 'eu'); // `session` does not know about the order
    expect(await manager.getSessionFromToken(token)).toMatchObject({ activeOrderId: 1, activeChannelId: 'eu' });
  });

  it('reject what is not an id', async () => {
    const { manager } = world();
    const { session } = await manager.createAnonymousSession();
    for (const bad of [{}, '', Number.NaN, null, { id: '' }]) {
      await expect(async () => manager.setActiveOrder(session, bad as never)).rejects.toThrow(TypeError);
    }
  });

  it('an update of a deleted session returns undefined and does not recreate it', async () => {
    const { manager, store } = world();
    const { token, session } = await manager.createAnonymousSession();
    expect(await manager.deleteSession(session.id)).toBe(true);
    await expect(manager.setActiveOrder(session, 5)).resolves.toBeUndefined();
    await expect(manager.setActiveChannel(session, 5)).resolves.toBeUndefined();
    store.reset();
    await expect(manager.unsetActiveOrder(session)).resolves.toBe(session); // no active order: nothing to write
    expect(store.calls.update).toBe(0);
    expect(store.inner).toBeDefined();
    expect(await store.inner.get(session.id)).toBeUndefined();
    await expect(manager.getSessionFromToken(token)).resolves.toBeUndefined();
  });
});

describe('createNewAuthenticatedSession', () => {
  it('always issues a new token, supersedes the guest and carries its order, channel and data', async () => {
    const { manager, store, advance } = world({ supersededGrace: '10s' });
    const guest = await manager.createAnonymousSession();
    const withOrder = (await manager.setActiveOrder(guest.session, 'o-1'))!;
    const withChannel = (await manager.setActiveChannel(withOrder, 'ch'))!;
    const { token, session } = await manager.createNewAuthenticatedSession({ id: 'u1', name: 'Ann' }, 'password', { from: withChannel });
    expect(token).not.toBe(guest.token);
    expect(session.id).not.toBe(guest.session.id);
    expect(session).toMatchObject({ userId: 'u1', authenticationStrategy: 'password', activeOrderId: 'o-1', activeChannelId: 'ch' });
    // The guest's record stays, superseded, for the grace window: its token is neither honoured nor cleared.
    expect(await store.inner.get(guest.session.id)).toMatchObject({ supersededUntil: expect.any(Number) });
    await expect(manager.getSessionFromToken(guest.token)).resolves.toBeUndefined();
    expect((await manager.getSessionFromToken(token))?.user).toEqual({ id: 'u1', name: 'Ann' });
    expect(await manager.listSessionsByUser('u1')).toHaveLength(1);
    advance(10_000);
    expect(await manager.cleanExpiredSessions()).toBe(1);
    expect(await store.inner.get(guest.session.id)).toBeUndefined();
  });

  it('rejects a user without an id and an empty strategy name', async () => {
    const { manager } = world();
    await expect(manager.createNewAuthenticatedSession({} as never, 'password')).rejects.toThrow(TypeError);
    await expect(manager.createNewAuthenticatedSession({ id: 1 }, '')).rejects.toThrow(TypeError);
  });
});

describe('revoking and listing', () => {
  it('deleteSession revokes one session and tombstones it in the cache', async () => {
    const { manager, store } = world();
    const a = await manager.createAnonymousSession();
    const b = await manager.createAnonymousSession();
    await expect(manager.deleteSession(a.session.id)).resolves.toBe(true);
    await expect(manager.deleteSession(a.session.id)).resolves.toBe(false);
    await expect(manager.getSessionFromToken(a.token)).resolves.toBeUndefined();
    expect((await manager.getSessionFromToken(b.token))?.id).toBe(b.session.id);
    expect(store.calls.get).toBe(0);
  });

  it('deleteSessionsByUser revokes every device; each token is then undefined with no store read', async () => {
    const { manager, store } = world();
    const devices = await Promise.all([1, 2, 3].map(() => manager.createNewAuthenticatedSession({ id: 42 }, 'password')));
    const other = await manager.createNewAuthenticatedSession({ id: 43 }, 'password');
    for (const { token } of devices) expect(await manager.getSessionFromToken(token)).toBeDefined();
    const ids = await manager.deleteSessionsByUser(42);
    expect(ids.sort()).toEqual(devices.map((d) => d.session.id).sort());
    store.reset();
    for (const { token } of devices) await expect(manager.getSessionFromToken(token)).resolves.toBeUndefined();
    expect(store.calls.get).toBe(0);
    expect(await manager.getSessionFromToken(other.token)).toBeDefined();
    await expect(manager.listSessionsByUser(42)).resolves.toEqual([]);
  });

  it('deleteSessionsByUser treats user id 7 and "7" as one user', async () => {
    const { manager } = world();
    await manager.createNewAuthenticatedSession({ id: 7 }, 'password');
    await manager.createNewAuthenticatedSession({ id: '7' }, 'password');
    await expect(manager.deleteSessionsByUser('7')).resolves.toHaveLength(2);
  });

  it('deleteSessionsByActiveOrderId revokes every session holding the order', async () => {
    const { manager, store } = world();
    const a = await manager.createAnonymousSession();
    const b = await manager.createAnonymousSession();
    const c = await manager.createAnonymousSession();
    await manager.setActiveOrder(a.session, 'o-9');
    await manager.setActiveOrder(b.session, { id: 'o-9' });
    await manager.setActiveOrder(c.session, 'o-10');
    const ids = await manager.deleteSessionsByActiveOrderId('o-9');
    expect(ids.sort()).toEqual([a.session.id, b.session.id].sort());
    store.reset();
    await expect(manager.getSessionFromToken(a.token)).resolves.toBeUndefined();
    await expect(manager.getSessionFromToken(b.token)).resolves.toBeUndefined();
    expect((await manager.getSessionFromToken(c.token))?.activeOrderId).toBe('o-10');
    expect(store.calls.get).toBe(0);
  });

  it('an order moved away from a session is no longer revoked with it', async () => {
    const { manager } = world();
    const a = await manager.createAnonymousSession();
    const moved = await manager.setActiveOrder(a.session, 'o-1');
    await manager.setActiveOrder(moved!, 'o-2');
    await expect(manager.deleteSessionsByActiveOrderId('o-1')).resolves.toEqual([]);
    expect(await manager.getSessionFromToken(a.token)).toBeDefined();
  });

  it('listSessionsByUser lists live devices newest first, without secretHash, expired ones filtered', async () => {
    const { manager, advance } = world({ duration: '30m', absoluteDuration: '1d' });
    const old = await manager.createNewAuthenticatedSession({ id: 'u' }, 'password');
    advance(20 * MIN);
    const mid = await manager.createNewAuthenticatedSession({ id: 'u' }, 'password');
    advance(MIN);
    const recent = await manager.createNewAuthenticatedSession({ id: 'u' }, 'sso');
    await manager.createNewAuthenticatedSession({ id: 'someone-else' }, 'password');
    let list = await manager.listSessionsByUser('u');
    expect(list.map((s) => s.id)).toEqual([recent.session.id, mid.session.id, old.session.id]);
    for (const summary of list) {
      expect(summary).not.toHaveProperty('secretHash');
      expect(JSON.stringify(summary)).not.toContain(old.session.secretHash);
    }
    advance(10 * MIN); // old: created at 0, expires at 30m; now 31m
    list = await manager.listSessionsByUser('u');
    expect(list.map((s) => s.id)).toEqual([recent.session.id, mid.session.id]);
  });
});

describe('cleanExpiredSessions', () => {
  it('loops batches until none is left (2,500 expired + 100 live, batch 1000), purging the caches', async () => {
    const { manager, store, cache, advance } = world({ duration: '10m', absoluteDuration: '1h' });
    const expired = [];
    for (let i = 0; i < 2_500; i++) expired.push(await manager.createAnonymousSession());
    advance(11 * MIN);
    const live = [];
    for (let i = 0; i < 100; i++) live.push(await manager.createAnonymousSession());
    store.reset();

    await expect(manager.cleanExpiredSessions(1000)).resolves.toBe(2_500);
    expect(store.calls.deleteExpired).toBe(3);
    for (const { session } of expired.slice(0, 50)) expect(await store.inner.get(session.id)).toBeUndefined();
    for (const { token } of live) expect(await manager.getSessionFromToken(token)).toBeDefined();

    // the expired ids are evicted from the cache (not tombstoned: they can never come back, and
    // thousands of tombstones would push live sessions out of the bounded LRU)
    for (const { session } of expired) expect(cache.peek(session.id)).toBeUndefined();
    for (const { session } of live) expect(cache.peek(session.id)).toMatchObject({ id: session.id });
    store.reset();
    for (const { token } of expired.slice(0, 20)) await expect(manager.getSessionFromToken(token)).resolves.toBeUndefined();
    expect(store.calls.get).toBe(20);
    await expect(manager.cleanExpiredSessions(1000)).resolves.toBe(0);
  });

  it('an exact multiple of the batch size ends with one empty batch', async () => {
    const { manager, store, advance } = world({ duration: '10m', absoluteDuration: '1h' });
    for (let i = 0; i < 20; i++) await manager.createAnonymousSession();
    advance(10 * MIN);
    await expect(manager.cleanExpiredSessions(10)).resolves.toBe(20);
    expect(store.calls.deleteExpired).toBe(3);
  });

  it('a renewed session is not cleaned at its old expiry', async () => {
    const { manager, advance } = world({ duration: '10m', absoluteDuration: '1h', cacheTtl: '1h' });
    const { token } = await manager.createAnonymousSession();
    advance(6 * MIN);
    await manager.getSessionFromToken(token); // renewed to 16m
    advance(5 * MIN); // 11m: past the first expiry
    await expect(manager.cleanExpiredSessions(100)).resolves.toBe(0);
    expect(await manager.getSessionFromToken(token)).toBeDefined();
  });

  it('uses cleanupBatchSize by default', async () => {
    const { manager, store, advance } = world({ duration: '10m', absoluteDuration: '1h', cleanupBatchSize: 4 });
    for (let i = 0; i < 10; i++) await manager.createAnonymousSession();
    advance(10 * MIN);
    await expect(manager.cleanExpiredSessions()).resolves.toBe(10);
    expect(store.calls.deleteExpired).toBe(3);
  });
});

describe('triggerCleanSessionsJob', () => {
  it('a second call while a job runs joins it: one run, one answer', async () => {
    const { manager, store, advance } = world({ duration: '10m', absoluteDuration: '1h' });
    for (let i = 0; i < 30; i++) await manager.createAnonymousSession();
    advance(10 * MIN);
    store.before = (op) => (op === 'deleteExpired' ? sleep(10) : undefined);
    const first = manager.triggerCleanSessionsJob(10);
    const second = manager.triggerCleanSessionsJob(10);
    await expect(Promise.all([first, second])).resolves.toEqual([30, 30]);
    expect(store.calls.deleteExpired).toBe(4);
    // the job is over: a new call runs again
    await expect(manager.triggerCleanSessionsJob(10)).resolves.toBe(0);
    expect(store.calls.deleteExpired).toBe(5);
  });

  it('a failing job rejects, warns SOJOURN_CLEANUP_FAILED, and the next call runs afresh', async () => {
    const { manager, store } = world();
    const capture = captureWarnings('SOJOURN_CLEANUP_FAILED');
    try {
      store.before = () => {
        throw new Error('disk full');
      };
      await expect(manager.triggerCleanSessionsJob()).rejects.toMatchObject({ code: 'ERR_SESSION_STORE' });
      await settle();
      expect(capture.warnings).toHaveLength(1);
      store.before = undefined;
      await expect(manager.triggerCleanSessionsJob()).resolves.toBe(0);
    } finally {
      capture.stop();
    }
  });
});

describe('start() and the periodic cleanup (real time)', () => {
  it('cleanupInterval "1s" runs the cleanup; false schedules nothing; start() twice schedules once', async () => {
    const on = world({ duration: '10m', absoluteDuration: '1h', cleanupInterval: '1s' });
    const off = world({ duration: '10m', absoluteDuration: '1h', cleanupInterval: false });
    const { session } = await on.manager.createAnonymousSession();
    await off.manager.createAnonymousSession();
    on.advance(11 * MIN);
    off.advance(11 * MIN);
    await Promise.all([on.manager.start(), on.manager.start(), off.manager.start()]);
    try {
      await sleep(1_500);
      expect(on.store.calls.deleteExpired).toBe(1);
      expect(await on.store.inner.get(session.id)).toBeUndefined();
      expect(off.store.calls.deleteExpired).toBe(0);
    } finally {
      await Promise.all([on.manager.close(), off.manager.close()]);
    }
    // close() stops the timer
    const after = on.store.calls.deleteExpired;
    await sleep(1_200);
    expect(on.store.calls.deleteExpired).toBe(after);
  });

  describe('the timer does not keep the process alive', () => {
    const dist = `${ROOT}dist/index.js`;
    beforeAll(() => {
      if (!existsSync(dist)) spawnSync('npx', ['tsup'], { cwd: ROOT, stdio: 'ignore' });
    }, 60_000);

    it('a started manager (cleanup every 1s) lets a script exit on its own', () => {
      const script = `
        const { createSessionManager } = await import(${JSON.stringify(dist)});
        const manager = createSessionManager({ secret: 's', cleanupInterval: '1s' });
        await manager.start();
        const { token } = await manager.createAnonymousSession();
        console.log(Boolean(await manager.getSessionFromToken(token)) ? 'started' : 'broken');
      `;
      const started = Date.now();
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 8_000 });
      expect(child.stderr).not.toMatch(/Error/);
      expect(child.signal).toBeNull(); // not killed by the timeout
      expect(child.status).toBe(0);
      expect(child.stdout.trim()).toBe('started');
      expect(Date.now() - started).toBeLessThan(8_000);
    });
  });
});

describe('cache invalidation', () => {
  it('clearCache makes the next lookup of every session read the store', async () => {
    const { manager, store } = world();
    const a = await manager.createAnonymousSession();
    const b = await manager.createAnonymousSession();
    await manager.getSessionFromToken(a.token);
    expect(store.calls.get).toBe(0);
    await manager.clearCache();
    await manager.getSessionFromToken(a.token);
    await manager.getSessionFromToken(b.token);
    expect(store.calls.get).toBe(2);
  });

  it('clearCache clears every layer of the chain', async () => {
    const l1 = countingCache(undefined, 'l1');
    const l2 = countingCache(undefined, 'l2');
    const { manager, store } = world({ cache: [l1, l2] });
    const { token } = await manager.createAnonymousSession();
    await manager.start(); // once the fleet is heard the in-process layers start empty: clears of their own
    l1.reset();
    l2.reset();
    await manager.clearCache();
    expect(l1.calls.clear + l2.calls.clear).toBe(2);
    await manager.getSessionFromToken(token);
    expect(store.calls.get).toBe(1);
  });

  it("invalidateUser makes the next lookup of that user's sessions read the store, and only theirs", async () => {
    const { manager, store } = world();
    const mine = await Promise.all([1, 2].map(() => manager.createNewAuthenticatedSession({ id: 'u' }, 'password')));
    const other = await manager.createNewAuthenticatedSession({ id: 'v' }, 'password');
    await manager.invalidateUser('u');
    for (const { token } of mine) expect(await manager.getSessionFromToken(token)).toBeDefined();
    expect(store.calls.get).toBe(2);
    expect(await manager.getSessionFromToken(other.token)).toBeDefined();
    expect(store.calls.get).toBe(2);
  });
});

describe('close()', () => {
  it('closes open sessions (running their listeners), then closes the store and every cache', async () => {
    const store = countingStore();
    const l1 = countingCache(undefined, 'l1');
    const l2 = countingCache(undefined, 'l2');
    const { manager } = world({ cache: [l1, l2] }, { store });
    const order: string[] = [];
    const s1 = await manager.createSession();
    const s2 = await manager.createSession({ kind: 'task' });
    s1.addWillCloseListener(async () => {
      await sleep(5);
      order.push('s1 listener');
    });
    s2.addWillCloseListener(() => void order.push('s2 listener'));
    expect(manager.openSessions).toBe(2);
    await manager.close();
    expect(order.sort()).toEqual(['s1 listener', 's2 listener']);
    expect([s1.state, s2.state]).toEqual(['closed', 'closed']);
    expect(manager.openSessions).toBe(0);
    expect(store.calls.close).toBe(1);
    expect(l1.calls.close).toBe(1);
    expect(l2.calls.close).toBe(1);
  });

  it('waits for a running cleanup job before closing the store', async () => {
    const { manager, store, advance } = world({ duration: '10m', absoluteDuration: '1h' });
    for (let i = 0; i < 5; i++) await manager.createAnonymousSession();
    advance(10 * MIN);
    let cleaned = false;
    store.before = (op) => (op === 'deleteExpired' ? sleep(30).then(() => void (cleaned = true)) : undefined);
    const job = manager.triggerCleanSessionsJob();
    await manager.close();
    expect(cleaned).toBe(true);
    expect(store.calls.close).toBe(1);
    await expect(job).resolves.toBe(5);
  });
});
