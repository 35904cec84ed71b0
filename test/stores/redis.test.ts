import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { createSessionManager } from '../../lib/manager.js';
import { redisCache, redisStore } from '../../lib/redis.js';
import { storeContract } from '../contract/store.js';
import { connectRedis, eventually, keysUnder, sharedRedis, uniquePrefix, type TestRedisClient } from '../helpers/redis.js';
import { makeRecord, TEST_SECRET } from '../helpers/records.js';

// The contract's records expire in January 2026 (fixed test times); with native expiry Redis
// would drop them on arrival, so the contract runs with it off and the checks below cover it.
storeContract('redis', async () => redisStore({ client: await sharedRedis(), prefix: uniquePrefix('store'), nativeExpiry: false }), { shared: true });

// A client speaking RESP3 gets maps instead of flat arrays from HGETALL.
let resp3: Promise<TestRedisClient> | undefined;
storeContract('redis (RESP3 client)', async () =>
  redisStore({ client: await (resp3 ??= connectRedis(undefined, { RESP: 3 })), prefix: uniquePrefix('store3'), nativeExpiry: false }),
  { shared: true },
);

async function fresh(options: { nativeExpiry?: boolean } = {}) {
  const client = await sharedRedis();
  const prefix = uniquePrefix('store');
  return { client, prefix, store: redisStore({ client, prefix, ...options }) };
}

describe('redis store on Redis', () => {
  it('sets PEXPIREAT to expiresAt on create and moves it with update', async () => {
    const { client, prefix, store } = await fresh();
    const record = makeRecord({ expiresAt: Date.now() + 60_000 });
    await store.create(record);
    expect(await client.sendCommand(['PEXPIRETIME', `${prefix}s:${record.id}`])).toBe(record.expiresAt);
    const later = record.expiresAt + 30_000;
    await store.update(record.id, { expiresAt: later, set: { a: 1 }, updatedAt: Date.now() });
    expect(await client.sendCommand(['PEXPIRETIME', `${prefix}s:${record.id}`])).toBe(later);
    await store.update(record.id, { set: { b: 2 }, updatedAt: Date.now() });
    expect(await client.sendCommand(['PEXPIRETIME', `${prefix}s:${record.id}`])).toBe(later);
  });

  it('lets Redis expire records; listings prune them, the cleanup returns and prunes the rest, nothing dangles', async () => {
    const { client, prefix, store } = await fresh();
    const soon = Date.now() + 150;
    const listed = makeRecord({ userId: 'u1', activeOrderId: 'o1', expiresAt: soon });
    const cleaned = makeRecord({ userId: 'u2', activeOrderId: 'o2', expiresAt: soon });
    const live = makeRecord({ userId: 'u1', expiresAt: Date.now() + 60_000 });
    for (const record of [listed, cleaned, live]) await store.create(record);
    await eventually(async () => (await store.get(listed.id)) === undefined, 3_000, 'Redis to expire the record');
    expect(await store.get(cleaned.id)).toBeUndefined();

    expect(await store.listByUser('u1')).toEqual([live]);
    expect(await client.sMembers(`${prefix}u:u1`)).toEqual([live.id]);
    expect(await store.deleteExpired(Date.now(), 100)).toEqual([cleaned.id]);
    expect(await store.deleteByActiveOrderId('o1')).toEqual([]);
    expect(await store.deleteByUser('u2')).toEqual([]);
    // Only the live record and its own index entries are left: no dangling member anywhere.
    expect(await keysUnder(client, prefix)).toEqual(
      [`${prefix}expiry`, `${prefix}ref:u`, `${prefix}s:${live.id}`, `${prefix}u:u1`].sort(),
    );
    expect(await client.zRange(`${prefix}expiry`, 0, -1)).toEqual([live.id]);
    expect(await client.hGetAll(`${prefix}ref:u`)).toEqual({ [live.id]: 'u1' });
  });

  it('revokes through the index sets and removes the emptied sets', async () => {
    const { client, prefix, store } = await fresh();
    const expiresAt = Date.now() + 60_000;
    const a = makeRecord({ userId: 7, activeOrderId: 70, expiresAt });
    const b = makeRecord({ userId: '7', activeOrderId: 'x', expiresAt });
    await store.create(a);
    await store.create(b);
    // 7 and '7' are one user, as in the memory store.
    expect((await store.deleteByUser(7)).sort()).toEqual([a.id, b.id].sort());
    expect(await keysUnder(client, prefix)).toEqual([]);
  });

  it('keeps only the hash of the token secret at rest (store and cache)', async () => {
    const client = await sharedRedis();
    const prefix = uniquePrefix('rest');
    const manager = createSessionManager({
      secret: TEST_SECRET,
      store: redisStore({ client, prefix }),
      cache: redisCache({ client, prefix: `${prefix}cache:` }),
      cleanupInterval: false,
    });
    const { token, session } = await manager.createAnonymousSession();
    await manager.setActiveOrder(session, 'o-1');
    const login = await manager.createNewAuthenticatedSession({ id: 1, name: 'Ada' }, 'native', { from: session });
    expect(await manager.getSessionFromToken(login.token)).toBeDefined();
    const dump = await dumpKeyspace(client);
    expect(dump).toContain(login.session.secretHash);
    for (const { token: t } of [{ token }, login]) expect(dump).not.toContain(t.split('.')[1]!);
    await manager.close();
  });

  it('fails at once, without queuing, while the client is not connected', async () => {
    const client = createClient({ url: 'redis://127.0.0.1:1' }) as TestRedisClient;
    const store = redisStore({ client, prefix: uniquePrefix('down') });
    await expect(store.get(makeRecord().id)).rejects.toThrow(/not connected/);
    await expect(store.update(makeRecord().id, { updatedAt: 1 })).rejects.toThrow(/not connected/);
  });

  it('validates its options', async () => {
    expect(() => redisStore({} as never)).toThrow(TypeError);
    const client = await sharedRedis();
    expect(() => redisStore({ client, prefix: 3 as never })).toThrow(/redisStore\.prefix/);
    expect(() => redisStore({ client, nativeExpiry: 'yes' as never })).toThrow(/redisStore\.nativeExpiry/);
  });

});

/** Every key and every value in the keyspace, as one string. */
async function dumpKeyspace(client: TestRedisClient): Promise<string> {
  const parts: string[] = [];
  for await (const keys of client.scanIterator({ COUNT: 1000 })) {
    for (const key of keys) {
      const type = await client.type(key);
      const value =
        type === 'hash' ? await client.hGetAll(key)
        : type === 'set' ? await client.sMembers(key)
        : type === 'zset' ? await client.zRange(key, 0, -1)
        : type === 'string' ? await client.get(key)
        : type;
      parts.push(key, JSON.stringify(value));
    }
  }
  return parts.join('\n');
}
