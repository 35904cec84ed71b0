/**
 * The future-call queue contract. The queue owns time, leases, retries, dead letters and
 * recurring schedules (pg-boss and BullMQ already do all of that well); sojourn hands it calls
 * and, to run one, a session-aware `run` (the host) that opens the task session. Implementations:
 * memory (default, not durable), pg-boss (`sojourn/pg-boss`), BullMQ (`sojourn/bullmq`).
 */

/** Retries of a failed call: the n-th retry waits about `delay × 2^(n−1)` ms. */
export interface RetryPolicy {
  /** How many times a failed call is run again before it goes to the failed state. */
  readonly limit: number;
  readonly delay: number;
}

/** When a recurring series runs: a fixed interval (ms) or a cron pattern. */
export type Recurrence = { readonly every: number } | { readonly cron: string; readonly timezone?: string };

/** A one-off call, as sojourn hands it to `schedule`. */
export interface QueuedCall {
  /** The registered name of the handler. */
  readonly name: string;
  /** The payload as JSON text (validated by the core). */
  readonly payload: string;
  /** When it is due, epoch milliseconds (the manager's clock). */
  readonly dueAt: number;
  /** Names the call: scheduling another with it replaces the pending one; `cancel(identifier)` removes it. */
  readonly identifier?: string;
  /** The session record the task session is bound to (its public id, never its token). */
  readonly sessionId?: string;
  readonly retry: RetryPolicy;
  /** How long a run may go without a sign of life before the queue takes its worker for dead (ms). */
  readonly lease: number;
}

/** A recurring series, as sojourn hands it to `repeat`. */
export interface RecurringCall {
  readonly name: string;
  readonly payload: string;
  /** Names the series: `repeat` again with it replaces the series, never adds a second one. */
  readonly identifier: string;
  readonly sessionId?: string;
  readonly recurrence: Recurrence;
  readonly lease: number;
  /** When the series was asked for, epoch milliseconds (the manager's clock). */
  readonly now: number;
}

/** One attempt of a call, as the queue hands it to `host.run`. */
export interface RunningCall {
  /** The queue's id of the job. */
  readonly id: string;
  readonly name: string;
  readonly payload: string;
  readonly identifier?: string;
  readonly sessionId?: string;
  /** 0 for the first run, then 1, 2… for retries. */
  readonly attempt: number;
  /** A failure of this attempt is the last one: the call then goes to the failed state. */
  readonly final: boolean;
}

/** A call in the queue's failed (dead-letter) state. */
export interface FailedCall {
  readonly id: string;
  readonly name: string;
  readonly payload: string;
  readonly identifier?: string;
  readonly sessionId?: string;
  /** How many times it ran. */
  readonly attempts: number;
  /** The last error's message, as the queue kept it. */
  readonly error: string;
  /** When it failed for good, epoch milliseconds, when the queue says. */
  readonly failedAt?: number;
}

/** What the manager gives a queue to run calls with. */
export interface QueueHost {
  readonly clock: () => number;
  /** Calls run at once by this instance. */
  readonly concurrency: number;
  /** How often a polling queue looks for due calls (ms). */
  readonly pollInterval: number;
  /** How long a claimed call is held without a heartbeat (ms). */
  readonly lease: number;
  /** Runs one attempt in a task session; rejects when it failed (the queue retries it or fails it for good). */
  run(call: RunningCall): Promise<void>;
}

export interface FutureCallQueue {
  readonly name: string;
  /** Calls survive a restart and are shared by every instance on the same backend. */
  readonly durable: boolean;
  /** Queues a one-off call (replacing the pending call of its identifier); resolves to the job's id. */
  schedule(call: QueuedCall): Promise<string>;
  /** Creates or replaces the series `call.identifier`; exactly one run per occurrence across instances. */
  repeat(call: RecurringCall): Promise<string>;
  /** Removes the pending call and the series of this identifier (a running one finishes); how many. */
  cancel(identifier: string): Promise<number>;
  /** Starts running due calls with `host.run`, at most `host.concurrency` at once. */
  start(host: QueueHost): Promise<void>;
  /** Runs every call due now on this instance and waits for them; resolves to how many ran. */
  runDue(host: QueueHost): Promise<number>;
  /** Calls in the failed (dead-letter) state, newest first. */
  failed(limit?: number): Promise<FailedCall[]>;
  /** Calls waiting or running (not failed). */
  size(): Promise<number>;
  /** Stops running calls (waits for the running ones) and releases what the queue opened, never what it was given. */
  close(): Promise<void>;
}
