import { toMs, type Duration } from '../duration.js';
import { memoryQueue } from '../queues/memory.js';
import { cronProblem } from '../queues/recurrence.js';
import type { FailedCall, FutureCallQueue, Recurrence } from '../queues/types.js';
import type { SessionService } from '../service.js';
import { Session } from '../session.js';
import type { ResolvedFutureCallOptions } from './options.js';
import { payloadJson } from './payload.js';
import { createRunner, type FutureCallHandler } from './runner.js';

export type { FutureCallHandler };

export interface ScheduleOptions {
  /** Names the call: scheduling again with it replaces the pending call, and `cancel(identifier)` removes it. */
  identifier?: string;
  /**
   * The session the task session is bound to: the task sees its record (user, active order, data)
   * and writes to it. A Session (e.g. `req.session`; a record is created if it has none yet) or a
   * record id. Only the record's public id is queued, never its token.
   */
  session?: Session | string;
}

export interface RecurringOptions extends ScheduleOptions {
  /** Required: names the series, so `every()` at every boot of every instance keeps one series, and `cancel()` stops it. */
  identifier: string;
}

/** A cron schedule: five fields (minutes), or six with seconds (memory and BullMQ only). */
export interface CronSchedule {
  cron: string;
  /** IANA time zone of the pattern. @default 'UTC' */
  timezone?: string;
}

/** `manager.futureCalls`: durable work that runs after the request has ended, in its own task session. */
export interface FutureCalls {
  readonly queue: FutureCallQueue;
  /** Calls running on this instance now. */
  readonly running: number;
  /** Registers the handler of `name`; each instance that should run such calls registers it. */
  register<P = any>(name: string, handler: FutureCallHandler<P>): void; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Schedules `name(payload)` after `delay`; resolves to the job's id once it is queued. */
  callWithDelay(name: string, payload: unknown, delay: Duration, options?: ScheduleOptions): Promise<string>;
  /** Schedules `name(payload)` at `at` (a Date or epoch ms; a past time runs at once). */
  callAtTime(name: string, payload: unknown, at: Date | number, options?: ScheduleOptions): Promise<string>;
  /**
   * Runs `name(payload)` on `schedule` (an interval, or `{ cron, timezone? }`) until
   * `cancel(identifier)`: one run per occurrence across instances. Again with the same identifier
   * (every boot, every instance) it replaces the series, never adds a second one.
   */
  every(name: string, payload: unknown, schedule: Duration | CronSchedule, options: RecurringOptions): Promise<string>;
  /** Removes the pending call and the series of this identifier; a running one finishes. Resolves to how many. */
  cancel(identifier: string): Promise<number>;
  /** Calls in the queue's failed (dead-letter) state, newest first: retries exhausted, or no handler. */
  failed(limit?: number): Promise<FailedCall[]>;
  /** Runs every call due now on this instance and waits for them (cron jobs, serverless, tests). */
  runDue(): Promise<number>;
}

