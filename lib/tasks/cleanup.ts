import type { CacheChain } from '../caches/chain.js';
import { reason, warn } from '../environment.js';
import type { SessionFleet } from '../fleets/types.js';
import type { SessionStore } from '../stores/types.js';
import type { FutureCalls } from './future-calls.js';

/** Longer than any cleanup should take; the lock expires by itself if its holder dies. */
const LOCK_TTL = 10 * 60_000;
/** The recurring call that runs the cleanup on a durable queue (a reserved future call name). */
export const CLEANUP_CALL = 'sojourn:clean-sessions';

export interface CleanupParts {
  /** The guarded store (failures are SessionStoreErrors). */
  readonly store: SessionStore;
  /** The in-process cache layers: shared ones never hold an entry past its expiry anyway. */
  readonly local: CacheChain;
  /** Holds the fleet-wide lock: one runner at a time across instances. */
  readonly fleet: SessionFleet;
  readonly clock: () => number;
  readonly batchSize: number;
  readonly interval: number | false;
  /** On a durable queue the periodic run is a recurring call there, not a timer here. */
  readonly futureCalls: FutureCalls;
  /** Sinks that keep logs (`postgresLogSink`) drop rows past their retention with each run. */
  readonly logs?: { prune?(now: number): Promise<number> };
}

/**
 * Vendure's batched clean-sessions job. On a durable queue it runs as a recurring call (one run
 * per occurrence across the fleet, as Vendure runs it as a job); on the memory queue an in-process
 * timer with the fleet lock runs it. `trigger()` runs one on demand under the lock either way.
 */
export function createCleanup({ store, local, fleet, clock, batchSize: defaultBatch, interval, futureCalls, logs }: CleanupParts) {
  let timer: NodeJS.Timeout | undefined;
  let job: Promise<number> | undefined;
  const recurring = interval !== false && futureCalls.queue.durable;
  if (recurring) futureCalls.register(CLEANUP_CALL, () => clean());

  /** Deletes expired records batch by batch until a batch comes back short; returns how many. */
  async function clean(batchSize = defaultBatch): Promise<number> {
    let removed = 0;
    for (;;) {
      const ids = await store.deleteExpired(clock(), batchSize);
      removed += ids.length;
      // Plain eviction, not a revoke: an expired entry is refused by every cache already (entries
      // never outlive expiresAt), and tombstones for ids that can never come back would only crowd.
      if (ids.length > 0) await local.delete(ids);
      if (ids.length < batchSize) break;
    }
    await logs?.prune?.(clock());
    return removed;
  }

  /** An instance that cannot take the lock leaves the work to the holder. */
  async function cleanUnderLock(batchSize: number | undefined): Promise<number> {
    const release = await fleet.lock('cleanup', LOCK_TTL);
    if (!release) return 0;
    try {
      return await clean(batchSize);
    } finally {
      await release();
    }
  }

  /** Starts a run unless one is going (then joins it); a failure warns once however many joined. */
  function trigger(batchSize?: number): Promise<number> {
    if (!job) {
      job = cleanUnderLock(batchSize).finally(() => {
        job = undefined;
      });
      job.catch((error: unknown) => warn('SOJOURN_CLEANUP_FAILED', `session cleanup failed: ${reason(error)}`));
    }
    return job;
  }

  return {
    clean,
    trigger,
    /** The periodic run: the recurring call (every instance asks; the queue keeps one series), or an unref'd timer. Idempotent. */
    async start(): Promise<void> {
      if (interval === false) return;
      if (recurring) {
        await futureCalls.every(CLEANUP_CALL, null, interval, { identifier: CLEANUP_CALL });
        return;
      }
      timer ??= setInterval(() => trigger().catch(() => {}), interval).unref(); // reported by trigger
    },
    /** Stops the timer and waits for a running job. */
    async stop(): Promise<void> {
      clearInterval(timer);
      timer = undefined;
      await job?.catch(() => {});
    },
  };
}
