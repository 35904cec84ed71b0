import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createSessionManager, lruCache, memoryFleet, type SessionManager } from '../../lib/index.js';
import { postgresFleet, postgresStore } from '../../lib/postgres.js';
import type { SessionStore } from '../../lib/stores/types.js';
import { DAY, TEST_SECRET, testCodec } from '../helpers/records.js';
import { newPool, uniqueTable } from '../helpers/postgres.js';
import { report } from '../reliability/figures.js';

const EXPIRED = 200_000;
const LIVE = 20_000;

describe('postgres cleanup at scale', () => {
  it(`removes exactly ${EXPIRED.toLocaleString('en')} expired sessions while live ones keep being served`, { timeout: 90_000 }, async () => {
    const table = uniqueTable();
    const pool = newPool({ max: 10 });
    const store = postgresStore({ pool, table });
    await store.migrate();
    const now = Date.now();
    let started = performance.now();
    await insertExpired(pool, table, EXPIRED, now);
    const expiredMs = performance.now() - started;
    const tokens = await insertLive(pool, table, LIVE, now);
    await pool.query(`ANALYZE "${table}"`);

    // Requests: another instance with its own pool and an empty in-process cache, so every lookup
    // is a store read racing the cleanup's batches.
    const requests = createSessionManager({ store: postgresStore({ pool: newPool({ max: 10 }), table }), cache: [lruCache()], fleet: memoryFleet(), secret: TEST_SECRET, cleanupInterval: false });
    const cleaner = createSessionManager({ store, cache: false, secret: TEST_SECRET, cleanupInterval: false });
    // Warm the request instance's connections, as a running server's are, then measure lookups
    // alone for a second as the baseline.
    await Promise.all(tokens.slice(0, 10).map((token) => requests.getSessionFromToken(token)));
    const baseline = await lookupsWhile(requests, tokens.slice(10, 5_000), new Promise((resolve) => setTimeout(resolve, 1_000)));

    started = performance.now();
    const cleaning = cleaner.cleanExpiredSessions();
    const during = await lookupsWhile(requests, tokens.slice(5_000), cleaning);
    const removed = await cleaning;
    const seconds = (performance.now() - started) / 1000;
    report('postgres cleanup', {
      removed,
      rowsPerSecond: Math.round(removed / seconds),
      batch: cleaner.options.cleanupBatchSize,
      insertExpiredMs: Math.round(expiredMs),
      lookupsAlone: baseline.summary,
      lookupsDuringCleanup: during.summary,
    });
    expect(removed).toBe(EXPIRED);
    expect(during.missing).toBe(0);
    expect(during.count).toBeGreaterThan(100);
    const { rows } = await pool.query<{ live: string; expired: string }>(
      `SELECT count(*) AS live, count(*) FILTER (WHERE expires_at <= to_timestamp($1::float8 / 1000)) AS expired FROM "${table}"`,
      [now],
    );
    expect(rows[0]).toEqual({ live: String(LIVE), expired: '0' });
    await Promise.all([requests.close(), cleaner.close()]);
  });

  it('lets cleaners on several instances share the work without waiting on each other (SKIP LOCKED)', async () => {
    const table = uniqueTable();
    const pools = [newPool({ max: 3 }), newPool({ max: 3 })];
    const stores = pools.map((pool) => postgresStore({ pool, table }));
    await stores[0]!.migrate();
    const now = Date.now();
    await insertExpired(pools[0]!, table, 20_000, now);
    const managers = stores.map((store) => createSessionManager({ store, cache: false, secret: TEST_SECRET, cleanupInterval: false, cleanupBatchSize: 500 }));
    const counts = await Promise.all(managers.map((manager) => manager.cleanExpiredSessions()));
    expect(counts[0]! + counts[1]!).toBe(20_000);
    await Promise.all(managers.map((manager) => manager.close()));
  });

  it('runs the cleanup job on one instance at a time (the postgres fleet: an advisory lock)', async () => {
    const table = uniqueTable();
    const now = Date.now();
    const instances = [newPool({ max: 4 }), newPool({ max: 4 })].map((pool) => {
      const store = postgresStore({ pool, table });
      const calls = { deleteExpired: 0 };
      const counted: SessionStore = {
        ...store,
        deleteExpired: (at, limit) => (calls.deleteExpired++, store.deleteExpired(at, limit)),
      };
      const manager = createSessionManager({ store: counted, cache: false, fleet: postgresFleet({ pool, channel: `fleet_${table}` }), secret: TEST_SECRET, cleanupInterval: false, cleanupBatchSize: 100 });
      return { pool, store, calls, manager };
    });
    await instances[0]!.store.migrate();
    await insertExpired(instances[0]!.pool, table, 5_000, now);
    const counts = await Promise.all(instances.map(({ manager }) => manager.triggerCleanSessionsJob()));
    expect([...counts].sort((a, b) => a - b)).toEqual([0, 5_000]);
    const loser = instances[counts.indexOf(0)]!;
    expect(loser.calls.deleteExpired).toBe(0);
    // Released: the next job may run anywhere.
    expect(await loser.manager.triggerCleanSessionsJob()).toBe(0);
    expect(loser.calls.deleteExpired).toBe(1);
    await Promise.all(instances.map(({ manager }) => manager.close()));
  });
});

