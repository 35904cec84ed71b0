import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lruCache } from '../../lib/caches/lru.js';
import { memoryFleet } from '../../lib/fleets/memory.js';
import { createSessionManager, type SessionManager } from '../../lib/manager.js';
import type { SessionOptions } from '../../lib/options.js';
import { postgresFleet, postgresStore } from '../../lib/postgres.js';
import { redisCache, redisFleet, redisStore } from '../../lib/redis.js';
import type { SessionStore } from '../../lib/stores/types.js';
import { newPool, uniqueTable } from '../helpers/postgres.js';
import { TEST_SECRET, makeRecord } from '../helpers/records.js';
import { connectRedis, keysUnder, sharedRedis, startRedisServer, uniquePrefix, type RedisServer } from '../helpers/redis.js';
import { captureWarnings, tolerateWarnings } from '../helpers/warnings.js';
import { pool } from '../reliability/fleet.js';
import { percentile, report, round, size } from '../reliability/figures.js';

/** Two instances of one application (two managers, each its own LRU and fleet connection). */
const running: SessionManager[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((manager) => manager.close()));
});

type Setup = () => Promise<SessionOptions>;

/** Each instance's options: its own store, cache and fleet objects over the shared backends. */
const SETUPS: Record<string, () => Promise<Setup>> = {
  'redisStore + [lruCache(), redisCache()] + redisFleet': async () => {
    const client = await sharedRedis();
    const prefix = uniquePrefix('fleet');
    return async () => ({
      store: redisStore({ client, prefix }),
      cache: [lruCache(), redisCache({ client, prefix: `${prefix}cache:` })],
      fleet: redisFleet({ client, prefix }),
    });
  },
  'redisStore + [lruCache()] + redisFleet': async () => {
    const client = await sharedRedis();
    const prefix = uniquePrefix('fleet');
    return async () => ({ store: redisStore({ client, prefix }), fleet: redisFleet({ client, prefix }) });
  },
  'postgresStore + [lruCache()] + postgresFleet (no Redis)': async () => {
    const table = uniqueTable();
    const channel = `fleet_${table}`;
    await postgresStore({ pool: newPool({ max: 2 }), table }).migrate();
    return async () => {
      const pool = newPool({ max: 6 });
      return { store: postgresStore({ pool, table }), fleet: postgresFleet({ pool, channel }) };
    };
  },
  'postgresStore + [lruCache(), redisCache()] + redisFleet': async () => {
    const table = uniqueTable();
    const client = await sharedRedis();
    const prefix = uniquePrefix('mixed');
    await postgresStore({ pool: newPool({ max: 2 }), table }).migrate();
    return async () => ({
      store: postgresStore({ pool: newPool({ max: 4 }), table }),
      cache: [lruCache(), redisCache({ client, prefix: `${prefix}cache:` })],
      fleet: redisFleet({ client, prefix }),
    });
  },
};

async function instances(setup: Setup): Promise<[SessionManager, SessionManager]> {
  const make = async () => {
    const manager = createSessionManager({ ...(await setup()), secret: TEST_SECRET, tokenMethod: 'bearer', cleanupInterval: false });
    await manager.start();
    running.push(manager);
    return manager;
  };
  return [await make(), await make()];
}

