import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { redisCache, redisStore } from '../../lib/redis.js';
import { cacheContract } from '../contract/cache.js';
import { connectRedis, keysUnder, sharedRedis, uniquePrefix, type TestRedisClient } from '../helpers/redis.js';
import { makeCachedSession, makeRecord } from '../helpers/records.js';

cacheContract('redis', async () => redisCache({ client: await sharedRedis(), prefix: uniquePrefix('cache') }), { wallClock: true });

let resp3: Promise<TestRedisClient> | undefined;
cacheContract(
  'redis (RESP3 client)',
  async () => redisCache({ client: await (resp3 ??= connectRedis(undefined, { RESP: 3 })), prefix: uniquePrefix('cache3') }),
  { wallClock: true },
);

async function fresh() {
  const client = await sharedRedis();
  const prefix = uniquePrefix('cache');
  return { client, prefix, cache: redisCache({ client, prefix }) };
}

describe('redis cache on Redis', () => {
  it('is shared: an in-process cache in front of it needs a fleet', () => {
    expect(redisCache({ client: createClient() as TestRedisClient }).shared).toBe(true);
  });

  it('gives each entry a native ttl: what is left of its freshness (a remembered miss: until its time)', async () => {
    const { client, prefix, cache } = await fresh();
    const now = Date.now();
    await cache.set(makeCachedSession({ cacheExpiry: now + 5_000 }), now);
    await cache.setMissing!(makeRecord().id, now + 7_000, now);
    const ttls = await Promise.all((await keysUnder(client, prefix)).map((key) => client.pTTL(key)));
    expect(ttls).toHaveLength(2);
    for (const ttl of ttls) {
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(7_000);
    }
  });

  it('clear removes only its own entries', async () => {
    const { client, prefix, cache } = await fresh();
    const other = redisCache({ client, prefix: uniquePrefix('cache') });
    const now = Date.now();
    const entry = makeCachedSession({ cacheExpiry: now + 60_000 });
    await other.set(entry, now);
    await cache.set(makeCachedSession({ cacheExpiry: now + 60_000 }), now);
    await cache.clear();
    expect(await keysUnder(client, `${prefix}c:`)).toEqual([]);
    expect(await other.get(entry.id, now)).toEqual(entry);
  });

  it('shares a prefix with a store without touching its records', async () => {
    const { client, prefix, cache } = await fresh();
    const store = redisStore({ client, prefix });
    const now = Date.now();
    const record = makeRecord({ expiresAt: now + 60_000 });
    await store.create(record);
    await cache.set({ ...record, cacheExpiry: record.expiresAt }, now);
    await cache.clear();
    expect(await store.get(record.id)).toEqual(record);
  });

  it('fails at once while the client is not connected (the chain then falls back)', async () => {
    const client = createClient({ url: 'redis://127.0.0.1:1' }) as TestRedisClient;
    const cache = redisCache({ client, prefix: uniquePrefix('down') });
    const started = Date.now();
    await expect(cache.get(makeRecord().id, started)).rejects.toThrow(/not connected/);
    await expect(cache.set(makeCachedSession({ cacheExpiry: started + 1_000 }), started)).rejects.toThrow(/not connected/);
    expect(Date.now() - started).toBeLessThan(50);
  });

  it('validates its options, naming them', async () => {
    expect(() => redisCache(undefined as never)).toThrow(TypeError);
    expect(() => redisCache({ client: {} as never })).toThrow(/redisCache\.client/);
    const client = await sharedRedis();
    expect(() => redisCache({ client, prefix: 5 as never })).toThrow(/redisCache\.prefix/);
  });
});
