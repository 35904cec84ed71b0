import type { CacheChain } from '../caches/chain.js';
import { reason, warn } from '../environment.js';
import type { SessionFleet } from '../fleets/types.js';
import type { SessionStore } from '../stores/types.js';

/** Longer than any cleanup should take; the lock expires by itself if its holder dies. */
const LOCK_TTL = 10 * 60_000;

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
  /** Sinks that keep logs (`postgresLogSink`) drop rows past their retention with each run. */
  readonly logs?: { prune?(now: number): Promise<number> };
}

/** Vendure's batched clean-sessions job: one run at a time per process, one across the fleet. */
export function createCleanup({ store, local, fleet, clock, batchSize: defaultBatch, interval, logs }: CleanupParts) {
  let timer: NodeJS.Timeout | undefined;
  let job: Promise<number> | undefined;

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
    /** The periodic run (unref'd: it never keeps the process alive). Idempotent. */
    start(): void {
      if (timer || interval === false) return;
      timer = setInterval(() => trigger().catch(() => {}), interval).unref(); // reported by trigger
    },
    /** Stops the timer and waits for a running job. */
    async stop(): Promise<void> {
      clearInterval(timer);
      timer = undefined;
      await job?.catch(() => {});
    },
  };
}
