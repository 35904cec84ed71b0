import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionFleet } from '../../lib/fleets/types.js';
import { eventually } from '../helpers/redis.js';
import { captureWarnings } from '../helpers/warnings.js';

/** Two instances of one fleet (two processes, or two managers sharing a backend). */
export interface FleetPair {
  readonly a: SessionFleet;
  readonly b: SessionFleet;
}

/**
 * The suite every `SessionFleet` passes (memory, Redis, PostgreSQL, any user-written one). `make`
 * returns two fresh instances of one fleet, apart from every other test's.
 */
export function fleetContract(name: string, make: () => FleetPair | Promise<FleetPair>): void {
  describe(`${name} fleet contract`, () => {
    let a: SessionFleet;
    let b: SessionFleet;
    let heard: Record<'a' | 'b', boolean[]>;

    beforeEach(async () => {
      ({ a, b } = await make());
      heard = { a: [], b: [] };
      await a.start((listening) => heard.a.push(listening));
      await b.start((listening) => heard.b.push(listening));
    });

    afterEach(async () => {
      await a.close();
      if (b !== a) await b.close();
    });

    it('has a name, and reports that it listens once started', () => {
      expect(a.name.length).toBeGreaterThan(0);
      expect(heard.a.at(-1)).toBe(true);
      expect(heard.b.at(-1)).toBe(true);
    });

    it('delivers a message to every instance listening on the topic, and says how many listen', async () => {
      const got: [string, string, string][] = [];
      const subA = a.subscribe('t1', (message, topic) => got.push(['a', topic, message]));
      const subB = b.subscribe('t1', (message, topic) => got.push(['b', topic, message]));
      await Promise.all([subA.ready, subB.ready]);
      expect(await a.publish('t1', 'hello')).toBe(2);
      await eventually(() => got.length === 2, 2_000, 'both deliveries');
      expect(got.sort()).toEqual([['a', 't1', 'hello'], ['b', 't1', 'hello']]);
      subA();
      subB();
    });

    it('keeps topics apart', async () => {
      const got: string[] = [];
      const sub = b.subscribe('t2', (message) => got.push(message));
      await sub.ready;
      await a.publish('other', 'x');
      expect(await a.publish('t2', 'y')).toBeGreaterThanOrEqual(1);
      await eventually(() => got.length === 1, 2_000, 'the delivery');
      await a.publish('t2', 'z');
      await eventually(() => got.length === 2, 2_000, 'the second delivery');
      expect(got).toEqual(['y', 'z']);
      sub();
    });

    it('listens once per topic however many listeners; unsubscribing the last stops delivery (idempotently)', async () => {
      const got: string[] = [];
      const one = b.subscribe('t3', (message) => got.push(`one:${message}`));
      const two = b.subscribe('t3', (message) => got.push(`two:${message}`));
      await Promise.all([one.ready, two.ready]);
      expect([b.listenerCount, b.topicCount]).toEqual([2, 1]);
      expect(await a.publish('t3', 'm1')).toBeGreaterThanOrEqual(1); // one instance (memory counts listeners)
      await eventually(() => got.length === 2, 2_000, 'both listeners');
      one();
      one();
      expect([b.listenerCount, b.topicCount]).toEqual([1, 1]);
      two();
      expect([b.listenerCount, b.topicCount]).toEqual([0, 0]);
      const control = a.subscribe('t3', (message) => got.push(`control:${message}`));
      await control.ready;
      await a.publish('t3', 'm2');
      await eventually(() => got.includes('control:m2'), 2_000, 'the control listener');
      expect(got.filter((entry) => entry.startsWith('one:') || entry.startsWith('two:')).sort()).toEqual(['one:m1', 'two:m1']);
      control();
    });

    it('a listener that throws is reported, and the others still hear the message', async () => {
      const warnings = captureWarnings();
      const got: string[] = [];
      const bad = b.subscribe('t4', () => {
        throw new Error('listener broke');
      });
      const good = b.subscribe('t4', (message) => got.push(message));
      await Promise.all([bad.ready, good.ready]);
      await a.publish('t4', 'still delivered');
      await eventually(() => got.length === 1, 2_000, 'the good listener');
      await eventually(() => warnings.codes.includes('SOJOURN_MESSAGE_LISTENER'), 2_000, 'the warning');
      bad();
      good();
    });

    it('gives a lock to one holder across instances, names apart, again after release (idempotent)', async () => {
      const release = await a.lock('cleanup', 60_000);
      expect(release).toBeTypeOf('function');
      expect(await b.lock('cleanup', 60_000)).toBeUndefined();
      expect(await a.lock('cleanup', 60_000)).toBeUndefined();
      const other = await b.lock('other job', 60_000);
      expect(other).toBeTypeOf('function');
      await release!();
      await release!();
      const again = await b.lock('cleanup', 60_000);
      expect(again).toBeTypeOf('function');
      await again!();
      await other!();
    });
  });
}