describe.each(Object.keys(SETUPS))('two instances: %s', (name) => {
  // A Redis cache slower than cacheTimeout on a loaded 2-core machine is a miss, and said.
  beforeEach(() => tolerateWarnings('SOJOURN_CACHE_DOWN', 'SOJOURN_CACHE_RECOVERED'));
  const pair = async () => instances(await SETUPS[name]!());

  it('a token issued on A works on B', async () => {
    const [a, b] = await pair();
    const { token } = await a.createNewAuthenticatedSession({ id: 'ada' }, 'test');
    expect((await b.getSessionFromToken(token))?.user).toEqual({ id: 'ada' });
  });

  it('a revoke on B is refused on A before the revoke returns, though A had it in its LRU', async () => {
    const [a, b] = await pair();
    const tries = size(50, 1_000);
    let accepted = 0;
    const lag: number[] = [];
    for (let i = 0; i < tries; i++) {
      const { token, session } = await a.createNewAuthenticatedSession({ id: `u${i}` }, 'test');
      expect(await a.getSessionFromToken(token)).toBeDefined(); // in A's LRU
      const started = performance.now();
      if (i % 2 === 0) await b.deleteSession(session.id);
      else await b.deleteSessionsByUser(`u${i}`);
      lag.push(performance.now() - started);
      if ((await a.getSessionFromToken(token)) !== undefined) accepted++;
    }
    lag.sort((x, y) => x - y);
    report(`revoke on B, refused on A (${name})`, { tries, accepted, revokeMs: { p50: round(percentile(lag, 50), 2), p99: round(percentile(lag, 99), 2) } });
    expect(accepted).toBe(0);
  });

  it('clearCache and invalidateUser on B reach A before they return', async () => {
    const [a, b] = await pair();
    const { token, session } = await a.createNewAuthenticatedSession({ id: 'bob' }, 'test');
    const lru = a.caches[0]!;
    expect(await a.getSessionFromToken(token)).toBeDefined();
    expect(lru.get(session.id, Date.now())).toBeTruthy();
    await b.invalidateUser('bob');
    expect(lru.get(session.id, Date.now())).toBeUndefined();
    expect((await a.getSessionFromToken(token))?.user).toEqual({ id: 'bob' }); // still valid: read again
    expect(lru.get(session.id, Date.now())).toBeTruthy();
    await b.clearCache();
    expect(lru.get(session.id, Date.now())).toBeUndefined();
  });

  it('a write on B reaches A: A never serves the version before it', async () => {
    const [a, b] = await pair();
    const { token, session } = await a.createAnonymousSession();
    expect((await a.getSessionFromToken(token))?.version).toBe(1);
    const written = await b.setActiveOrder((await b.getSessionFromToken(token))!, 'o-1');
    expect(written?.version).toBe(2);
    expect(await a.getSessionFromToken(token)).toMatchObject({ id: session.id, activeOrderId: 'o-1' });
  });

  it('parallel field writes from A and B to one session all survive', async () => {
    const [a, b] = await pair();
    const { token } = await a.createAnonymousSession();
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      writes.push(a.withSession((s) => s.set(`a${i}`, i), { token }));
      writes.push(b.withSession((s) => s.set(`b${i}`, i), { token }));
    }
    await Promise.all(writes);
    const record = await a.store.get((await a.getSessionFromToken(token))!.id);
    for (let i = 0; i < 20; i++) expect([record!.data[`a${i}`], record!.data[`b${i}`]]).toEqual([i, i]);
    expect(record!.version).toBe(1 + 40);
  });

  it('a write racing a destroy never resurrects the session', async () => {
    const [a, b] = await pair();
    for (let round = 0; round < 10; round++) {
      const { token, session } = await a.createNewAuthenticatedSession({ id: `racer-${round}` }, 'test');
      await b.getSessionFromToken(token);
      await Promise.all([a.withSession((s) => s.set('late', round), { token }), b.deleteSession(session.id)]);
      expect(await a.store.get(session.id)).toBeUndefined();
      for (const side of [a, b]) expect(await side.getSessionFromToken(token)).toBeUndefined();
    }
  });
});