// ---------------------------------------------------------------------------------------

/**
 * Looks the tokens up one after another on 4 workers until `until` settles (each token once, so
 * every lookup misses the in-process cache and reads the store); latencies in ms.
 */
async function lookupsWhile(manager: SessionManager, tokens: string[], until: Promise<unknown>) {
  const latencies: number[] = [];
  let missing = 0;
  let done = false;
  const started = performance.now();
  void until.finally(() => (done = true)).catch(() => {});
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (!done && next < tokens.length) {
        const t = performance.now();
        const session = await manager.getSessionFromToken(tokens[next++]!);
        latencies.push(performance.now() - t);
        if (!session) missing++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  const at = (q: number) => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN).toFixed(1);
  const summary = `${sorted.length} served (${Math.round(sorted.length / seconds)}/s), p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`;
  return { count: sorted.length, missing, summary };
}

/**
 * `count` sessions that expired before `now`, generated by the server in one statement (UUID v7
 * ids built from a millisecond time, some with a user, an order and a data bag).
 */
async function insertExpired(pool: pg.Pool, table: string, count: number, now: number): Promise<void> {
  await pool.query(
    `INSERT INTO "${table}" (id, secret_hash, version, user_id, active_order_id, data,
       created_at, updated_at, expires_at, absolute_expires_at)
     SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
              PLACING substring(int8send(($2::bigint - 3456000000 + g)) FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid,
            md5(g::text), 1,
            CASE WHEN g % 3 = 0 THEN to_jsonb(g % 5000) END,
            CASE WHEN g % 7 = 0 THEN to_jsonb('ord_' || g) END,
            jsonb_build_object('cart', g, 'seen', true),
            t - interval '30 days', t - interval '1 day', t, t + interval '335 days'
     FROM generate_series(1, $1::int) AS g,
          LATERAL (SELECT to_timestamp(($2::float8 - 86400000 + g) / 1000) - interval '1 day' AS t) AS times`,
    [count, now],
  );
}

/** `count` live sessions inserted from JS in one statement (unnest of arrays); returns their tokens. */
async function insertLive(pool: pg.Pool, table: string, count: number, now: number): Promise<string[]> {
  const minted = Array.from({ length: count }, () => testCodec.issue());
  await pool.query(
    `INSERT INTO "${table}" (id, secret_hash, version, data, created_at, updated_at, expires_at, absolute_expires_at)
     SELECT id, hash, 1, '{}', to_timestamp($3::float8 / 1000), to_timestamp($3::float8 / 1000),
            to_timestamp($4::float8 / 1000), to_timestamp($5::float8 / 1000)
     FROM unnest($1::uuid[], $2::text[]) AS u(id, hash)`,
    [minted.map((m) => m.id), minted.map((m) => m.secretHash), now, now + 30 * DAY, now + 365 * DAY],
  );
  return minted.map((m) => m.token);
}
