import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClaimedCall, FutureCallQueue, QueuedCall } from '../../lib/queues/types.js';

/** Fixed times handed to the queue (it never reads a clock). */
const T0 = Date.UTC(2026, 0, 1);
const LEASE = 30_000;
const NAMES = ['mail', 'charge'];

function makeCall(overrides: Partial<QueuedCall> = {}): QueuedCall {
  return { id: randomUUID(), name: 'mail', payload: '{"to":"ada@example.com"}', dueAt: T0, attempt: 0, ...overrides };
}

/**
 * The suite every `FutureCallQueue` passes (memory, Redis, PostgreSQL, and any user-written
 * queue). `make` returns a fresh, empty queue for each test.
 */
export function queueContract(name: string, make: () => FutureCallQueue | Promise<FutureCallQueue>): void {
  describe(`${name} queue contract`, () => {
    let queue: FutureCallQueue;

    beforeEach(async () => {
      queue = await make();
    });
    afterEach(async () => {
      await queue.close?.();
    });

    async function seed(...overrides: Partial<QueuedCall>[]): Promise<QueuedCall[]> {
      const calls = overrides.map((o) => makeCall(o));
      for (const call of calls) expect(await queue.schedule(call)).toBe(true);
      return calls;
    }
    const strip = ({ claim: _claim, ...call }: ClaimedCall): QueuedCall => call;

    it('has a name and starts empty', async () => {
      expect(queue.name.length).toBeGreaterThan(0);
      expect(await queue.size()).toBe(0);
      expect(await queue.claim(T0, 10, LEASE, NAMES)).toEqual([]);
    });

    it('keeps the first call of an id: scheduling it again changes nothing', async () => {
      const [call] = await seed({ id: 'every:digest', every: 60_000, identifier: 'digest' });
      expect(await queue.schedule({ ...call!, payload: '"other"', dueAt: T0 - 5 })).toBe(false);
      expect(await queue.size()).toBe(1);
      expect((await queue.claim(T0, 10, LEASE, NAMES)).map(strip)).toEqual([call]);
    });

    it('hands back every field as scheduled, optional ones only when set', async () => {
      const [full, bare] = await seed(
        { name: 'charge', payload: '{"note":"ünïcödé ✓","n":[1,2.5,null]}', identifier: 'order-7', sessionId: randomUUID(), every: 3_600_000, dueAt: T0 - 2 },
        { payload: 'null', dueAt: T0 - 1 },
      );
      const claimed = await queue.claim(T0, 10, LEASE, NAMES);
      expect(claimed.map(strip)).toEqual([full, bare]);
      expect(claimed[0]!.claim).toEqual(expect.any(String));
      expect(claimed[1]).not.toHaveProperty('identifier');
      expect(claimed[1]).not.toHaveProperty('sessionId');
      expect(claimed[1]).not.toHaveProperty('every');
    });

    it('claims only due calls (due at now inclusive), earliest first, at most `limit`', async () => {
      const calls = await seed({ dueAt: T0 + 3 }, { dueAt: T0 - 10 }, { dueAt: T0 }, { dueAt: T0 + 1_000 }, { dueAt: T0 - 5 });
      const first = await queue.claim(T0, 2, LEASE, NAMES);
      expect(first.map((c) => c.dueAt)).toEqual([T0 - 10, T0 - 5]);
      const second = await queue.claim(T0, 10, LEASE, NAMES);
      expect(second.map((c) => c.id)).toEqual([calls[2]!.id]);
      expect((await queue.claim(T0 + 999, 10, LEASE, NAMES)).map((c) => c.id)).toEqual([calls[0]!.id]);
      expect(await queue.size()).toBe(5);
    });

    it('claims only calls whose name is in `names`', async () => {
      const [, charge] = await seed({ name: 'unknown-here', dueAt: T0 - 1 }, { name: 'charge' });
      expect((await queue.claim(T0, 10, LEASE, ['charge'])).map((c) => c.id)).toEqual([charge!.id]);
      expect(await queue.claim(T0, 10, LEASE, [])).toEqual([]);
    });

    it('never hands a leased call out again until its lease expires, then under a new claim', async () => {
      const [call] = await seed({});
      const [first] = await queue.claim(T0, 10, LEASE, NAMES);
      expect(await queue.claim(T0 + LEASE - 1, 10, LEASE, NAMES)).toEqual([]);
      const [again] = await queue.claim(T0 + LEASE, 10, LEASE, NAMES);
      expect(again?.id).toBe(call!.id);
      expect(again?.claim).not.toBe(first!.claim);
      // The first holder lost it: it can neither extend nor finish it.
      expect(await queue.extend(first!, T0 + LEASE, LEASE)).toBe(false);
      expect(await queue.finish(first!)).toBe(false);
      expect(await queue.size()).toBe(1);
      expect(await queue.finish(again!)).toBe(true);
      expect(await queue.size()).toBe(0);
    });

    it('extend moves the lease forward for its holder only', async () => {
      await seed({});
      const [held] = await queue.claim(T0, 10, LEASE, NAMES);
      expect(await queue.extend({ ...held!, claim: randomUUID() }, T0 + 1_000, LEASE)).toBe(false);
      expect(await queue.extend(held!, T0 + 20_000, LEASE)).toBe(true);
      expect(await queue.claim(T0 + LEASE, 10, LEASE, NAMES)).toEqual([]);
      expect(await queue.claim(T0 + 20_000 + LEASE, 10, LEASE, NAMES)).toHaveLength(1);
    });

    it('finish deletes the call; with `next` it is pending again at that time with that attempt', async () => {
      await seed({ id: 'a' }, { id: 'b' });
      const [a, b] = await queue.claim(T0, 10, LEASE, NAMES);
      expect(await queue.finish(a!)).toBe(true);
      expect(await queue.finish(a!)).toBe(false);
      expect(await queue.finish(b!, { dueAt: T0 + 5_000, attempt: 1 })).toBe(true);
      expect(await queue.size()).toBe(1);
      expect(await queue.claim(T0 + 4_999, 10, LEASE, NAMES)).toEqual([]);
      const [retried] = await queue.claim(T0 + 5_000, 10, LEASE, NAMES);
      expect(retried).toMatchObject({ id: 'b', dueAt: T0 + 5_000, attempt: 1 });
    });

    it('cancel deletes the pending calls of an identifier and nothing else', async () => {
      await seed({ identifier: 'cart-1' }, { identifier: 'cart-1', dueAt: T0 + 60_000 }, { identifier: 'cart-2' }, {});
      expect(await queue.cancel('cart-1', T0)).toBe(2);
      expect(await queue.cancel('cart-1', T0)).toBe(0);
      expect(await queue.cancel('nobody', T0)).toBe(0);
      expect(await queue.size()).toBe(2);
      expect((await queue.claim(T0 + 60_000, 10, LEASE, NAMES)).map((c) => c.identifier ?? null).sort()).toEqual(['cart-2', null]);
    });

    it('cancel lets a running call finish but not come back (retry or next occurrence)', async () => {
      await seed({ id: 'every:tick', identifier: 'tick', every: 1_000 }, { identifier: 'tick', dueAt: T0 + 500 });
      const [running] = await queue.claim(T0, 10, LEASE, NAMES);
      expect(await queue.cancel('tick', T0 + 1)).toBe(2);
      expect(await queue.size()).toBe(1);
      expect(await queue.extend(running!, T0 + 2, LEASE)).toBe(true);
      expect(await queue.finish(running!, { dueAt: T0 + 1_000, attempt: 0 })).toBe(true);
      expect(await queue.size()).toBe(0);
      expect(await queue.claim(T0 + 10 * LEASE, 10, LEASE, NAMES)).toEqual([]);
    });

    it('a cancelled call whose holder died is dropped, not run again', async () => {
      await seed({ identifier: 'x' });
      await queue.claim(T0, 10, LEASE, NAMES);
      expect(await queue.cancel('x', T0 + 1)).toBe(1);
      expect(await queue.claim(T0 + LEASE, 10, LEASE, NAMES)).toEqual([]);
      expect(await queue.size()).toBe(0);
    });

    it('cancel deletes a call whose lease expired (its holder died) at once', async () => {
      await seed({ identifier: 'y' });
      await queue.claim(T0, 10, LEASE, NAMES);
      expect(await queue.cancel('y', T0 + LEASE)).toBe(1);
      expect(await queue.size()).toBe(0);
    });

    it('concurrent claimers split the due calls: every call to exactly one of them', async () => {
      const calls = await seed(...Array.from({ length: 60 }, (_, i) => ({ dueAt: T0 - i })));
      const batches = await Promise.all(Array.from({ length: 12 }, () => queue.claim(T0, 7, LEASE, NAMES)));
      // A claimer that skipped rows another one held may come back short: sweep up what is left.
      for (let rest = await queue.claim(T0, 100, LEASE, NAMES); rest.length > 0; rest = await queue.claim(T0, 100, LEASE, NAMES)) {
        batches.push(rest);
      }
      const ids = batches.flat().map((c) => c.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.sort()).toEqual(calls.map((c) => c.id).sort());
    });
  });
}
