import { afterEach, describe, expect, it } from 'vitest';
import { createSessionManager, memoryQueue, Session, SessionConfigError, type SessionLog, type SessionManager, type SessionOptions } from '../../lib/index.js';
import { captureWarnings } from '../helpers/warnings.js';

const T0 = Date.UTC(2026, 0, 1);
const managers: SessionManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
});

/** A manager on a clock the test moves; calls run when the test says `runDue()`. */
function world(options: SessionOptions = {}) {
  let now = T0;
  const logs: SessionLog[] = [];
  const manager = createSessionManager({
    secret: 'test',
    cleanupInterval: false,
    clock: () => now,
    logs: { sink: (log) => void logs.push(log), logAll: true },
    ...options,
  });
  managers.push(manager);
  return { manager, calls: manager.futureCalls, logs, advance: (ms: number) => void (now += ms), now: () => now };
}

describe('futureCalls option', () => {
  it.each([
    [{ futureCalls: 3 }, 'futureCalls'],
    [{ futureCalls: { pollIntervall: '1s' } }, 'futureCalls.pollIntervall'],
    [{ futureCalls: { concurrency: -1 } }, 'futureCalls.concurrency'],
    [{ futureCalls: { concurrency: 1.5 } }, 'futureCalls.concurrency'],
    [{ futureCalls: { pollInterval: 'soon' } }, 'futureCalls.pollInterval'],
    [{ futureCalls: { lease: 10 } }, 'futureCalls.lease'],
    [{ futureCalls: { queue: {} } }, 'futureCalls.queue'],
    [{ futureCalls: { retries: -1 } }, 'futureCalls.retries'],
    [{ futureCalls: { retries: { limit: 2, factor: 3 } } }, 'futureCalls.retries.factor'],
    [{ futureCalls: { retries: { limit: 2, backoff: 1 } } }, 'futureCalls.retries.backoff'],
  ])('%j is a SessionConfigError naming %s', (options, option) => {
    const attempt = () => createSessionManager({ secret: 's', ...(options as SessionOptions) });
    expect(attempt).toThrow(SessionConfigError);
    expect(attempt).toThrow(expect.objectContaining({ option }));
  });

  it('resolves defaults and durations to milliseconds', () => {
    const { manager } = world({ futureCalls: { pollInterval: '2s', retries: 3 } });
    expect(manager.options.futureCalls).toEqual({
      queue: undefined,
      concurrency: 1,
      pollInterval: 2_000,
      lease: 30_000,
      retries: { limit: 3, delay: 1_000 },
    });
  });
});

describe('scheduling', () => {
  it('refuses an unregistered name, a bad name or handler, and a second registration', async () => {
    const { calls } = world();
    await expect(calls.callWithDelay('nope', {}, 10)).rejects.toThrow(/no future call named 'nope' is registered/);
    expect(() => calls.register('', () => {})).toThrow(TypeError);
    expect(() => calls.register('x', 'fn' as never)).toThrow(/must be a function/);
    calls.register('x', () => {});
    expect(() => calls.register('x', () => {})).toThrow(/already registered/);
    expect(await calls.queue.size()).toBe(0);
  });

  it.each([
    [new Date(0), 'payload is a Date (pass date.toISOString() or getTime())'],
    [{ when: new Map() }, 'payload.when is a Map'],
    [{ items: [1, () => 2] }, 'payload.items[1] is a function'],
    [{ n: 10n }, 'payload.n is a bigint'],
    [{ n: NaN }, 'payload.n is NaN'],
    [[1, undefined], 'payload[1] is undefined'],
    [new (class Order {})(), 'payload is a Order'],
    [(() => { const a: Record<string, unknown> = {}; a.self = a; return a; })(), 'payload.self is a circular reference'],
  ])('refuses a payload JSON would change (%#) and says where', async (payload, where) => {
    const { calls } = world();
    calls.register('job', () => {});
    await expect(calls.callWithDelay('job', payload, 10)).rejects.toThrow(`sojourn: future call 'job': the payload is not JSON-serialisable: ${where}`);
    expect(await calls.queue.size()).toBe(0);
  });

  it('refuses bad delays, times, identifiers and sessions', async () => {
    const { calls } = world();
    calls.register('job', () => {});
    await expect(calls.callWithDelay('job', 1, 'later' as never)).rejects.toThrow(/delay must be a duration/);
    await expect(calls.callAtTime('job', 1, new Date('nope'))).rejects.toThrow(/valid Date/);
    await expect(calls.callWithDelay('job', 1, 10, { identifier: '' })).rejects.toThrow(/identifier/);
    await expect(calls.callWithDelay('job', 1, 10, { session: {} as never })).rejects.toThrow(/Session or a session record id/);
    await expect(calls.every('job', 1, '1m', {} as never)).rejects.toThrow(/needs an `identifier`/);
    await expect(calls.every('job', 1, { cron: '61 * * * *' }, { identifier: 'j' })).rejects.toThrow(/bad cron schedule/);
    await expect(calls.every('job', 1, { cron: '0 3 * * *', timezone: 'Mars/Olympus' }, { identifier: 'j' })).rejects.toThrow(/bad cron schedule/);
    await expect(calls.every('job', 1, 0, { identifier: 'j' })).rejects.toThrow(/at least 1 ms, or \{ cron \}/);
  });
});

