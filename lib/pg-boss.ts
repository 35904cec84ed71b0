/**
 * `sojourn/pg-boss`: future calls on pg-boss (10 and later), over the application's started
 * `PgBoss`. Only a structural type of pg-boss is used, so loading sojourn never loads it;
 * `pg-boss` is an optional peer.
 *
 * ```ts
 * const boss = new PgBoss(process.env.DATABASE_URL);
 * await boss.start();
 * const manager = createSessionManager({ futureCalls: { queue: pgBossQueue(boss) } });
 * ```
 */
export { pgBossQueue, type PgBossQueueOptions, type PgBossLike } from './queues/pg-boss.js';
