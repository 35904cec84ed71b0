import { afterEach, describe, expect, it } from 'vitest';
import { createSessionManager, type FutureCallOptions, type FutureCallQueue, type SessionLog, type SessionManager } from '../../lib/index.js';
import { eventually } from '../helpers/redis.js';
import { captureWarnings, settled } from '../helpers/warnings.js';

/** Each call gives an instance its own handle on one queue. */
export interface QueueHandle {
  (): Promise<FutureCallQueue>;
  /** The backend's name of the queue (BullMQ's and pg-boss's), for another process to open it. */
  readonly queueName?: string;
}

/** One backend the suite runs on: fresh empty queues, and the timings it can honour quickly. */
export interface QueueBackend {
  /** A fresh, empty queue. */
  fresh(): Promise<QueueHandle>;
  /** Shortest retry delay it honours (pg-boss counts whole seconds). */
  readonly retryDelay: number;
  /** Interval of the recurring-series test. */
  readonly interval: number;
  /** How long a due call may wait for the next poll. */
  readonly pickup: number;
  /** A per-second cron pattern runs (minute-resolution queues leave it out). */
  readonly secondsCron: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The suite every `FutureCallQueue` passes (memory, pg-boss, BullMQ on a single node and on a
 * Cluster), through real managers in real time: the semantics users rely on, the same on each.
 */
export function queueContract(name: string, backend: QueueBackend): void {
  describe(`${name} queue contract`, () => {
    const managers: SessionManager[] = [];
    afterEach(async () => {
      await Promise.all(managers.splice(0).map((m) => m.close()));
    });

    async function instance(queue: FutureCallQueue, futureCalls: Omit<FutureCallOptions, 'queue'> = {}, logs?: SessionLog[]) {
      const manager = createSessionManager({
        secret: 'queue-contract',
        cleanupInterval: false,
        futureCalls: { queue, pollInterval: 20, lease: '5s', ...futureCalls },
        ...(logs ? { logs: { sink: (log: SessionLog) => void logs.push(log), logAll: true } } : {}),
      });
      managers.push(manager);
      return manager;
    }

    it('runs a call once when it is due, not before, with its payload, in a task session', async () => {
      const handle = await backend.fresh();
      const manager = await instance(await handle());
      const runs: { at: number; kind: string; payload: unknown }[] = [];
      manager.futureCalls.register('mail', (session, payload) => void runs.push({ at: Date.now(), kind: session.kind, payload }));
      await manager.start();
      const scheduledAt = Date.now();
      await manager.futureCalls.callWithDelay('mail', { to: 'ada@example.com', n: [1, 2.5, null], note: 'ünïcödé' }, 300);
      await eventually(() => runs.length === 1, 5_000 + backend.pickup, 'the call');
      expect(runs[0]!.at - scheduledAt).toBeGreaterThanOrEqual(250);
      expect(runs[0]).toMatchObject({ kind: 'task', payload: { to: 'ada@example.com', n: [1, 2.5, null], note: 'ünïcödé' } });
      await eventually(async () => (await manager.futureCalls.queue.size()) === 0, 5_000, 'an empty queue');
      await sleep(backend.pickup);
      expect(runs).toHaveLength(1);
      expect(await manager.futureCalls.failed()).toEqual([]);
    });

    it('an identifier names the call: scheduling it again replaces the pending one, cancel removes it', async () => {
      const manager = await instance(await (await backend.fresh())());
      const ran: unknown[] = [];
      manager.futureCalls.register('job', (_s, payload) => void ran.push(payload));
      await manager.futureCalls.callWithDelay('job', 'first', 400, { identifier: 'cart-1' });
      await manager.futureCalls.callWithDelay('job', 'second', 400, { identifier: 'cart-1' });
      await manager.futureCalls.callWithDelay('job', 'cancelled', 400, { identifier: 'cart-2' });
      expect(await manager.futureCalls.cancel('cart-2')).toBe(1);
      expect(await manager.futureCalls.cancel('cart-2')).toBe(0);
      expect(await manager.futureCalls.queue.size()).toBe(1);
      await manager.start();
      await eventually(() => ran.length === 1, 5_000 + backend.pickup, 'the call');
      await sleep(400 + backend.pickup);
      expect(ran).toEqual(['second']);
    });

    it('retries a failed call with exponential backoff until it succeeds', async () => {
      const manager = await instance(await (await backend.fresh())(), { retries: { limit: 2, delay: backend.retryDelay } });
      const attempts: number[] = [];
      manager.futureCalls.register('flaky', () => {
        attempts.push(Date.now());
        if (attempts.length < 3) throw new Error('down');
      });
      await manager.start();
      await manager.futureCalls.callWithDelay('flaky', null, 0);
      await eventually(() => attempts.length === 3, 10 * backend.retryDelay + 3 * backend.pickup, 'three attempts');
      const [first, second, third] = attempts as [number, number, number];
      expect(second - first).toBeGreaterThanOrEqual(backend.retryDelay * 0.9);
      expect(third - second).toBeGreaterThanOrEqual(backend.retryDelay * 1.8); // doubled
      await eventually(async () => (await manager.futureCalls.queue.size()) === 0, 5_000, 'an empty queue');
      expect(await manager.futureCalls.failed()).toEqual([]);
    });

    it('a call that exhausts its retries is in the failed state, warned, and its session log says why', async () => {
      const logs: SessionLog[] = [];
      const manager = await instance(await (await backend.fresh())(), { retries: { limit: 1, delay: backend.retryDelay } }, logs);
      const capture = captureWarnings('SOJOURN_FUTURE_CALL_FAILED');
      manager.futureCalls.register('charge', () => {
        throw new Error('card declined');
      });
      await manager.start();
      await manager.futureCalls.callWithDelay('charge', { order: 7 }, 0, { identifier: 'order-7' });
      await eventually(async () => (await manager.futureCalls.failed()).length === 1, 10 * backend.retryDelay + 2 * backend.pickup, 'the failed call');
      const [failed] = await manager.futureCalls.failed();
      expect(failed).toMatchObject({ name: 'charge', payload: '{"order":7}', identifier: 'order-7', attempts: 2, error: 'card declined' });
      await settled();
      expect(capture.warnings.map((w) => w.message)).toEqual(["future call 'charge' failed (attempt 2): card declined"]);
      expect(logs.filter((log) => log.kind === 'task').map((log) => (log.error as Error).message)).toEqual(['card declined', 'card declined']);
      expect(await manager.futureCalls.queue.size()).toBe(0);
    });

    it('a call no instance has a handler for ends in the failed state within its retry budget, warned', async () => {
      const handle = await backend.fresh();
      // The retry policy travels with the call: the scheduling instance's.
      const producer = await instance(await handle(), { concurrency: 0, retries: { limit: 1, delay: backend.retryDelay } }); // runs nothing
      const worker = await instance(await handle());
      const capture = captureWarnings('SOJOURN_FUTURE_CALL_UNKNOWN');
      producer.futureCalls.register('ghost', () => {});
      worker.futureCalls.register('other', () => {});
      await Promise.all([producer.start(), worker.start()]);
      await producer.futureCalls.callWithDelay('ghost', { from: 'an older deploy' }, 0);
      await eventually(async () => (await worker.futureCalls.failed()).length === 1, 10 * backend.retryDelay + 2 * backend.pickup, 'the failed call');
      expect((await worker.futureCalls.failed())[0]).toMatchObject({ name: 'ghost', attempts: 2, error: expect.stringContaining("no handler for future call 'ghost'") });
      await settled();
      expect(capture.warnings).toHaveLength(1);
      expect(capture.warnings[0]!.message).toContain("future call 'ghost' (attempt 2) has no handler on this instance");
    });

    it('a task session is bound by record id: a live record is seen, a revoked one is absent and not a failure', async () => {
      const manager = await instance(await (await backend.fresh())());
      const seen: Record<string, unknown[]> = {};
      manager.futureCalls.register('touch', async (session, label: string) => {
        seen[label] = [session.id, session.isAuthenticated, await session.set('touched', true)];
      });
      const live = await manager.createAnonymousSession();
      const revoked = await manager.createAnonymousSession();
      await manager.futureCalls.callWithDelay('touch', 'live', 0, { session: live.session.id });
      await manager.futureCalls.callWithDelay('touch', 'revoked', 0, { session: revoked.session.id });
      await manager.deleteSession(revoked.session.id);
      await manager.start();
      await eventually(() => Object.keys(seen).length === 2, 5_000 + backend.pickup, 'both calls');
      expect(seen).toEqual({ live: [live.session.id, false, true], revoked: [undefined, false, false] });
      expect((await manager.store.get(live.session.id))?.data).toEqual({ touched: true });
      expect(await manager.futureCalls.failed()).toEqual([]);
    });

    it('two instances: every call runs exactly once, never twice at the same time', async () => {
      const handle = await backend.fresh();
      const [a, b] = [await instance(await handle(), { concurrency: 3 }), await instance(await handle(), { concurrency: 3 })];
      const runs = new Map<number, number>();
      let overlapping = 0;
      const running = new Set<number>();
      for (const manager of [a, b]) {
        manager.futureCalls.register('work', async (_s, i: number) => {
          if (running.has(i)) overlapping++;
          running.add(i);
          runs.set(i, (runs.get(i) ?? 0) + 1);
          await sleep(5);
          running.delete(i);
        });
      }
      await Promise.all(Array.from({ length: 40 }, (_, i) => a.futureCalls.callWithDelay('work', i, 0)));
      await Promise.all([a.start(), b.start()]);
      await eventually(() => runs.size === 40, 10_000 + backend.pickup, 'all 40 calls');
      await sleep(backend.pickup);
      expect([...runs.values()].every((n) => n === 1)).toBe(true);
      expect(overlapping).toBe(0);
    });

    it('an interval series runs repeatedly, every() again keeps one series, cancel stops it', async () => {
      const handle = await backend.fresh();
      const [a, b] = [await instance(await handle()), await instance(await handle())];
      const runs: number[] = [];
      for (const manager of [a, b]) manager.futureCalls.register('tick', () => void runs.push(Date.now()));
      await Promise.all([a.start(), b.start()]);
      await a.futureCalls.every('tick', null, backend.interval, { identifier: 'tick' });
      await b.futureCalls.every('tick', null, backend.interval, { identifier: 'tick' }); // another instance's boot
      await sleep(backend.interval * 3.5 + backend.pickup);
      expect(runs.length).toBeGreaterThanOrEqual(3);
      expect(runs.length).toBeLessThanOrEqual(5);
      expect(await a.futureCalls.cancel('tick')).toBeGreaterThanOrEqual(1);
      const stopped = runs.length;
      await sleep(backend.interval * 2 + backend.pickup);
      expect(runs.length).toBeLessThanOrEqual(stopped + 1); // at most one that was already running
    });

    it.runIf(backend.secondsCron)('a per-second cron series runs once per tick across two instances', async () => {
      const handle = await backend.fresh();
      const [a, b] = [await instance(await handle()), await instance(await handle())];
      const ticks: number[] = [];
      for (const manager of [a, b]) manager.futureCalls.register('beat', () => void ticks.push(Math.round(Date.now() / 1_000)));
      await Promise.all([a.start(), b.start()]);
      await Promise.all([a, b].map((m) => m.futureCalls.every('beat', null, { cron: '* * * * * *' }, { identifier: 'beat' })));
      await eventually(() => ticks.length >= 3, 6_000, 'three ticks');
      await sleep(300);
      expect(new Set(ticks).size).toBe(ticks.length);
    });
  });
}
