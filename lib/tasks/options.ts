import type { Duration } from '../duration.js';
import { SessionConfigError } from '../errors.js';
import type { FutureCallQueue, RetryPolicy } from '../queues/types.js';
import { durationOption, integerOption, optionGroup } from '../validate.js';

/**
 * Retries of a failed one-off call, with exponential backoff: the n-th retry waits about
 * `delay × 2^(n−1)` (the backoff BullMQ and pg-boss share; pg-boss counts whole seconds and adds
 * up to 100 % jitter).
 */
export interface RetryOptions {
  /** How many times a failed call is run again. @default 0 */
  limit: number;
  /** Wait before the first retry. @default '1s' */
  delay?: Duration;
}

/** The `futureCalls` option of `createSessionManager`. */
export interface FutureCallOptions {
  /** Where calls wait: `pgBossQueue(boss)`, `bullmqQueue({ connection })`. @default memoryQueue() (not durable) */
  queue?: FutureCallQueue;
  /** Calls run at once by this instance; 0: it schedules calls but never runs any. @default 1 */
  concurrency?: number;
  /** How often a polling queue (memory, pg-boss: at least 500 ms) looks for due calls. @default '1s' */
  pollInterval?: Duration;
  /**
   * How long a running call may go without a sign of life before another instance runs it again:
   * BullMQ's lock (renewed while it runs), pg-boss's `expireInSeconds` (a hard limit on a run). @default '30s'
   */
  lease?: Duration;
  /** Retries of failed one-off calls: a count, or the full policy. @default 0 (none) */
  retries?: number | RetryOptions;
}

export type ResolvedRetries = RetryPolicy;

export interface ResolvedFutureCallOptions {
  readonly queue: FutureCallQueue | undefined;
  readonly concurrency: number;
  readonly pollInterval: number;
  readonly lease: number;
  readonly retries: ResolvedRetries;
}

export const FUTURE_CALL_DEFAULTS = Object.freeze({
  concurrency: 1,
  pollInterval: '1s',
  lease: '30s',
  retries: 0,
  retryDelay: '1s',
} as const);

const KEYS = new Set(['queue', 'concurrency', 'pollInterval', 'lease', 'retries']);
const RETRY_KEYS = new Set(['limit', 'delay']);
const QUEUE_METHODS = ['schedule', 'repeat', 'cancel', 'start', 'runDue', 'failed', 'size', 'close'];

/** Validates `futureCalls` once; `SessionConfigError`s (TypeErrors) name the option. */
export function resolveFutureCallOptions(value: unknown): ResolvedFutureCallOptions {
  const input = optionGroup('futureCalls', value, KEYS) as FutureCallOptions;
  const { queue } = input;
  if (queue !== undefined && !QUEUE_METHODS.every((m) => typeof (queue as unknown as Record<string, unknown>)?.[m] === 'function')) {
    throw new SessionConfigError('futureCalls.queue', `must implement the FutureCallQueue contract (${QUEUE_METHODS.join(', ')})`);
  }
  return Object.freeze({
    queue,
    concurrency: integerOption('futureCalls.concurrency', input.concurrency, FUTURE_CALL_DEFAULTS.concurrency, 0),
    pollInterval: durationOption('futureCalls.pollInterval', input.pollInterval, FUTURE_CALL_DEFAULTS.pollInterval, 1),
    lease: durationOption('futureCalls.lease', input.lease, FUTURE_CALL_DEFAULTS.lease, 100),
    retries: resolveRetries(input.retries),
  });
}

// ---------------------------------------------------------------------------------------

function resolveRetries(value: unknown): ResolvedRetries {
  const policy = typeof value === 'number' ? { limit: value } : (optionGroup('futureCalls.retries', value, RETRY_KEYS) as Partial<RetryOptions>);
  return Object.freeze({
    limit: integerOption('futureCalls.retries', policy.limit, FUTURE_CALL_DEFAULTS.retries, 0),
    delay: durationOption('futureCalls.retries.delay', policy.delay, FUTURE_CALL_DEFAULTS.retryDelay, 0),
  });
}
