/**
 * Faults under steady load (bounded workers on loopback): the Redis cache server killed, the Redis
 * store server killed, the PostgreSQL store crashed (`pg_ctl stop -m immediate`), each kept down
 * and then restarted while the same apps keep running; and a store that hangs.
 */
import { createServer } from 'node:http';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createSessionManager, lruCache, memoryStore, SessionStoreError, type SessionCache, type SessionFleet, type SessionStore } from '../../lib/index.js';
import { captureWarnings } from '../helpers/warnings.js';
import { resolveOptions } from '../../lib/options.js';
import { postgresFleet, postgresStore } from '../../lib/postgres.js';
import { redisCache, redisFleet, redisStore } from '../../lib/redis.js';
import { connectRedis, eventually, sharedRedis, startRedisServer, uniquePrefix, type RedisServer } from '../helpers/redis.js';
import { appOf } from '../frameworks/frameworks.js';
import { client, listen } from './client.js';
import { report, round, size } from './figures.js';
import { bearer, login, type Node } from './fleet.js';
import { startLoad, type Load } from './load.js';
import { pgCluster, type PgCluster } from './pg-cluster.js';
import { TEST_SECRET } from '../helpers/records.js';

const BEFORE_MS = size(1_500, 3_000);
const DOWN_MS = 5_000;
const AFTER_MS = size(1_500, 3_000);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function node(store: SessionStore, cache: SessionCache[], fleet: SessionFleet, redis = undefined as never): Promise<Node> {
  const manager = createSessionManager({ secret: TEST_SECRET, store, cache, fleet, tokenMethod: 'bearer', cleanupInterval: false, storeTimeout: '2s' });
  await manager.start();
  const server = createServer(appOf(manager));
  const n: Node = { manager, server, redis, pool: undefined, http: client(await listen(server), { sockets: 16 }) };
  cleanups.push(async () => {
    n.http.close();
    await new Promise((resolve) => server.close(resolve));
    await manager.close();
  });
  return n;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** before → (fault) during → (restart) recovering → after; returns the load for checks. */
async function underLoad(nodes: Node[], fault: () => Promise<void>, restart: () => Promise<void>, recovered: () => Promise<boolean>) {
  const load = await startLoad(nodes);
  cleanups.push(() => load.stop());
  await sleep(BEFORE_MS);
  load.phase = 'during';
  const downAt = Date.now();
  await fault();
  await sleep(DOWN_MS);
  load.phase = 'recovering';
  await restart();
  const restartedAt = Date.now();
  await eventually(recovered, 30_000, 'recovery');
  const recoveredMs = Date.now() - restartedAt;
  load.phase = 'after';
  await sleep(AFTER_MS);
  await load.stop();
  return { load, downMs: restartedAt - downAt, recoveredMs };
}

describe('the Redis CACHE server is killed under load, kept down 5 s, restarted', () => {
  it('0 failed requests (degraded to the store), and the cache is used again by itself', async () => {
    const warnings = captureWarnings();
    let extra: RedisServer | undefined = await startRedisServer();
    cleanups.push(() => extra?.stop('SIGKILL'));
    const prefix = uniquePrefix('rel-cache-fault');
    const storeClient = await sharedRedis();
    const nodes = await Promise.all(
      [0, 1].map(async () => {
        const cacheClient = await connectRedis(extra!.url);
        const caches = [lruCache(), redisCache({ client: cacheClient, prefix: `${prefix}cache:` })];
        return node(redisStore({ client: storeClient, prefix }), caches, redisFleet({ client: storeClient, prefix }), cacheClient as never);
      }),
    );
    const port = extra.port;
    const { load, downMs, recoveredMs } = await underLoad(
      nodes,
      () => extra!.stop('SIGKILL'),
      async () => void (extra = await startRedisServer(port)),
      async () => nodes.every((n) => n.redis.isReady) && warnings.codes.includes('SOJOURN_CACHE_RECOVERED'),
    );
    const all = Object.values(load.byPhase);
    const failed = all.reduce((s, o) => s + o.requests - o.ok, 0);
    report('fault: redis cache killed', { downMs, recoveredMs, byPhase: load.byPhase, failed, warnings: [...new Set(warnings.codes)] });
    expect(failed).toBe(0);
    expect(load.byPhase.during!.requests).toBeGreaterThan(50);
    expect(warnings.codes).toContain('SOJOURN_CACHE_DOWN');
    expect(warnings.codes).toContain('SOJOURN_CACHE_RECOVERED');
    expect([...new Set(warnings.codes)].sort()).toEqual(['SOJOURN_CACHE_DOWN', 'SOJOURN_CACHE_RECOVERED']);
    expect(all.reduce((s, o) => s + o.silentlyEmpty, 0)).toBe(0);
  }, 60_000);
});

describe('the Redis STORE server is killed under load, kept down 5 s, restarted', () => {
  it('clean 503s through Express while it is down, serves again without an app restart; without persistence every session is lost', async () => {
    const warnings = captureWarnings();
    let extra: RedisServer | undefined = await startRedisServer();
    cleanups.push(() => extra?.stop('SIGKILL'));
    const prefix = uniquePrefix('rel-store-fault');
    const nodes = await Promise.all(
      [0, 1].map(async () => {
        const c = await connectRedis(extra!.url);
        return node(redisStore({ client: c, prefix }), [lruCache(), redisCache({ client: c, prefix: `${prefix}cache:` })], redisFleet({ client: c, prefix }), c as never);
      }),
    );
    const port = extra.port;
    const { load, downMs, recoveredMs } = await underLoad(
      nodes,
      () => extra!.stop('SIGKILL'),
      async () => void (extra = await startRedisServer(port)),
      async () => nodes.every((n) => n.redis.isReady) && (await nodes[0]!.http.send('POST', '/login', {}, { user: 'probe' })).status === 200,
    );
    const { before, during, after } = load.byPhase as Record<string, Load['byPhase'][string]>;
    // Sessions from before the fault: Redis ran without persistence, so all of them are gone.
    let lost = 0;
    for (const token of load.tokens) if (JSON.parse((await nodes[1]!.http.send('GET', '/me', bearer(token))).body).user === null) lost++;
    report('fault: redis store killed (no persistence)', { downMs, recoveredMs, byPhase: load.byPhase, sessionsBefore: load.tokens.length, sessionsLost: lost, warnings: [...new Set(warnings.codes)] });
    expect(warnings.codes).toContain('SOJOURN_FLEET_DOWN');
    expect(before!.requests).toBe(before!.ok);
    expect(during!.unavailable).toBeGreaterThan(0);
    expect(during!.otherErrors + during!.networkErrors + during!.silentlyEmpty).toBe(0);
    expect(after!.otherErrors + after!.networkErrors + after!.unavailable).toBe(0);
    expect(lost).toBe(load.tokens.length);
  }, 60_000);
});

describe('the PostgreSQL STORE is crashed under load (pg_ctl stop -m immediate), kept down 5 s, started again', () => {
  let cluster: PgCluster | undefined;

  it('clean 503s while it is down, serves again without an app restart, and no acknowledged write is lost', async () => {
    const warnings = captureWarnings();
    cluster = await pgCluster();
    cleanups.push(() => cluster?.remove());
    const table = `rel_fault_${Date.now()}`;
    const nodes = await Promise.all(
      [0, 1].map(async () => {
        const pool = new pg.Pool({ connectionString: cluster!.url, max: 8, connectionTimeoutMillis: 1_000 });
        pool.on('error', () => {});
        cleanups.push(() => pool.end());
        const store = postgresStore({ pool, table });
        await store.migrate();
        return node(store, [lruCache()], postgresFleet({ pool, channel: table }));
      }),
    );
    const { load, downMs, recoveredMs } = await underLoad(
      nodes,
      async () => cluster!.crash(),
      async () => cluster!.start(),
      async () => (await nodes[0]!.http.send('POST', '/login', {}, { user: 'probe' })).status === 200,
    );
    // Every write acknowledged (200, written: true) before, during or after the crash is in the table.
    const check = new pg.Pool({ connectionString: cluster.url, max: 2 });
    let acknowledged = 0;
    let lost = 0;
    let sessionsLost = 0;
    try {
      for (const [token, writes] of load.acknowledged) {
        const { rows } = await check.query(`SELECT data FROM "${table}" WHERE id = $1`, [token.slice(0, 36)]);
        for (const [key, value] of writes) {
          acknowledged++;
          if (rows[0]?.data?.[key] !== value) lost++;
        }
      }
      for (const token of load.tokens) {
        const { rows } = await check.query(`SELECT 1 FROM "${table}" WHERE id = $1`, [token.slice(0, 36)]);
        if (rows.length === 0) sessionsLost++;
      }
    } finally {
      await check.end();
    }
    const { before, during, after } = load.byPhase as Record<string, Load['byPhase'][string]>;
    report('fault: postgres store crashed', { downMs, recoveredMs, byPhase: load.byPhase, acknowledgedWrites: acknowledged, writesLost: lost, sessionsBefore: load.tokens.length, sessionsLost, warnings: [...new Set(warnings.codes)] });
    expect(warnings.codes).toContain('SOJOURN_FLEET_DOWN');
    expect(before!.requests).toBe(before!.ok);
    expect(during!.unavailable).toBeGreaterThan(0);
    expect(during!.otherErrors + during!.networkErrors + during!.silentlyEmpty).toBe(0);
    expect(after!.requests).toBe(after!.ok);
    expect(lost).toBe(0);
    expect(sessionsLost).toBe(0);
  }, 90_000);
});

describe('a store that hangs', () => {
  /** A real memory store whose reads never answer (a dead peer that never closes the socket). */
  function hangingStore(): SessionStore & { hang: boolean } {
    const inner = memoryStore();
    const store = Object.create(inner) as SessionStore & { hang: boolean };
    store.hang = false;
    store.get = (id) => (store.hang ? new Promise(() => {}) : inner.get(id));
    return store;
  }

  it('is bounded by storeTimeout (default 5 s): SessionStoreError whose cause says it timed out, 503 through Express', async () => {
    expect(resolveOptions({ secret: TEST_SECRET, tokenMethod: 'bearer' }).storeTimeout).toBe(5_000);
    const store = hangingStore();
    const manager = createSessionManager({ secret: TEST_SECRET, store, cache: false, tokenMethod: 'bearer', cleanupInterval: false, storeTimeout: 300 });
    const server = createServer(appOf(manager));
    const http = client(await listen(server));
    cleanups.push(async () => {
      http.close();
      await new Promise((resolve) => server.close(resolve));
      await manager.close();
    });
    const n = { http } as Node;
    const token = await login(n, 'ada');
    store.hang = true;

    const direct = await manager.getSessionFromToken(token).then(() => undefined, (error: unknown) => error);
    expect(direct).toBeInstanceOf(SessionStoreError);
    expect((direct as Error & { cause: Error }).cause.name).toBe('TimeoutError');
    expect((direct as Error & { cause: Error }).cause.message).toMatch(/did not answer get within 300 ms \(storeTimeout\)/);

    const times: number[] = [];
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const started = performance.now();
        const answer = await http.send('GET', '/me', bearer(token));
        times.push(performance.now() - started);
        return answer;
      }),
    );
    expect(answers.every((a) => a.status === 503 && JSON.parse(a.body).code === 'ERR_SESSION_STORE')).toBe(true);
    times.sort((a, b) => a - b);
    report('fault: hanging store', { storeTimeoutMs: 300, requests: answers.length, status503: answers.length, minMs: round(times[0]!), maxMs: round(times.at(-1)!) });
    expect(times[0]).toBeGreaterThanOrEqual(290);
    expect(times.at(-1)).toBeLessThan(2_000);
    expect(manager.openSessions).toBe(0);

    store.hang = false; // the store answers again: so does the app
    expect(JSON.parse((await http.send('GET', '/me', bearer(token))).body).user).toEqual({ id: 'ada' });
  });
});
