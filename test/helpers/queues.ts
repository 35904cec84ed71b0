import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import PgBoss from 'pg-boss';
import { afterAll, inject } from 'vitest';
import { memoryQueue } from '../../lib/index.js';
import { bullmqQueue, type BullModule } from '../../lib/bullmq.js';
import { pgBossQueue } from '../../lib/pg-boss.js';
import type { QueueBackend } from '../contract/queue.js';
import { postgresUrl } from './postgres.js';
import { redisUrl } from './redis.js';

/**
 * The queues the tests run on, each a `QueueBackend` of the contract suite: memory, BullMQ (on
 * the single node and the Cluster, 6.x and 5.x) and pg-boss (10.x). Connections and bosses made
 * here are closed after the file's tests; every queue gets a unique name, so each starts empty.
 */
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await Promise.all(closers.splice(0).map((close) => close().catch(() => {})));
});

export const uniqueQueue = (label: string) => `${label}-${randomBytes(5).toString('hex')}`;

export const memoryBackend: QueueBackend = {
  async fresh() {
    const queue = memoryQueue();
    return async () => queue;
  },
  retryDelay: 100,
  interval: 200,
  pickup: 50,
  secondsCron: true,
};

/** An ioredis connection BullMQ accepts for workers (no per-request retry limit). */
export function ioredis(): Redis {
  const client = new Redis(redisUrl(), { maxRetriesPerRequest: null });
  client.on('error', () => {});
  closers.push(() => client.quit());
  return client;
}

export function ioredisCluster(): Cluster {
  const cluster = new Cluster(inject('redisClusterNodes'), { redisOptions: { maxRetriesPerRequest: null } });
  cluster.on('error', () => {});
  closers.push(() => cluster.quit());
  return cluster;
}

export function bullmqBackend(options: { cluster?: boolean; bullmq?: BullModule } = {}): QueueBackend {
  return {
    async fresh() {
      const connection = options.cluster ? ioredisCluster() : ioredis();
      // On a Cluster every key of one queue must hash to one slot: a hash-tagged name.
      const queueName = options.cluster ? `{${uniqueQueue('calls')}}` : uniqueQueue('calls');
      return Object.assign(async () => bullmqQueue({ connection, queueName, ...(options.bullmq ? { bullmq: options.bullmq } : {}) }), { queueName });
    },
    retryDelay: 100,
    interval: 300,
    pickup: 100,
    secondsCron: true,
  };
}

/** A started PgBoss with short maintenance and cron checks, stopped after the file. */
export async function startBoss(): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: postgresUrl(), max: 4, maintenanceIntervalSeconds: 1, cronMonitorIntervalSeconds: 1, cronWorkerIntervalSeconds: 1 });
  boss.on('error', () => {}); // a poll during shutdown; the adapter's warnings cover what matters
  await boss.start();
  closers.push(() => boss.stop({ graceful: false, timeout: 1_000 }));
  return boss;
}

export function pgBossBackend(): QueueBackend {
  let bosses: Promise<PgBoss[]> | undefined;
  return {
    async fresh() {
      bosses ??= Promise.all([startBoss(), startBoss()]);
      const [a, b] = await bosses;
      const queueName = uniqueQueue('calls');
      let handles = 0;
      return Object.assign(async () => pgBossQueue(handles++ % 2 === 0 ? a! : b!, { queueName }), { queueName });
    },
    retryDelay: 1_000,
    interval: 1_500,
    pickup: 600,
    secondsCron: false,
  };
}
