import { reason, warn } from '../environment.js';
import type { QueueHost, RunningCall } from '../queues/types.js';
import type { SessionService } from '../service.js';
import { sessionControl, type Session } from '../session.js';
import type { ResolvedFutureCallOptions } from './options.js';

export type FutureCallHandler<P = unknown> = (session: Session, payload: P) => unknown;

export interface RunnerParts {
  readonly options: ResolvedFutureCallOptions;
  readonly clock: () => number;
  readonly handlers: ReadonlyMap<string, FutureCallHandler>;
  /** Opens task sessions and reads the records they are bound to. */
  readonly service: SessionService;
}

/** A call whose name has no handler on the instance that picked it up. */
export class UnknownFutureCallError extends Error {
  override readonly name = 'UnknownFutureCallError';
}

/**
 * The session-aware side of a queue (the host): each attempt runs in its own task session, bound
 * by record id; a failure closes that session with the error (its log entry says so) and is
 * thrown back to the queue, which retries the call or moves it to its failed state. The last
 * failure is also warned, so nothing fails silently.
 */
export function createRunner({ options, clock, handlers, service }: RunnerParts) {
  let running = 0;

  async function attempt(call: RunningCall): Promise<void> {
    const handler = handlers.get(call.name);
    const session = await openTaskSession(service, call, clock);
    let error: unknown;
    let failed = false;
    try {
      if (!handler) throw new UnknownFutureCallError(`no handler for future call '${call.name}' is registered on this instance`);
      await handler(session, JSON.parse(call.payload));
    } catch (thrown) {
      [failed, error] = [true, thrown];
    }
    await session.close(failed ? { error } : {});
    if (failed) throw error;
  }

  const host: QueueHost = {
    clock,
    concurrency: options.concurrency,
    pollInterval: options.pollInterval,
    lease: options.lease,
    async run(call) {
      running++;
      try {
        await attempt(call);
      } catch (error) {
        if (call.final) warnFailed(call, error);
        throw error;
      } finally {
        running--;
      }
    },
  };
  return {
    host,
    get running(): number {
      return running;
    },
  };
}

// ---------------------------------------------------------------------------------------

function warnFailed(call: RunningCall, error: unknown): void {
  const where = `(attempt ${call.attempt + 1})`;
  if (error instanceof UnknownFutureCallError) {
    warn('SOJOURN_FUTURE_CALL_UNKNOWN', `future call '${call.name}' ${where} has no handler on this instance: it is now in the failed state`);
  } else {
    warn('SOJOURN_FUTURE_CALL_FAILED', `future call '${call.name}' failed ${where}: ${reason(error)}`);
  }
}

/**
 * A task session reads its record from the store (fresh, and no renewal: a task is not the user's
 * activity); a record gone or expired leaves it without one.
 */
async function openTaskSession(service: SessionService, call: RunningCall, clock: () => number): Promise<Session> {
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