describe('running', () => {
  it('runs a call when it is due, not before, with the payload, in its own task session that closes after', async () => {
    const { calls, advance, logs } = world();
    const seen: { kind: string; payload: unknown; session: Session }[] = [];
    calls.register('mail', (session, payload) => void seen.push({ kind: session.kind, payload, session }));
    await calls.callWithDelay('mail', { to: 'ada@example.com', n: [1, 2] }, '5m');
    advance(5 * 60_000 - 1);
    expect(await calls.runDue()).toBe(0);
    advance(1);
    expect(await calls.runDue()).toBe(1);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ kind: 'task', payload: { to: 'ada@example.com', n: [1, 2] } });
    expect(seen[0]!.session.isClosed).toBe(true);
    expect(logs.find((log) => log.kind === 'task')).toMatchObject({ route: 'future call mail', error: undefined });
    expect(await calls.queue.size()).toBe(0);
    expect(await calls.runDue()).toBe(0);
  });

  it('callAtTime takes a Date or epoch ms; a time in the past runs at once; an undefined payload arrives as null', async () => {
    const { calls } = world();
    const got: unknown[] = [];
    calls.register('job', (_s, payload) => void got.push(payload));
    await calls.callAtTime('job', 'past', new Date(T0 - 60_000));
    await calls.callAtTime('job', undefined, T0);
    await calls.callAtTime('job', 'future', T0 + 1);
    expect(await calls.runDue()).toBe(2);
    expect(got).toEqual(['past', null]);
  });

  it("binds the scheduling session: the task sees the same record (user, active order) and writes to it", async () => {
    const { manager, calls } = world();
    calls.register('confirm', async (session) => {
      expect(session.user).toEqual({ id: 7, name: 'Ada' });
      expect(session.activeOrderId).toBe('ord_1');
      await session.set('confirmed', true);
    });
    const request = await manager.createSession({ kind: 'request' });
    await request.authenticate({ id: 7, name: 'Ada' }, 'password');
    await request.setActiveOrder('ord_1');
    await calls.callWithDelay('confirm', null, 0, { session: request });
    const id = request.id!;
    await request.close();
    expect(await calls.runDue()).toBe(1);
    expect((await manager.store.get(id))?.data).toEqual({ confirmed: true });
  });

  it('a session with no record yet gets one when it is given to a call; a record id works too', async () => {
    const { manager, calls } = world();
    const ids: (string | undefined)[] = [];
    calls.register('job', (session) => void ids.push(session.id));
    const fresh = await manager.createSession();
    await calls.callWithDelay('job', null, 0, { session: fresh });
    expect(fresh.id).toBeDefined();
    await calls.callWithDelay('job', null, 0, { session: fresh.id! });
    await fresh.close();
    await calls.runDue();
    expect(ids).toEqual([fresh.id, fresh.id]);
  });

  it('a task whose session was revoked meanwhile sees no record and its writes are refused', async () => {
    const { manager, calls } = world();
    const outcome: unknown[] = [];
    calls.register('job', async (session) => outcome.push(session.id, await session.set('k', 1)));
    const { session } = await manager.createAnonymousSession();
    await calls.callWithDelay('job', null, 0, { session: session.id });
    await manager.deleteSession(session.id);
    await calls.runDue();
    expect(outcome).toEqual([undefined, false]);
  });

  it('an identifier names one call: scheduling it again replaces the pending one; cancel removes it, a running one finishes', async () => {
    const { calls } = world();
    let release!: () => void;
    const ran: string[] = [];
    calls.register('job', async (_s, name: string) => {
      ran.push(name);
      if (name === 'slow') await new Promise<void>((resolve) => (release = resolve));
    });
    await calls.callWithDelay('job', 'slow', 0, { identifier: 'cart' });
    const running = calls.runDue();
    await new Promise((resolve) => setTimeout(resolve, 10));
    await calls.callWithDelay('job', 'replaced', 0, { identifier: 'cart' });
    await calls.callWithDelay('job', 'later', 0, { identifier: 'cart' });
    await calls.callWithDelay('job', 'other', 0, { identifier: 'other' });
    expect(await calls.queue.size()).toBe(3); // slow (running), later, other
    expect(await calls.cancel('cart')).toBe(1); // the pending one removed; the running one finishes
    release();
    expect(await running).toBe(2); // runDue went on with what was due: 'other', not the cancelled one
    expect(await calls.runDue()).toBe(0);
    expect(ran).toEqual(['slow', 'other']);
  });
});