describe('without a fleet', () => {
  it('an LRU in front of a shared store is refused at start, saying what to add', async () => {
    const client = await sharedRedis();
    expect(() => createSessionManager({ store: redisStore({ client }), secret: TEST_SECRET })).toThrow(/`fleet` is required.*redisFleet/);
    expect(() => createSessionManager({ store: postgresStore({ pool: newPool() }), secret: TEST_SECRET })).toThrow(/postgresFleet/);
    expect(() => createSessionManager({ cache: [lruCache(), redisCache({ client })], secret: TEST_SECRET })).toThrow(/shared redis cache/);
    // Nothing in process to keep coherent, or the only instance: fine.
    expect(() => createSessionManager({ store: redisStore({ client }), cache: false, secret: TEST_SECRET })).not.toThrow();
    expect(() => createSessionManager({ store: redisStore({ client }), cache: redisCache({ client }), secret: TEST_SECRET })).not.toThrow();
    expect(() => createSessionManager({ store: redisStore({ client }), fleet: memoryFleet(), secret: TEST_SECRET })).not.toThrow();
  });

  it('two processes each told they are alone (memoryFleet each) show the stale LRU a fleet prevents', async () => {
    const client = await sharedRedis();
    const prefix = uniquePrefix('alone');
    const make = () => createSessionManager({ store: redisStore({ client, prefix }), fleet: memoryFleet(), secret: TEST_SECRET, cleanupInterval: false });
    const [a, b] = [make(), make()];
    running.push(a, b);
    const { token, session } = await a.createAnonymousSession();
    expect(await a.getSessionFromToken(token)).toBeDefined();
    await b.deleteSession(session.id);
    expect(await a.getSessionFromToken(token)).toBeDefined(); // stale: up to cacheTtl
    expect(await b.getSessionFromToken(token)).toBeUndefined();
  });
});

describe('when the fleet cannot be heard', () => {
  it('in-process caches are bypassed while the subscriber is cut, and trusted again once it is back', async () => {
    const client = await connectRedis();
    const prefix = uniquePrefix('cut');
    const make = async () => {
      const manager = createSessionManager({
        store: redisStore({ client, prefix }),
        fleet: redisFleet({ client, prefix }),
        secret: TEST_SECRET,
        cleanupInterval: false,
      });
      await manager.start();
      running.push(manager);
      return manager;
    };
    const [a, b] = [await make(), await make()];
    const { token, session } = await a.createAnonymousSession();
    expect(await a.getSessionFromToken(token)).toBeDefined();
    const warnings = captureWarnings();
    // Cut both subscribers: a revoke published now reaches no one.
    await client.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    await b.deleteSession(session.id);
    expect(await a.getSessionFromToken(token)).toBeUndefined(); // A read the store: its LRU was bypassed
    expect(warnings.codes).toContain('SOJOURN_FLEET_DOWN');
  });
});

describe('cleanup across instances', () => {
  it('two managers triggering the cleanup at once: only one runs it (the fleet lock)', async () => {
    const client = await sharedRedis();
    const prefix = uniquePrefix('cleanup');
    let gate!: () => void;
    const opened = new Promise<void>((resolve) => (gate = resolve));
    const calls = [0, 0];
    const gated = (n: number): SessionStore => {
      const inner = redisStore({ client, prefix, nativeExpiry: false });
      return {
        ...inner,
        async deleteExpired(now, limit) {
          calls[n]!++;
          await opened;
          return inner.deleteExpired(now, limit);
        },
      };
    };
    const managers = [0, 1].map((n) =>
      createSessionManager({ store: gated(n), cache: false, fleet: redisFleet({ client, prefix }), secret: TEST_SECRET, cleanupInterval: false }),
    );
    running.push(...managers);
    const stale = redisStore({ client, prefix, nativeExpiry: false });
    for (let i = 0; i < 5; i++) await stale.create(makeRecord({ expiresAt: Date.now() - 1_000 }));
    const jobs = managers.map((m) => m.triggerCleanSessionsJob(2));
    await new Promise((resolve) => setTimeout(resolve, 50));
    gate();
    expect([...(await Promise.all(jobs))].sort()).toEqual([0, 5]);
    expect(calls.filter((n) => n > 0)).toHaveLength(1);
  });
});

