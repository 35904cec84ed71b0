import { randomUUID } from 'node:crypto';
import { reason } from '../environment.js';
import { nextOccurrence } from './recurrence.js';
import type { FailedCall, FutureCallQueue, QueueHost, QueuedCall, RecurringCall, RetryPolicy, RunningCall } from './types.js';

interface Entry {
  readonly id: string;
  readonly name: string;
  readonly payload: string;
  readonly identifier?: string;
  readonly sessionId?: string;
  readonly dueAt: number;
  readonly attempt: number;
  readonly retry: RetryPolicy;
}

interface Series {
  readonly call: RecurringCall;
  next: number;
}

const NO_RETRY: RetryPolicy = { limit: 0, delay: 0 };
const KEEP_FAILED = 1_000;

/**
 * The default queue: Maps in this process, on the manager's clock. **Not durable**: calls are
 * lost when the process exits, and only managers in this process share it. Use `pgBossQueue`
 * or `bullmqQueue` for work that must survive a restart or run on another instance.
 */
export function memoryQueue(): FutureCallQueue {
  const pending = new Map<string, Entry>();
  const running = new Map<string, Entry>();
  const series = new Map<string, Series>();
  const cancelled = new Set<string>(); // running calls that must not be retried
  const failedCalls: FailedCall[] = [];
  const workers = new Set<() => Promise<void>>();

  /** Takes up to `limit` due calls off the queue, earliest first; a due series yields one occurrence. */
  function take(now: number, limit: number): Entry[] {
    for (const [identifier, { call, next }] of series) {
      if (next > now) continue;
      const id = `every:${identifier}:${next}`;
      pending.set(id, { id, name: call.name, payload: call.payload, identifier: call.identifier, sessionId: call.sessionId, dueAt: next, attempt: 0, retry: NO_RETRY });
      series.get(identifier)!.next = nextOccurrence(call.recurrence, now); // missed occurrences collapse into one
    }
    if (limit <= 0) return [];
    const due = [...pending.values()].filter((entry) => entry.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt).slice(0, limit);
    for (const entry of due) {
      pending.delete(entry.id);
      running.set(entry.id, entry);
    }
    return due;
  }

  async function attempt(host: QueueHost, entry: Entry): Promise<void> {
    const final = entry.attempt >= entry.retry.limit;
    const { dueAt: _dueAt, retry: _retry, ...call } = entry;
    try {
      await host.run({ ...call, final } satisfies RunningCall);
    } catch (error) {
      if (!final && !cancelled.has(entry.id)) {
        const dueAt = host.clock() + entry.retry.delay * 2 ** entry.attempt;
        pending.set(entry.id, { ...entry, dueAt, attempt: entry.attempt + 1 });
      } else if (!cancelled.has(entry.id)) {
        failedCalls.unshift({ ...call, attempts: entry.attempt + 1, error: reason(error), failedAt: host.clock() });
        failedCalls.length = Math.min(failedCalls.length, KEEP_FAILED);
      }
    } finally {
      running.delete(entry.id);
      cancelled.delete(entry.id);
    }
  }

  /** Runs calls for one host: `fill()` starts what fits, `idle()` waits for a slot to free. */
  function worker(host: QueueHost, refill = false) {
    const active = new Set<Promise<void>>();
    const state = { active, stopped: false, fill };
    function fill(): number {
      const batch = take(host.clock(), host.concurrency - active.size);
      for (const entry of batch) {
        const run: Promise<void> = attempt(host, entry).finally(() => {
          active.delete(run);
          if (refill && !state.stopped) fill(); // a slot is free: more may be waiting
        });
        active.add(run);
      }
      return batch.length;
    }
    return state;
  }

  /** Removes the pending call of an identifier and marks a running one; how many. */
  function release(identifier: string): number {
    let count = 0;
    for (const [id, entry] of pending) {
      if (entry.identifier === identifier && !id.startsWith('every:')) {
        pending.delete(id);
        count++;
      }
    }
    for (const [id, entry] of running) if (entry.identifier === identifier) cancelled.add(id);
    return count;
  }

  return {
    name: 'memory',
    durable: false,
    async schedule(call: QueuedCall) {
      if (call.identifier !== undefined) release(call.identifier);
      const id = randomUUID();
      const { lease: _lease, ...entry } = call;
      pending.set(id, { ...entry, id, attempt: 0 });
      return id;
    },
    async repeat(call) {
      const existing = series.get(call.identifier);
      const same = existing && JSON.stringify(existing.call.recurrence) === JSON.stringify(call.recurrence);
      // A new series runs at once (as BullMQ's interval schedulers do); the same one keeps its rhythm.
      const first = 'every' in call.recurrence ? call.now : nextOccurrence(call.recurrence, call.now);
      series.set(call.identifier, { call, next: same ? existing.next : first });
      return `every:${call.identifier}`;
    },
    async cancel(identifier) {
      return release(identifier) + (series.delete(identifier) ? 1 : 0);
    },
    async start(host) {
      if (host.concurrency === 0) return;
      const state = worker(host, true);
      const { active, fill } = state;
      const timer = setInterval(fill, host.pollInterval).unref();
      fill();
      workers.add(async () => {
        state.stopped = true;
        clearInterval(timer);
        while (active.size > 0) await Promise.allSettled([...active]);
      });
    },
    async runDue(host) {
      const { active, fill } = worker(host);
      let total = 0;
      for (;;) {
        total += fill();
        if (active.size === 0) return total;
        await Promise.race(active);
      }
    },
    async failed(limit = 100) {
      return failedCalls.slice(0, limit);
    },
    async size() {
      return pending.size + running.size + series.size;
    },
    async close() {
      await Promise.all([...workers].map((stop) => stop()));
      workers.clear();
    },
  };
}