describe('failures and retries', () => {
  it('by default a failing call closes its session with the error, warns, and is not run again', async () => {
    const { calls, logs, advance } = world();
    const capture = captureWarnings('SOJOURN_FUTURE_CALL_FAILED');
    let runs = 0;
    calls.register('boom', () => {
      runs++;
      throw new Error('card declined');
    });
    await calls.callWithDelay('boom', null, 0);
    await calls.runDue();
    advance(3_600_000);
    await calls.runDue();
    await new Promise((resolve) => setImmediate(resolve));
    capture.stop();
    expect(runs).toBe(1);
    expect((logs.find((log) => log.kind === 'task')?.error as Error).message).toBe('card declined');
    expect(capture.warnings[0]?.message).toBe("future call 'boom' failed (attempt 1): card declined");
    expect(await calls.queue.size()).toBe(0);
    expect(await calls.failed()).toEqual([expect.objectContaining({ name: 'boom', payload: 'null', attempts: 1, error: 'card declined', failedAt: T0 })]);
  });

  it('with retries, runs again after an exponential backoff, then gives up', async () => {
    const { calls, advance, now } = world({ futureCalls: { retries: { limit: 2, delay: '1s' } } });
    const capture = captureWarnings('SOJOURN_FUTURE_CALL_FAILED');
    const attempts: number[] = [];
    calls.register('flaky', () => {
      attempts.push(now() - T0);
      throw new Error('down');
    });
    await calls.callWithDelay('flaky', null, 0);
    await calls.runDue();
    advance(999);
    expect(await calls.runDue()).toBe(0);
    advance(1);
    expect(await calls.runDue()).toBe(1);
    advance(1_999);
    expect(await calls.runDue()).toBe(0);
    advance(1);
    expect(await calls.runDue()).toBe(1);
    advance(60_000);
    expect(await calls.runDue()).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    capture.stop();
    expect(attempts).toEqual([0, 1_000, 3_000]);
    expect(capture.warnings.map((w) => w.message)).toEqual(["future call 'flaky' failed (attempt 3): down"]);
  });

  it('a retry that succeeds is done', async () => {
    const { calls, advance } = world({ futureCalls: { retries: 1 } });
    let runs = 0;
    calls.register('once-flaky', () => {
      if (++runs === 1) throw new Error('first');
    });
    await calls.callWithDelay('once-flaky', null, 0);
    await calls.runDue();
    advance(1_000);
    await calls.runDue();
    expect(runs).toBe(2);
    expect(await calls.queue.size()).toBe(0);
  });
});

