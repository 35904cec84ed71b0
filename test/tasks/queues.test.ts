import { describe, expect, it } from 'vitest';
import { memoryQueue } from '../../lib/index.js';
import { postgresQueue, queueSchemaSql } from '../../lib/postgres.js';
import { redisQueue } from '../../lib/redis.js';
import { queueContract } from '../contract/queue.js';
import { sharedPool, uniqueTable } from '../helpers/postgres.js';
import { connectRedis, sharedRedis, uniquePrefix } from '../helpers/redis.js';

queueContract('memory', () => memoryQueue());
queueContract('redis', async () => redisQueue({ client: await sharedRedis(), prefix: uniquePrefix('queue') }));
queueContract('redis (RESP3 client)', async () => redisQueue({ client: await connectRedis(undefined, { RESP: 3 }), prefix: uniquePrefix('queue3') }));
queueContract('postgres', async () => {
  const queue = postgresQueue({ pool: sharedPool(), table: uniqueTable('calls') });
  await queue.migrate();
  return queue;
});

describe('queue factories', () => {
  it('redisQueue refuses a missing client and fails fast when the client is not ready', async () => {
    expect(() => redisQueue({} as never)).toThrow(/redisQueue\.client/);
    const client = await connectRedis();
    const queue = redisQueue({ client });
    await client.close();
    await expect(queue.size()).rejects.toThrow(/redisQueue: the redis client is not connected/);
  });

  it('postgresQueue validates its options and can create its table on first use', async () => {
    expect(() => postgresQueue({} as never)).toThrow(/postgresQueue option `pool`/);
    expect(() => postgresQueue({ pool: sharedPool(), table: 'bad-name' })).toThrow(/option `table`/);
    const queue = postgresQueue({ pool: sharedPool(), table: uniqueTable('calls'), createTable: true });
    expect(await queue.size()).toBe(0);
    await Promise.all([queue.migrate(), postgresQueue({ pool: sharedPool(), table: uniqueTable('calls') }).migrate()]);
  });

  it('queueSchemaSql is the idempotent DDL, schema included', () => {
    const sql = queueSchemaSql({ schema: 'jobs', table: 'calls' });
    expect(sql).toContain('CREATE SCHEMA IF NOT EXISTS "jobs"');
    expect(sql).toContain('CREATE TABLE IF NOT EXISTS "jobs"."calls"');
    expect(sql).toContain('"calls_due_idx"');
  });
});
