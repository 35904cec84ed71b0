/**
 * The future-call queue contract. The core validates, computes every time (epoch milliseconds
 * from the manager's `clock`) and decides retries; a queue only stores calls and hands out
 * leases atomically. Implementations: memory (default, not durable), Redis, PostgreSQL.
 */

/** One scheduled call as the queue keeps it. */
export interface QueuedCall {
  /** Unique. One-off calls get a UUID; a recurring series keeps one id for all its occurrences. */
  readonly id: string;
  /** The registered name of the handler. */
  readonly name: string;
  /** The payload as JSON text (validated by the core). */
  readonly payload: string;
  /** When it is due, epoch milliseconds. */
  readonly dueAt: number;
  /** Groups calls for `cancel(identifier)`; many calls may share one. */
  readonly identifier?: string;
  /** The session record the task session is bound to (its public id, never its token). */
  readonly sessionId?: string;
  /** 0 for the first run, then 1, 2… for retries. */
  readonly attempt: number;
  /** Recurring calls: milliseconds between occurrences. */
  readonly every?: number;
}

/** A call taken off the queue under a lease; only the holder of `claim` may finish it. */
export interface ClaimedCall extends QueuedCall {
  /** The lease token, unique per `claim()`. */
  readonly claim: string;
}

/** What `finish` does with a call whose run ended. */
export interface Reschedule {
  readonly dueAt: number;
  readonly attempt: number;
}

export interface FutureCallQueue {
  readonly name: string;
  /** Adds the call unless one with its id exists; resolves to whether it was added. */
  schedule(call: QueuedCall): Promise<boolean>;
  /**
   * Leases up to `limit` calls due at `now` (`dueAt <= now`, earliest first) whose `name` is in
   * `names`, until `now + leaseMs`. A call whose lease expired (its holder died) is due again.
   * Atomic: concurrent claimers, here or on other instances, never get the same call while its
   * lease runs.
   */
  claim(now: number, limit: number, leaseMs: number, names: readonly string[]): Promise<ClaimedCall[]>;
  /** Moves the lease to `now + leaseMs`; `false` when the call is no longer held under `call.claim`. */
  extend(call: ClaimedCall, now: number, leaseMs: number): Promise<boolean>;
  /**
   * Ends a run held under `call.claim`: deletes the call, or with `next` puts it back pending at
   * `next.dueAt` (a retry, or a recurring call's next occurrence) unless it was cancelled while
   * it ran. `false` (and no change) when the lease was lost.
   */
  finish(call: ClaimedCall, next?: Reschedule): Promise<boolean>;
  /**
   * Deletes every pending call with this identifier, including those whose lease expired at
   * `now`; a call under a live lease keeps running but is marked cancelled, so `finish` deletes
   * it instead of rescheduling. Resolves to how many calls were deleted or marked.
   */
  cancel(identifier: string, now: number): Promise<number>;
  /** How many calls the queue holds (pending and running). */
  size(): Promise<number>;
  /** Releases what the queue opened (never the client or pool it was given). */
  close?(): Promise<void>;
}
