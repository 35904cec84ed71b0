import type { Duration } from '../duration.js';
import { SessionConfigError } from '../errors.js';
import type { FutureCallQueue } from '../queues/types.js';
import { describe, durationOption, integerOption, optionGroup } from '../validate.js';

/** Retries of a failed one-off call, with exponential backoff. */
export interface RetryOptions {
  /** How many times a failed call is run again. @default 0 */
  limit: number;
  /** Wait before the first retry. @default '1s' */
  delay?: Duration;
  /** Each later wait is the previous one times this. @default 2 */
  factor?: number;
  /** No wait is longer than this. @default '1h' */
  maxDelay?: Duration;
}

/** The `futureCalls` option of `createSessionManager`. */
export interface FutureCallOptions {
  /** Where calls wait. @default memoryQueue() (not durable) */
  queue?: FutureCallQueue;
  /** Calls run at once by this instance; 0: it schedules calls but never runs any. @default 1 */
  concurrency?: number;
  /** How often `start()`ed managers look for due calls. @default '1s' */
  pollInterval?: Duration;
  /** How long a claimed call is held without a heartbeat before another instance may run it again. @default '30s' */
  lease?: Duration;
  /** Retries of failed one-off calls: a count, or the full policy. @default 0 (none) */
  retries?: number | RetryOptions;
}

export interface ResolvedRetries {
  readonly limit: number;
  readonly delay: number;
  readonly factor: number;
  readonly maxDelay: number;
}

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
  retryFactor: 2,
  retryMaxDelay: '1h',
} as const);

const KEYS = new Set(['queue', 'concurrency', 'pollInterval', 'lease', 'retries']);
const RETRY_KEYS = new Set(['limit', 'delay', 'factor', 'maxDelay']);
const QUEUE_METHODS = ['schedule', 'claim', 'extend', 'finish', 'cancel', 'size'];

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
  const factor = policy.factor ?? FUTURE_CALL_DEFAULTS.retryFactor;
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
    throw new SessionConfigError('futureCalls.retries.factor', `must be a number of at least 1, got ${describe(factor)}`);
  }
  return Object.freeze({
    limit: integerOption('futureCalls.retries', policy.limit, FUTURE_CALL_DEFAULTS.retries, 0),
    delay: durationOption('futureCalls.retries.delay', policy.delay, FUTURE_CALL_DEFAULTS.retryDelay, 0),
    factor,
    maxDelay: durationOption('futureCalls.retries.maxDelay', policy.maxDelay, FUTURE_CALL_DEFAULTS.retryMaxDelay, 0),
  });
}
