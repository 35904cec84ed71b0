import { reason, warn } from '../environment.js';
import type { ClaimedCall, FutureCallQueue, Reschedule } from '../queues/types.js';
import type { SessionService } from '../service.js';
import { sessionControl, type Session } from '../session.js';
import type { ResolvedFutureCallOptions } from './options.js';

export type FutureCallHandler<P = unknown> = (session: Session, payload: P) => unknown;

export interface RunnerParts {
  readonly queue: FutureCallQueue;
  readonly options: ResolvedFutureCallOptions;
  readonly clock: () => number;
  readonly handlers: ReadonlyMap<string, FutureCallHandler>;
  /** Opens task sessions and reads the records they are bound to. */
  readonly service: SessionService;
}

/**
 * The execution engine (Serverpod's scanner plus scheduler): polls the queue on an unref'd
 * timer, claims at most `concurrency` calls under a lease kept alive by a heartbeat, runs each
 * with its own task session, then deletes it, retries it or schedules its next occurrence.
 */
export function createRunner({ queue, options, clock, handlers, service }: RunnerParts) {
  const { concurrency, lease, pollInterval } = options;
  const running = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let pollFailing = false;

  /** Claims calls for the free slots and starts them; resolves to how many it claimed. */
  async function fill(): Promise<number> {
    const free = concurrency - running.size;
    if (stopped || free <= 0 || handlers.size === 0) return 0;
    const calls = await queue.claim(clock(), free, lease, [...handlers.keys()]);
    for (const call of calls) {
      const done = run(call).finally(() => {
        running.delete(done);
        if (timer) poll(); // a slot is free: more may be waiting
      });
      running.add(done);
    }
    return calls.length;
  }

  function poll(): void {
    if (polling) {
      again = true;
      return;
    }
    polling = fill()
      .then((claimed) => {
        pollFailing = false;
        if (claimed > 0 && running.size < concurrency) again = true; // a full batch: look again now
      }, pollFailed)
      .finally(() => {
        polling = undefined;
        if (again && timer) {
          again = false;
          poll();
        }
      });
  }

  function pollFailed(error: unknown): void {
    if (pollFailing) return; // once per outage, not once per poll
    pollFailing = true;
    warn('SOJOURN_FUTURE_CALLS_POLL_FAILED', `future calls: polling the ${queue.name} queue failed (${reason(error)})`);
  }

  async function run(call: ClaimedCall): Promise<void> {
    const heartbeat = setInterval(() => {
      queue.extend(call, clock(), lease).then(
        (held) => held || warn('SOJOURN_FUTURE_CALL_LEASE_LOST', `future call '${call.name}' lost its lease while running; another instance may run it again`),
        () => {}, // a queue outage: the next beat tries again
      );
    }, Math.max(1, Math.floor(lease / 3))).unref();
    let error: unknown;
    let failed = false;
    try {
      const session = await openTaskSession(service, call, clock);
      try {
        await handlers.get(call.name)!(session, JSON.parse(call.payload));
      } catch (thrown) {
        [failed, error] = [true, thrown];
      }
      await session.close(failed ? { error } : {});
    } catch (thrown) {
      if (!failed) [failed, error] = [true, thrown]; // the task session could not be opened
    } finally {
      clearInterval(heartbeat);
    }
    const next = nextRun(call, failed);
    await queue.finish(call, next).catch((finishError: unknown) => {
      warn('SOJOURN_FUTURE_CALL_FINISH_FAILED', `future call '${call.name}' ran but the ${queue.name} queue could not record it (${reason(finishError)}); it will run again when its lease expires`);
    });
    if (failed && (call.every !== undefined || !next)) {
      warn('SOJOURN_FUTURE_CALL_FAILED', `future call '${call.name}' failed (attempt ${call.attempt + 1}): ${reason(error)}`);
    }
  }

  /** A recurring call's next occurrence, a retry with backoff, or nothing (delete). */
  function nextRun(call: ClaimedCall, failed: boolean): Reschedule | undefined {
    const now = clock();
    if (call.every !== undefined) {
      const periods = Math.max(0, Math.floor((now - call.dueAt) / call.every)) + 1;
      return { dueAt: call.dueAt + periods * call.every, attempt: 0 };
    }
    const { limit, delay, factor, maxDelay } = options.retries;
    if (!failed || call.attempt >= limit) return undefined;
    return { dueAt: now + Math.min(delay * factor ** call.attempt, maxDelay), attempt: call.attempt + 1 };
  }

  return {
    get running(): number {
      return running.size;
    },
    start(): void {
      if (timer || stopped || concurrency === 0) return;
      timer = setInterval(poll, pollInterval).unref();
      poll();
    },
    /** Runs every call due now, here, and waits for them; resolves to how many ran. */
    async runDue(): Promise<number> {
      let total = 0;
      for (;;) {
        const claimed = await fill();
        total += claimed;
        if (running.size === 0 && claimed === 0) return total;
        if (claimed === 0 || running.size >= concurrency) await Promise.race(running);
      }
    },
    /** Stops claiming, waits for the poll in flight and every running call. */
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      timer = undefined;
      await polling;
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}

// ---------------------------------------------------------------------------------------

/**
 * A task session reads its record from the store (fresh, and no renewal: a task is not the user's
 * activity); a record gone or expired leaves it without one.
 */
async function openTaskSession(service: SessionService, call: ClaimedCall, clock: () => number): Promise<Session> {
  const session = service.open('task', { token() {}, route: () => `future call ${call.name}` });
  if (call.sessionId === undefined) return session;
  try {
    const record = await service.load(call.sessionId);
    sessionControl.bind(session, record && record.expiresAt > clock() ? service.serializeSession(record) : undefined);
  } catch (error) {
    await session.close({ error });
    throw error;
  }
  return session;
}