/** The public `futureCalls`, and how the manager starts and stops running them. */
export function createFutureCalls(options: ResolvedFutureCallOptions, clock: () => number, service: SessionService) {
  const queue = options.queue ?? memoryQueue();
  const handlers = new Map<string, FutureCallHandler>();
  const runner = createRunner({ options, clock, handlers, service });
  let closed = false;
  let started: Promise<void> | undefined;

  /** The parts every call shares: checked name, payload and options, the bound record's id. */
  async function prepare(name: string, payload: unknown, opts: ScheduleOptions | undefined) {
    if (closed) throw new Error(`sojourn: future call '${name}' scheduled after the manager closed`);
    if (!handlers.has(name)) {
      throw new TypeError(`sojourn: no future call named '${String(name)}' is registered (futureCalls.register(name, handler) first)`);
    }
    const json = payloadJson(name, payload);
    const { identifier, session } = checkOptions(opts);
    return {
      name,
      payload: json,
      lease: options.lease,
      ...(identifier === undefined ? {} : { identifier }),
      ...(session === undefined ? {} : { sessionId: await sessionIdOf(session) }),
    };
  }

  async function schedule(name: string, payload: unknown, dueAt: number, opts: ScheduleOptions | undefined): Promise<string> {
    const call = await prepare(name, payload, opts);
    return queue.schedule({ ...call, dueAt, retry: options.retries });
  }

  const futureCalls: FutureCalls = {
    queue,
    get running() {
      return runner.running;
    },
    register(name, handler) {
      if (typeof name !== 'string' || name.length === 0) throw new TypeError('sojourn: a future call name must be a non-empty string');
      if (typeof handler !== 'function') throw new TypeError(`sojourn: the handler of future call '${name}' must be a function`);
      if (handlers.has(name)) throw new TypeError(`sojourn: future call '${name}' is already registered`);
      handlers.set(name, handler as FutureCallHandler);
    },
    callWithDelay(name, payload, delay, opts) {
      const ms = toMs(delay);
      if (ms === undefined) return Promise.reject(new TypeError(`sojourn: future call '${name}': the delay must be a duration (ms or a string like '5m'), got ${String(delay)}`));
      return schedule(name, payload, clock() + ms, opts);
    },
    callAtTime(name, payload, at, opts) {
      const time = at instanceof Date ? at.getTime() : at;
      if (typeof time !== 'number' || !Number.isFinite(time)) {
        return Promise.reject(new TypeError(`sojourn: future call '${name}': the time must be a valid Date or epoch milliseconds`));
      }
      return schedule(name, payload, time, opts);
    },
    async every(name, payload, when, opts) {
      const recurrence = toRecurrence(name, when);
      if (typeof opts?.identifier !== 'string' || opts.identifier.length === 0) throw new TypeError('sojourn: futureCalls.every needs an `identifier`');
      const call = await prepare(name, payload, opts);
      return queue.repeat({ ...call, identifier: opts.identifier, recurrence, now: clock() });
    },
    async cancel(identifier) {
      if (typeof identifier !== 'string' || identifier.length === 0) throw new TypeError('sojourn: futureCalls.cancel needs a non-empty identifier');
      return queue.cancel(identifier);
    },
    failed: (limit) => queue.failed(limit),
    runDue: () => queue.runDue(runner.host),
  };
  return {
    futureCalls,
    start(): Promise<void> {
      started ??= queue.start(runner.host);
      return started;
    },
    async stop(): Promise<void> {
      closed = true;
      await queue.close();
    },
  };
}

// ---------------------------------------------------------------------------------------

function checkOptions(opts: ScheduleOptions | undefined): ScheduleOptions {
  if (opts === undefined) return {};
  if (typeof opts !== 'object' || opts === null) throw new TypeError('sojourn: future call options must be an object');
  const { identifier, session } = opts;
  if (identifier !== undefined && (typeof identifier !== 'string' || identifier.length === 0)) {
    throw new TypeError('sojourn: a future call `identifier` must be a non-empty string');
  }
  if (session !== undefined && !(session instanceof Session) && (typeof session !== 'string' || session.length === 0)) {
    throw new TypeError('sojourn: a future call `session` must be a Session or a session record id');
  }
  return { identifier, session };
}

/** An interval (a duration) or `{ cron, timezone? }`, checked now rather than by the queue later. */
function toRecurrence(name: string, when: Duration | CronSchedule): Recurrence {
  if (typeof when === 'object' && when !== null) {
    const { cron, timezone } = when;
    const problem = typeof cron === 'string' && (timezone === undefined || typeof timezone === 'string') ? cronProblem(cron, timezone) : 'cron must be a string';
    if (problem) throw new TypeError(`sojourn: future call '${name}': bad cron schedule ${JSON.stringify(when)}: ${problem}`);
    return timezone === undefined ? { cron } : { cron, timezone };
  }
  const every = toMs(when);
  if (every === undefined || every < 1) throw new TypeError(`sojourn: future call '${name}': the interval must be a duration of at least 1 ms, or { cron }`);
  return { every };
}

/** The record id to bind; a session without a record gets one now, so the task sees the same one. */
async function sessionIdOf(session: Session | string): Promise<string> {
  if (typeof session === 'string') return session;
  if (session.id === undefined) await session.ensure();
  if (session.id === undefined) throw new TypeError('sojourn: the session given to a future call has no record (it was revoked)');
  return session.id;
}