describe('revocation does not depend on what any cache holds', () => {
  const extras: RedisServer[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((manager) => manager.close())); // before their Redis goes
    await Promise.all(extras.splice(0).map((server) => server.stop('SIGKILL')));
  });

  it('PostgreSQL + [lruCache(), redisCache()] with Redis evicting (maxmemory, allkeys-lru): a revoke on A is refused on B before it returns', async () => {
    tolerateWarnings('SOJOURN_CACHE_DOWN', 'SOJOURN_CACHE_RECOVERED');
    const server = await startRedisServer();
    extras.push(server);
    const admin = await connectRedis(server.url);
    await admin.sendCommand(['CONFIG', 'SET', 'maxmemory', String(8 * 2 ** 20)]);
    await admin.sendCommand(['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru']);
    const table = uniqueTable();
    await postgresStore({ pool: newPool({ max: 2 }), table }).migrate();
    const prefix = uniquePrefix('evict');
    const [a, b] = await instances(async () => {
      const client = await connectRedis(server.url);
      return { store: postgresStore({ pool: newPool({ max: 4 }), table }), cache: [lruCache(), redisCache({ client, prefix })], fleet: redisFleet({ client, prefix }) };
    });
    const tries = size(200, 1_000);
    const sessions = await pool(tries, 16, async (i) => a.createNewAuthenticatedSession({ id: `e${i}` }, 'test'));
    for (const { token } of sessions) expect(await b.getSessionFromToken(token)).toBeDefined(); // in B's LRU, and in Redis
    // Push every cache entry out of Redis: about half by memory pressure, the rest by hand.
    const filler = 'f'.repeat(10_000);
    for (let i = 0; (await keysUnder(admin, `${prefix}c:`)).length > tries / 2 && i < 20_000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, k) => admin.set(`filler:${i + k}`, filler)));
    }
    const evictedByMemory = tries - (await keysUnder(admin, `${prefix}c:`)).length;
    for (const key of await keysUnder(admin, `${prefix}c:`)) await admin.del(key);
    expect(await keysUnder(admin, `${prefix}c:`)).toEqual([]);
    let accepted = 0;
    for (const [i, { token, session }] of sessions.entries()) {
      if (i % 2 === 0) await a.deleteSession(session.id);
      else await a.deleteSessionsByUser(`e${i}`);
      if ((await b.getSessionFromToken(token)) !== undefined) accepted++;
    }
    report('revoke with the cache entry evicted', { tries, accepted, evictedByMemory, deletedByHand: tries - evictedByMemory });
    expect(evictedByMemory).toBeGreaterThan(0);
    expect(accepted).toBe(0);
  }, 120_000);

  it('a subscriber cut without a sound (the network went quiet): B stops trusting its LRU within the heartbeat bound', async () => {
    const client = await sharedRedis();
    const prefix = uniquePrefix('quiet');
    let cut = false;
    const [a, b] = await instances(async () => {
      const fleet = redisFleet({ client, prefix });
      // B's incoming messages vanish once `cut`: what a dead network link does before TCP notices.
      const subscribe = fleet.subscribe.bind(fleet);
      return { store: redisStore({ client, prefix }), fleet: { ...fleet, subscribe: (topic, listener) => subscribe(topic, (m, t) => cut || listener(m, t)) } as typeof fleet };
    });
    const { token, session } = await a.createAnonymousSession();
    expect(await b.getSessionFromToken(token)).toBeDefined();
    cut = true; // both instances are cut (they share the flag): A's revoke reaches no one, and A's acks time out
    captureWarnings('SOJOURN_FLEET_TIMEOUT');
    const started = performance.now();
    await a.deleteSession(session.id);
    while ((await b.getSessionFromToken(token)) !== undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    const staleMs = performance.now() - started;
    report('stale bound with the fleet silently cut', { staleMs: Math.round(staleMs) });
    expect(staleMs).toBeLessThan(2_000); // three missed heartbeats of 500 ms, plus a poll
  });
});
