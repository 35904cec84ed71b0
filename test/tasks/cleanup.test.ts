import { afterEach, describe, expect, it } from 'vitest';
import { createSessionManager, memoryStore, type SessionManager, type SessionStore } from '../../lib/index.js';
import { countingStore } from '../helpers/counting.js';
import { bullmqBackend, pgBossBackend } from '../helpers/queues.js';
import { eventually } from '../helpers/redis.js';

/**
 * One scheduler: on a durable queue the expired-session cleanup is a recurring call there (one
 * run per occurrence for the whole fleet), not a timer and a lock on every instance.
 */
const managers: SessionManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const DAY = 86_400_000;

describe.each([
  { name: 'BullMQ', backend: bullmqBackend(), interval: 1_000 },
  { name: 'pg-boss', backend: pgBossBackend(), interval: 1_500 },
])('$name: the cleanup as a recurring call', ({ backend, interval }) => {
  it('two instances run it as one series on the queue; triggerCleanSessionsJob() still runs one on demand', async () => {
    const handle = await backend.fresh();
    const shared = memoryStore(); // the instances' common store
    let now = Date.now();
    const instance = async (store: SessionStore) => {
      const manager = createSessionManager({ secret: 's', store, clock: () => now, cleanupInterval: interval, futureCalls: { queue: await handle(), pollInterval: 500 } });
      managers.push(manager);
      return manager;
    };
    const [a, b] = [countingStore(shared), countingStore(shared)];
    const [first, second] = [await instance(a), await instance(b)];
    const { session } = await first.createAnonymousSession();
    now += 31 * DAY; // past the default 30-day idle expiry
    await Promise.all([first.start(), second.start()]);
    await eventually(async () => (await shared.get(session.id)) === undefined, 5 * interval, 'the scheduled cleanup');
    a.reset();
    b.reset();
    await sleep(interval * 3.2);
    const runs = a.calls.deleteExpired + b.calls.deleteExpired;
    expect(runs).toBeGreaterThanOrEqual(2); // a timer on each instance would make it about 6
    expect(runs).toBeLessThanOrEqual(4);
    await first.createAnonymousSession();
    now += 31 * DAY;
    expect(await second.triggerCleanSessionsJob()).toBe(1);
  });
});
