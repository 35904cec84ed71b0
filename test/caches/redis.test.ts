import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import type { SessionChange } from '../../lib/caches/types.js';
import { redisCache, redisStore } from '../../lib/redis.js';
import { cacheContract } from '../contract/cache.js';
import { connectRedis, eventually, keysUnder, sharedRedis, uniquePrefix, type TestRedisClient } from '../helpers/redis.js';
import { makeCachedSession, makeRecord } from '../helpers/records.js';

cacheContract('redis', async () => redisCache({ client: await sharedRedis(), prefix: uniquePrefix('cache') }));

let resp3: Promise<TestRedisClient> | undefined;
cacheContract('redis (RESP3 client)', async () =>
  redisCache({ client: await (resp3 ??= connectRedis(undefined, { RESP: 3 })), prefix: uniquePrefix('cache3') }),
);

async function fresh() {
  const client = await sharedRedis();
  const prefix = uniquePrefix('cache');
  return { client, prefix, cache: redisCache({ client, prefix }) };
}

describe('redis cache on Redis', () => {
  it('gives each entry a native ttl (never outliving the session is the caller’s ttl)', async () => {
    const { client, prefix, cache } = await fresh();
    const entry = makeCachedSession();
    await cache.set(entry, 5_000);
    await cache.setMissing(makeRecord().id, 7_000);
    for (const key of await keysUnder(client, prefix)) {
      const ttl = await client.pTTL(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(7_000);
    }
  });

  it('clear removes only its own entries, and keeps a lock', async () => {
    const { client, prefix, cache } = await fresh();
    const other = redisCache({ client, prefix: uniquePrefix('cache') });
    const entry = makeCachedSession();
    await other.set(entry, 60_000);
    await cache.set(makeCachedSession(), 60_000);
    const release = await cache.lock!('cleanup', 60_000);
    await cache.clear();
    expect(await keysUnder(client, `${prefix}c:`)).toEqual([]);
    expect(await other.get(entry.id)).toEqual(entry);
    expect(await cache.lock!('cleanup', 60_000)).toBeUndefined();
    await release!();
  });

  it('shares a prefix with a store without touching its records', async () => {
    const { client, prefix, cache } = await fresh();
    const store = redisStore({ client, prefix });
    const record = makeRecord({ expiresAt: Date.now() + 60_000 });
    await store.create(record);
    await cache.set({ ...record, cacheExpiry: record.expiresAt }, 60_000);
    await cache.clear();
    expect(await store.get(record.id)).toEqual(record);
  });

  it('fails at once while the client is not connected (the chain then falls back)', async () => {
    const client = createClient({ url: 'redis://127.0.0.1:1' }) as TestRedisClient;
    const cache = redisCache({ client, prefix: uniquePrefix('down') });
    const started = Date.now();
    await expect(cache.get(makeRecord().id)).rejects.toThrow(/not connected/);
    await expect(cache.set(makeCachedSession(), 1_000)).rejects.toThrow(/not connected/);
    expect(Date.now() - started).toBeLessThan(50);
  });

  it('publishes set, setMissing, delete and clear to other instances, not to itself', async () => {
    const client = await sharedRedis();
    const prefix = uniquePrefix('cache');
    const a = redisCache({ client, prefix });
    const b = redisCache({ client, prefix });
    const heardByA: SessionChange[] = [];
    const heardByB: SessionChange[] = [];
    const stopA = await a.subscribe!((change) => heardByA.push(change));
    const stopB = await b.subscribe!((change) => heardByB.push(change));
    const v1 = makeCachedSession();
    await a.set(v1, 60_000);
    await a.set(v1, 60_000); // same version again: nothing new to tell
    await a.set({ ...v1, version: 2 }, 60_000);
    await a.setMissing(v1.id, 60_000); // a revoke: it held an entry
    await a.setMissing(v1.id, 60_000); // already missing: nothing new
    await a.setMissing(makeRecord().id, 60_000); // an unknown token: in nobody's LRU, not announced
    await a.delete(v1.id);
    await a.clear();
    await eventually(() => heardByB.includes('all'), 2_000, 'the clear');
    // A write is delivered twice (at once and again 250 ms later), as the same object.
    expect([...new Set(heardByB)]).toEqual([
      { ids: [v1.id], gone: false },
      { ids: [v1.id], gone: false },
      { ids: [v1.id], gone: true },
      { ids: [v1.id], gone: false },
      'all',
    ]);
    expect(heardByA).toEqual([]);
    await stopA();
    await stopB();
  });

  it('validates its options', async () => {
    expect(() => redisCache(undefined as never)).toThrow(TypeError);
    expect(() => redisCache({ client: {} as never })).toThrow(/client/);
    const client = await sharedRedis();
    expect(() => redisCache({ client, channel: 5 as never })).toThrow(/channel/);
  });
});
