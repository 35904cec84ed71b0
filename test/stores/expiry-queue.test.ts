import { describe, expect, it } from 'vitest';
import { ExpiryQueue } from '../../lib/stores/expiry-queue.js';

const always = () => true;

describe('ExpiryQueue', () => {
  it('starts empty', () => {
    const queue = new ExpiryQueue();
    expect(queue.size).toBe(0);
    expect(queue.takeExpired(Number.MAX_SAFE_INTEGER, 10, always)).toEqual([]);
  });

  it('takes entries due at `now` (inclusive) in expiry order, whatever the push order', () => {
    const queue = new ExpiryQueue();
    queue.push(30, 'c');
    queue.push(10, 'a');
    queue.push(50, 'e');
    queue.push(20, 'b');
    queue.push(40, 'd');
    expect(queue.takeExpired(30, 10, always)).toEqual(['a', 'b', 'c']);
    expect(queue.size).toBe(2);
    expect(queue.takeExpired(39, 10, always)).toEqual([]);
    expect(queue.takeExpired(100, 10, always)).toEqual(['d', 'e']);
    expect(queue.size).toBe(0);
  });

  it('stops at `limit` and keeps the rest for the next call', () => {
    const queue = new ExpiryQueue();
    for (let i = 0; i < 5; i++) queue.push(i, `id${i}`);
    expect(queue.takeExpired(10, 2, always)).toEqual(['id0', 'id1']);
    expect(queue.size).toBe(3);
    expect(queue.takeExpired(10, 2, always)).toEqual(['id2', 'id3']);
    expect(queue.takeExpired(10, 2, always)).toEqual(['id4']);
  });

  it('drops entries that are no longer current without counting them toward the limit', () => {
    const queue = new ExpiryQueue();
    queue.push(1, 'a');
    queue.push(2, 'stale');
    queue.push(3, 'b');
    queue.push(4, 'c');
    const asked: [string, number][] = [];
    const taken = queue.takeExpired(10, 2, (id, expiresAt) => {
      asked.push([id, expiresAt]);
      return id !== 'stale';
    });
    expect(taken).toEqual(['a', 'b']);
    expect(asked).toEqual([
      ['a', 1],
      ['stale', 2],
      ['b', 3],
    ]);
    expect(queue.size).toBe(1);
    expect(queue.takeExpired(10, 2, always)).toEqual(['c']);
  });

  it('keeps equal times and duplicate ids as separate entries', () => {
    const queue = new ExpiryQueue();
    queue.push(5, 'x');
    queue.push(5, 'y');
    queue.push(5, 'x');
    expect(queue.size).toBe(3);
    expect(queue.takeExpired(5, 10, always).sort()).toEqual(['x', 'x', 'y']);
  });

  it('agrees with a sorted list over many random pushes and takes', () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const queue = new ExpiryQueue();
    let reference: { time: number; id: string }[] = [];
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 20; i++) {
        const time = Math.floor(random() * 10_000);
        const id = `r${round}-${i}`;
        queue.push(time, id);
        reference.push({ time, id });
      }
      const now = Math.floor(random() * 10_000);
      const limit = 1 + Math.floor(random() * 15);
      const taken = queue.takeExpired(now, limit, always);
      reference.sort((a, b) => a.time - b.time);
      const due = reference.filter((e) => e.time <= now).slice(0, limit);
      // Same times in the same order, and each taken id was due.
      const times = new Map(reference.map((e) => [e.id, e.time]));
      expect(taken.map((id) => times.get(id))).toEqual(due.map((e) => e.time));
      const takenSet = new Set(taken);
      reference = reference.filter((e) => !takenSet.has(e.id));
      expect(queue.size).toBe(reference.length);
    }
  });
});
