/**
 * The Redis Cluster of test/setup/services.ts works end to end with the two cluster clients of
 * the ecosystem, node-redis `createCluster` and ioredis `Cluster`: keys on every master, and
 * sharded pub/sub (SSUBSCRIBE/SPUBLISH). And a cluster of its own, started here, hands a killed
 * master's slots to its replica within 10 s (the time taken is the test's `meta.promotionMs`:
 * `vitest run test/services/redis-cluster.test.ts --reporter=json`).
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRedisCluster, type RedisCluster } from '../services/index.mjs';

declare module '@vitest/runner' {
  interface TaskMeta {
    /** From SIGKILL of a master until its replica serves the slot and every node says cluster_state:ok. */
    promotionMs?: number;
  }
}

/** Hash tags whose slots (3300, 7365, 15495) fall to the three masters of an evenly split cluster. */
const TAGS = ['{b}', '{c}', '{a}'];
const unique = () => randomBytes(5).toString('hex');

describe('the shared Redis Cluster', () => {
  const nodes = inject('redisClusterNodes');

  it('serves node-redis createCluster: keys on every master, and sharded pub/sub', async () => {
    const cluster = createCluster({ rootNodes: nodes.map(({ host, port }) => ({ url: `redis://${host}:${port}` })) });
    cluster.on('error', () => {});
    await cluster.connect();
    try {
      const keys = TAGS.map((tag) => `sojourn-test:cluster:${tag}:${unique()}`);
      expect(new Set([3300, 7365, 15495].map((slot) => cluster.slots[slot]!.master.port)).size).toBe(3);
      for (const key of keys) await cluster.set(key, `value of ${key}`, { expiration: { type: 'EX', value: 60 } });
      for (const key of keys) expect(await cluster.get(key)).toBe(`value of ${key}`);

      const channel = `sojourn-test:cluster:{c}:${unique()}`;
      let deliver!: (message: string) => void;
      const received = new Promise<string>((resolve) => (deliver = resolve));
      await cluster.sSubscribe(channel, (message) => deliver(message));
      expect(await cluster.sPublish(channel, 'hello from node-redis')).toBe(1);
      expect(await received).toBe('hello from node-redis');
    } finally {
      await cluster.close();
    }
  });

  it('serves ioredis Cluster: keys on every master, and sharded pub/sub', async () => {
    const cluster = new Cluster(nodes, { shardedSubscribers: true, lazyConnect: true });
    cluster.on('error', () => {});
    await cluster.connect();
    try {
      const keys = TAGS.map((tag) => `sojourn-test:cluster:${tag}:${unique()}`);
      for (const key of keys) await cluster.set(key, `value of ${key}`, 'EX', 60);
      for (const key of keys) expect(await cluster.get(key)).toBe(`value of ${key}`);

      const channel = `sojourn-test:cluster:{a}:${unique()}`;
      const received = once(cluster, 'smessage');
      await cluster.ssubscribe(channel);
      expect(await cluster.spublish(channel, 'hello from ioredis')).toBe(1);
      const [from, message] = await received;
      expect([from, message]).toEqual([channel, 'hello from ioredis']);
    } finally {
      cluster.disconnect();
    }
  });
});

describe('a Redis Cluster whose master is killed', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  });
  afterAll(() => cluster?.stop());

  it('promotes that master’s replica within 10 s and is healthy again', async ({ task }) => {
    const key = `sojourn-test:failover:${unique()}`;
    const master = (await cluster.masterFor(key))!;
    const replica = (await cluster.topology()).find((node) => node.masterId === master.id)!;
    expect(replica.role).toBe('replica');

    const killedAt = Date.now();
    await cluster.kill(master.port);
    let promoted: string | undefined;
    while (Date.now() - killedAt < 10_000 && promoted !== replica.id) {
      promoted = (await cluster.masterFor(key))?.id;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await cluster.waitUntilHealthy(Math.max(0, 10_000 - (Date.now() - killedAt)));
    task.meta.promotionMs = Date.now() - killedAt;

    expect(promoted).toBe(replica.id);
    expect(task.meta.promotionMs).toBeLessThan(10_000);
  }, 30_000);
});
