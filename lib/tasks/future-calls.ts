import { randomUUID } from 'node:crypto';
import { toMs, type Duration } from '../duration.js';
import { memoryQueue } from '../queues/memory.js';
import type { FutureCallQueue, QueuedCall } from '../queues/types.js';
import type { SessionService } from '../service.js';
import { Session } from '../session.js';
import type { ResolvedFutureCallOptions } from './options.js';
import { payloadJson } from './payload.js';
import { createRunner, type FutureCallHandler } from './runner.js';

export type { FutureCallHandler };

export interface ScheduleOptions {
  /** Groups calls for `cancel(identifier)`; many calls may share one. */
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
  /** First occurrence. @default now + interval */
  start?: Date | number;
}

/** `manager.futureCalls`: durable work that runs after the request has ended, in its own task session. */
export interface FutureCalls {
  readonly queue: FutureCallQueue;
  /** Calls running on this instance now. */
  readonly running: number;
  /** Registers the handler of `name`; each instance that should run such calls registers it. */
  register<P = any>(name: string, handler: FutureCallHandler<P>): void; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Schedules `name(payload)` after `delay`; resolves to the call's id once it is queued. */
  callWithDelay(name: string, payload: unknown, delay: Duration, options?: ScheduleOptions): Promise<string>;
  /** Schedules `name(payload)` at `at` (a Date or epoch ms; a past time runs at the next poll). */
  callAtTime(name: string, payload: unknown, at: Date | number, options?: ScheduleOptions): Promise<string>;
  /**
   * Runs `name(payload)` every `interval` (between scheduled starts), until `cancel(identifier)`.
   * Idempotent per identifier: while a series with it exists, this changes nothing.
   */
  every(name: string, payload: unknown, interval: Duration, options: RecurringOptions): Promise<string>;
  /** Deletes every pending call with this identifier; a running one finishes but is not retried or repeated. */
  cancel(identifier: string): Promise<number>;
  /** Runs every call due now on this instance and waits for them (cron jobs, serverless, tests). */
  runDue(): Promise<number>;
}

/** The public `futureCalls`, and how the manager starts and stops running them. */
export function createFutureCalls(options: ResolvedFutureCallOptions, clock: () => number, service: SessionService) {
  const queue = options.queue ?? memoryQueue();
  const handlers = new Map<string, FutureCallHandler>();
  const runner = createRunner({ queue, options, clock, handlers, service });
  let closed = false;

  async function schedule(name: string, payload: unknown, dueAt: number, opts: ScheduleOptions | undefined, every?: number): Promise<string> {
    if (closed) throw new Error(`sojourn: future call '${name}' scheduled after the manager closed`);
    if (!handlers.has(name)) {
      throw new TypeError(`sojourn: no future call named '${String(name)}' is registered (futureCalls.register(name, handler) first)`);
    }
    const json = payloadJson(name, payload);
    const { identifier, session } = checkOptions(opts);
    if (every !== undefined && identifier === undefined) throw new TypeError('sojourn: futureCalls.every needs an `identifier`');
    const call: QueuedCall = {
      id: every === undefined ? randomUUID() : `every:${identifier}`,
      name,
      payload: json,
      dueAt,
      attempt: 0,
      ...(identifier === undefined ? {} : { identifier }),
      ...(every === undefined ? {} : { every }),
      ...(session === undefined ? {} : { sessionId: await sessionIdOf(session) }),
    };
    await queue.schedule(call);
    return call.id;
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
    every(name, payload, interval, opts) {
      const ms = toMs(interval);
      if (ms === undefined || ms < 1) return Promise.reject(new TypeError(`sojourn: future call '${name}': the interval must be a duration of at least 1 ms`));
      const start = opts?.start instanceof Date ? opts.start.getTime() : (opts?.start ?? clock() + ms);
      if (!Number.isFinite(start)) return Promise.reject(new TypeError(`sojourn: future call '${name}': \`start\` must be a valid Date or epoch milliseconds`));
      const { start: _start, ...rest } = opts ?? ({} as RecurringOptions);
      return schedule(name, payload, start, rest, ms);
    },
    async cancel(identifier) {
      if (typeof identifier !== 'string' || identifier.length === 0) throw new TypeError('sojourn: futureCalls.cancel needs a non-empty identifier');
      return queue.cancel(identifier, clock());
    },
    runDue: () => runner.runDue(),
  };
  return {
    futureCalls,
    start: () => runner.start(),
    async stop(): Promise<void> {
      closed = true;
      await runner.stop();
      await queue.close?.();
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

/** The record id to bind; a session without a record gets one now, so the task sees the same one. */
async function sessionIdOf(session: Session | string): Promise<string> {
  if (typeof session === 'string') return session;
  if (session.id === undefined) await session.ensure();
  if (session.id === undefined) throw new TypeError('sojourn: the session given to a future call has no record (it was revoked)');
  return session.id;
}
