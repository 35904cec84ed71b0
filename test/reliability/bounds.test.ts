/**
 * What junk and large sessions may cost: a flood of made-up bearer tokens (no I/O, no eviction of
 * real sessions, nothing written to Redis), sessions at `maxDataBytes` against the LRU's byte
 * bound (heap measured after GC in a child process), and a write over the limit (refused, nothing
 * changed).
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { promisify } from 'node:util';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createSessionManager, lruCache, memoryFleet, SessionDataError } from '../../lib/index.js';
import { redisCache, redisStore } from '../../lib/redis.js';
import { countingCache, countingStore } from '../helpers/counting.js';
import { unknownToken } from '../helpers/http.js';
import { TEST_SECRET } from '../helpers/records.js';
import { keysUnder, sharedRedis, uniquePrefix } from '../helpers/redis.js';
import { tolerateWarnings } from '../helpers/warnings.js';
import { appOf } from '../frameworks/frameworks.js';
import { client, listen } from './client.js';
import { report, size } from './figures.js';
import { bearer, pool } from './fleet.js';

const run = promisify(execFile);
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('made-up bearer tokens', () => {
  it('20,000 of them cost no store or cache call, push no warm session out, and write nothing to Redis', async () => {
    tolerateWarnings('SOJOURN_CACHE_DOWN', 'SOJOURN_CACHE_RECOVERED'); // the set-up's 1,000 logins load a 2-core machine
    const redis = await sharedRedis();
    const prefix = uniquePrefix('junk');
    const store = countingStore(redisStore({ client: redis, prefix }));
    const lru = countingCache(lruCache({ max: 1_000 }));
    const shared = countingCache(redisCache({ client: redis, prefix: `${prefix}cache:` }));
    const manager = createSessionManager({ secret: TEST_SECRET, store, cache: [lru, shared], fleet: memoryFleet(), tokenMethod: 'bearer', cleanupInterval: false });
    const server = createServer(appOf(manager));
    const http = client(await listen(server), { sockets: 32 });
    cleanups.push(() => manager.close(), () => new Promise((resolve) => server.close(resolve)), () => http.close());

    const warm = await pool(1_000, 32, async (i) => (await manager.createNewAuthenticatedSession({ id: `u${i}` }, 'test')).token);
    for (const token of warm) expect(await manager.getSessionFromToken(token)).toBeDefined();
    const keysBefore = (await keysUnder(redis, prefix)).length;
    for (const counter of [store, lru, shared]) counter.reset();

    const FLOOD = 20_000;
    const statuses = await pool(FLOOD, 32, async () => (await http.send('GET', '/me', bearer(unknownToken('not the server secret')))).status);
    const ioDuringFlood = { store: sum(store.calls), lru: sum(lru.calls), redis: sum(shared.calls) };
    const keysAfter = (await keysUnder(redis, prefix)).length;
    for (const token of warm) expect(await manager.getSessionFromToken(token)).toBeDefined();
    const storeReadsAfter = store.calls.get;
    report('made-up bearer tokens', { tokens: FLOOD, status200: statuses.filter((s) => s === 200).length, ioDuringFlood, warmSessions: warm.length, storeReadsForWarmAfter: storeReadsAfter, redisKeysBefore: keysBefore, redisKeysAfter: keysAfter });
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(ioDuringFlood).toEqual({ store: 0, lru: 0, redis: 0 });
    expect(storeReadsAfter).toBe(0); // every warm session still answered from the LRU
    expect(keysAfter).toBe(keysBefore);
  }, 60_000);
});

describe('large sessions', () => {
  it('a write over maxDataBytes is refused with SessionDataError and changes nothing', async () => {
    const manager = createSessionManager({ secret: TEST_SECRET, maxDataBytes: 1_024, cleanupInterval: false });
    cleanups.push(() => manager.close());
    const session = await manager.createSession();
    await session.set('a', 'x'.repeat(500));
    const before = await manager.store.get(session.id!);
    const refused = await session.set('b', 'y'.repeat(600)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SessionDataError);
    expect(refused).toMatchObject({ code: 'ERR_SESSION_DATA_TOO_LARGE' });
    expect(await manager.store.get(session.id!)).toEqual(before);
    expect(session.get('b')).toBeUndefined();
    await session.set('a', 'z'.repeat(900)); // replacing a key counts its new size, not both
    await expect(manager.createNewAuthenticatedSession({ id: 'big', blob: 'x'.repeat(2_000) }, 'test')).rejects.toThrow(SessionDataError);
    await session.close();
  });

  it(`${size('3,000', '3,000')} sessions of maxDataBytes stay within the LRU's byte bound (heap after GC, child process)`, async () => {
    const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/fixtures/reliability-large-sessions.mjs', inject('redisUrl')], {
      cwd: new URL('../..', import.meta.url).pathname,
      maxBuffer: 4 * 2 ** 20,
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
    report('large sessions in the LRU', result);
    expect(result.sessions).toBe(3_000);
    expect(result.lookedUp).toBe(3_000);
    // The bound counts serialized bytes; the heap holds them as strings plus object overhead.
    expect(result.heapGrowthMB).toBeLessThan(result.maxBytesMB * 1.5 + 8);
    expect(result.heldInLru).toBeLessThan(3_000);
  }, 120_000);
});

function sum(calls: Record<string, number>): number {
  return Object.values(calls).reduce((a, b) => a + b, 0);
}
