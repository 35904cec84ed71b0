import { describe, expect, it } from 'vitest';
import { lruCache } from '../../lib/caches/lru.js';
import { cacheContract } from '../contract/cache.js';
import { makeCachedSession, makeRecord } from '../helpers/records.js';

cacheContract('lru', () => lruCache());

describe('lruCache', () => {
  it('answers synchronously: no promise on the hot path', () => {
    const cache = lruCache();
    const entry = makeCachedSession();
    expect(cache.set(entry, 60_000)).toBeUndefined();
    expect(cache.get(entry.id)).toEqual(entry);
    expect(cache.get(makeRecord().id)).toBeUndefined();
  });

  it('keeps at most `max` entries, evicting the least recently used', () => {
    const cache = lruCache({ max: 3 });
    const [a, b, c, d] = [makeCachedSession(), makeCachedSession(), makeCachedSession(), makeCachedSession()];
    cache.set(a!, 60_000);
    cache.set(b!, 60_000);
    cache.set(c!, 60_000);
    expect(cache.get(a!.id)).toEqual(a); // a is now the most recently used
    cache.set(d!, 60_000);
    expect(cache.get(b!.id)).toBeUndefined();
    expect(cache.get(a!.id)).toEqual(a);
    expect(cache.get(c!.id)).toEqual(c);
    expect(cache.get(d!.id)).toEqual(d);
  });

  it('when every entry was read since, evicts the oldest after one pass over them', () => {
    const cache = lruCache({ max: 3 });
    const [a, b, c, d, e] = [makeCachedSession(), makeCachedSession(), makeCachedSession(), makeCachedSession(), makeCachedSession()];
    for (const entry of [a!, b!, c!]) cache.set(entry, 60_000);
    for (const entry of [c!, b!, a!]) cache.get(entry.id);
    cache.set(d!, 60_000); // a, b, c each lose their flag; a, the oldest, goes
    expect(cache.get(a!.id)).toBeUndefined();
    cache.set(e!, 60_000); // b was passed over, not read since: it goes now
    expect(cache.get(b!.id)).toBeUndefined();
    expect([c!, d!, e!].map((entry) => cache.get(entry.id))).toEqual([c, d, e]);
  });

  it('counts missing marks toward `max`', () => {
    const cache = lruCache({ max: 2 });
    const entry = makeCachedSession();
    cache.set(entry, 60_000);
    cache.setMissing(makeRecord().id, 60_000);
    cache.setMissing(makeRecord().id, 60_000);
    expect(cache.get(entry.id)).toBeUndefined();
  });

  it('defaults to 10,000 entries', () => {
    const cache = lruCache();
    const first = makeCachedSession();
    cache.set(first, 60_000);
    for (let i = 1; i < 10_000; i++) cache.setMissing(`id-${i}`, 60_000);
    expect(cache.get(first.id)).toEqual(first);
    cache.setMissing('one-more', 60_000);
    cache.setMissing('and-another', 60_000);
    expect(cache.get('id-1')).toBeUndefined();
    expect(cache.get('id-9999')).toBeNull();
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10', null])('rejects max = %s with a TypeError naming `max`', (max) => {
    expect(() => lruCache({ max: max as number })).toThrow(TypeError);
    expect(() => lruCache({ max: max as number })).toThrow(/`max`/);
  });
});
