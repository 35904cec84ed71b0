import * as bullmq5 from 'bullmq5';
import { describe, expect, it } from 'vitest';
import { bullmqQueue, type BullModule } from '../../lib/bullmq.js';
import { pgBossQueue } from '../../lib/pg-boss.js';
import { queueContract } from '../contract/queue.js';
import { bullmqBackend, memoryBackend, pgBossBackend } from '../helpers/queues.js';

queueContract('memory', memoryBackend);
queueContract('BullMQ 6', bullmqBackend());
queueContract('BullMQ 5', bullmqBackend({ bullmq: bullmq5 as unknown as BullModule }));
queueContract('BullMQ 6 on a Redis Cluster', bullmqBackend({ cluster: true }));
queueContract('pg-boss 10', pgBossBackend());

describe('queue factories', () => {
  it('bullmqQueue and pgBossQueue refuse what they cannot use, naming the option', () => {
    expect(() => bullmqQueue({} as never)).toThrow(expect.objectContaining({ option: 'bullmqQueue.connection' }));
    expect(() => bullmqQueue({ connection: {}, queueName: 'a:b' })).toThrow(expect.objectContaining({ option: 'bullmqQueue.queueName' }));
    expect(() => pgBossQueue({} as never)).toThrow(expect.objectContaining({ option: 'pgBossQueue.boss' }));
  });
});