describe('recurring calls', () => {
  it('every() runs at once, then on the interval grid; again with its identifier it keeps one series; cancel stops it', async () => {
    const { calls, advance, now } = world();
    const runs: number[] = [];
    calls.register('digest', () => void runs.push(now() - T0));
    expect(await calls.every('digest', null, '1m', { identifier: 'digest' })).toBe('every:digest');
    expect(await calls.every('digest', null, '1m', { identifier: 'digest' })).toBe('every:digest'); // a second boot
    expect(await calls.queue.size()).toBe(1);
    await calls.runDue();
    for (let i = 0; i < 2; i++) {
      advance(60_000);
      await calls.runDue();
    }
    advance(150_000); // two periods missed (the instance was down): one run, back on the grid
    await calls.runDue();
    advance(29_999);
    expect(await calls.runDue()).toBe(0);
    advance(1);
    await calls.runDue();
    expect(runs).toEqual([0, 60_000, 120_000, 270_000, 300_000]);
    expect(await calls.cancel('digest')).toBe(1);
    advance(3_600_000);
    expect(await calls.runDue()).toBe(0);
  });

  it('a cron series runs on its pattern, in its time zone', async () => {
    const { calls, advance, now } = world();
    const runs: string[] = [];
    calls.register('nightly', () => void runs.push(new Date(now()).toISOString()));
    await calls.every('nightly', null, { cron: '0 3 * * *', timezone: 'Europe/Paris' }, { identifier: 'nightly' });
    for (let hour = 0; hour < 48; hour++) {
      advance(3_600_000);
      await calls.runDue();
    }
    expect(runs).toEqual(['2026-01-01T02:00:00.000Z', '2026-01-02T02:00:00.000Z']);
  });

  it('a failing occurrence is not retried; the next one still comes', async () => {
    const { calls, advance } = world({ futureCalls: { retries: 3 } });
    const capture = captureWarnings('SOJOURN_FUTURE_CALL_FAILED');
    let runs = 0;
    calls.register('tick', () => {
      runs++;
      throw new Error('tick failed');
    });
    await calls.every('tick', null, 10_000, { identifier: 'tick' });
    await calls.runDue();
    advance(1_000);
    expect(await calls.runDue()).toBe(0);
    advance(9_000);
    expect(await calls.runDue()).toBe(1);
    capture.stop();
    expect(runs).toBe(2);
  });
});

describe('start, concurrency and close', () => {
  it('start() polls on its own; never more than `concurrency` calls at once; close() waits for running calls', async () => {
    const manager = createSessionManager({ secret: 's', cleanupInterval: false, futureCalls: { concurrency: 3, pollInterval: 10 } });
    managers.push(manager);
    let active = 0;
    let peak = 0;
    let done = 0;
    manager.futureCalls.register('work', async () => {
      peak = Math.max(peak, ++active);
      await new Promise((resolve) => setTimeout(resolve, 20));
      active--;
      done++;
    });
    for (let i = 0; i < 10; i++) await manager.futureCalls.callWithDelay('work', i, 0);
    await manager.start();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(manager.futureCalls.running).toBeGreaterThan(0);
    await manager.close();
    expect(peak).toBe(3);
    expect(active).toBe(0);
    expect(done).toBeGreaterThanOrEqual(3); // close() took no new calls but let the running ones end
    await expect(manager.futureCalls.callWithDelay('work', 0, 0)).rejects.toThrow(/after the manager closed/);
  });

  it('concurrency 0: this instance schedules calls but never runs them', async () => {
    const queue = memoryQueue();
    const producer = createSessionManager({ secret: 's', cleanupInterval: false, futureCalls: { queue, concurrency: 0, pollInterval: 5 } });
    const consumer = createSessionManager({ secret: 's', cleanupInterval: false, futureCalls: { queue, pollInterval: 5 } });
    managers.push(producer, consumer);
    const ranOn: string[] = [];
    producer.futureCalls.register('job', () => void ranOn.push('producer'));
    consumer.futureCalls.register('job', () => void ranOn.push('consumer'));
    await producer.start();
    await producer.futureCalls.callWithDelay('job', null, 0);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await producer.futureCalls.runDue()).toBe(0);
    expect(ranOn).toEqual([]);
    await consumer.start();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(ranOn).toEqual(['consumer']);
  });
});
