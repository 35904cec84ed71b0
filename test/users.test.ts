/**
 * What changes under a user's or a channel's sessions without a login: `updateUser` (Vendure's
 * entity subscriber), `unsetActiveChannel` (a deleted channel), and `unsetActiveOrder` that has
 * nothing to unset. Across instances where it matters: the next request on B sees A's change.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSessionManager, lruCache, memoryFleet, type SessionManager, type SessionOptions } from '../lib/index.js';
import { postgresStore } from '../lib/postgres.js';
import { redisCache, redisFleet, redisStore } from '../lib/redis.js';
import { countingStore, world } from './helpers/counting.js';
import { newPool, uniqueTable } from './helpers/postgres.js';
import { TEST_SECRET } from './helpers/records.js';
import { sharedRedis, uniquePrefix } from './helpers/redis.js';
import { tolerateWarnings } from './helpers/warnings.js';
import { pool } from './reliability/fleet.js';
import { report, size } from './reliability/figures.js';

const running: SessionManager[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((manager) => manager.close()));
});

describe('updateUser', () => {
  it('merges an object shallowly, or replaces with a function’s result; the id cannot change', async () => {
    const { manager } = world();
    const { token } = await manager.createNewAuthenticatedSession({ id: 'ann', name: 'Ann', roles: ['customer'] }, 'password');
    expect(await manager.updateUser('ann', { roles: ['customer', 'admin'] })).toBe(1);
    expect((await manager.getSessionFromToken(token))?.user).toEqual({ id: 'ann', name: 'Ann', roles: ['customer', 'admin'] });
    await manager.updateUser('ann', (user) => ({ id: user.id, name: 'Ann B.' }));
    expect((await manager.getSessionFromToken(token))?.user).toEqual({ id: 'ann', name: 'Ann B.' });
    await expect(manager.updateUser('ann', { id: 'someone-else' })).rejects.toThrow(/cannot change the user's id/);
    await expect(manager.updateUser('ann', 'admin' as never)).rejects.toThrow(TypeError);
    expect(await manager.updateUser('nobody', { roles: [] })).toBe(0);
  });

  it('goes by the user index: 10,000 sessions of other users get no write, and no read', async () => {
    const store = countingStore();
    const { manager } = world({}, { store });
    const others = size(10_000, 100_000);
    await pool(others, 64, (i) => manager.createNewAuthenticatedSession({ id: `other-${i % 500}` }, 'password'));
    await manager.createNewAuthenticatedSession({ id: 'ann' }, 'password');
    await manager.createNewAuthenticatedSession({ id: 'ann' }, 'password');
    store.reset();
    expect(await manager.updateUser('ann', { roles: ['admin'] })).toBe(2);
    report('updateUser by index', { otherSessions: others, storeCalls: { ...store.calls } });
    expect(store.calls.update).toBe(2);
    expect(store.calls.listByUser).toBe(1);
    expect(store.calls.get).toBe(0);
  }, 60_000);

  const instancesOn: Record<string, () => Promise<() => SessionOptions>> = {
    redis: async () => {
      const client = await sharedRedis();
      const prefix = uniquePrefix('users');
      return () => ({ store: redisStore({ client, prefix }), cache: [lruCache(), redisCache({ client, prefix: `${prefix}cache:` })], fleet: redisFleet({ client, prefix }) });
    },
    'postgres + redis cache': async () => {
      const table = uniqueTable();
      const client = await sharedRedis();
      const prefix = uniquePrefix('users-pg');
      await postgresStore({ pool: newPool({ max: 2 }), table }).migrate();
      return () => ({ store: postgresStore({ pool: newPool({ max: 4 }), table }), cache: [lruCache(), redisCache({ client, prefix })], fleet: redisFleet({ client, prefix }) });
    },
  };

  it.each(Object.keys(instancesOn))('on %s: roles changed on A are seen by the next request on B, every time', async (backend) => {
    tolerateWarnings('SOJOURN_CACHE_DOWN', 'SOJOURN_CACHE_RECOVERED');
    const options = await instancesOn[backend]!();
    const [a, b] = [0, 1].map(() => createSessionManager({ ...options(), secret: TEST_SECRET, cleanupInterval: false })) as [SessionManager, SessionManager];
    running.push(a, b);
    await Promise.all([a.start(), b.start()]);
    const onA = await a.createNewAuthenticatedSession({ id: 'ann', roles: ['r0'] }, 'password');
    const onB = await b.createNewAuthenticatedSession({ id: 'ann', roles: ['r0'] }, 'password');
    const tries = size(200, 1_000);
    let stale = 0;
    for (let i = 1; i <= tries; i++) {
      for (const token of [onA.token, onB.token]) await b.getSessionFromToken(token); // warm in B's LRU
      await a.updateUser('ann', { roles: [`r${i}`] });
      for (const token of [onA.token, onB.token]) if (((await b.getSessionFromToken(token))?.user?.roles as string[] | undefined)?.[0] !== `r${i}`) stale++;
    }
    report(`updateUser across instances, ${backend}`, { tries, sessions: 2, staleReads: stale });
    expect(stale).toBe(0);
  }, 120_000);
});

describe('unsetActiveChannel', () => {
  it('clears a deleted channel from every session on it, by the channel index, and leaves the others', async () => {
    const store = countingStore();
    const { manager } = world({}, { store });
    const on = await Promise.all([1, 2].map(async () => manager.setActiveChannel((await manager.createAnonymousSession()).session, 'eu')));
    const elsewhere = await manager.setActiveChannel((await manager.createAnonymousSession()).session, 'us');
    store.reset();
    expect(await manager.unsetActiveChannel('eu')).toBe(2);
    expect(store.calls.listByActiveChannelId).toBe(1);
    expect(store.calls.update).toBe(2);
    for (const record of on) expect((await store.inner.get(record!.id))?.activeChannelId).toBeUndefined();
    expect((await store.inner.get(elsewhere!.id))?.activeChannelId).toBe('us');
  });

  it('refuses, naming what is missing, on a store without a channel index', async () => {
    const { listByActiveChannelId: _omitted, ...withoutIndex } = countingStore();
    const manager = createSessionManager({ secret: TEST_SECRET, store: withoutIndex, fleet: memoryFleet(), cleanupInterval: false });
    running.push(manager);
    await expect(manager.unsetActiveChannel('eu')).rejects.toThrow(/no channel index/);
  });
});

describe('unsetActiveOrder', () => {
  it('with no active order writes nothing', async () => {
    const store = countingStore();
    const { manager } = world({}, { store });
    const session = await manager.createSession();
    await session.set('k', 1);
    store.reset();
    expect(await session.unsetActiveOrder()).toBe(true);
    expect(store.calls.update).toBe(0);
    await session.setActiveOrder('o1');
    expect(await session.unsetActiveOrder()).toBe(true);
    expect(store.calls.update).toBe(2);
    expect(session.activeOrderId).toBeUndefined();
    await session.close();
  });
});
