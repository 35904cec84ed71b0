/**
 * `sojourn/bullmq`: future calls on BullMQ (5 and 6). BullMQ is loaded on first use, never when
 * sojourn is; `bullmq` is an optional peer.
 *
 * ```ts
 * const connection = new IORedis(process.env.REDIS_URL, { maxRetriesPerRequest: null });
 * const manager = createSessionManager({ futureCalls: { queue: bullmqQueue({ connection }) } });
 * ```
 */
export { bullmqQueue, type BullmqQueueOptions } from './queues/bullmq.js';
export type { BullModule } from './queues/bullmq-types.js';
