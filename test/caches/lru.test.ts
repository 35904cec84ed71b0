import { describe, expect, it } from 'vitest';
import { lruCache } from '../../lib/caches/lru.js';
import { cacheContract } from '../contract/cache.js';
import { T0, makeCachedSession, makeRecord } from '../helpers/records.js';

cacheContract('lru', () => lruCache());

describe('lruCache', () => {
  const fresh = () => makeCachedSession({ cacheExpiry: T0 + 60_000 });

  it('answers synchronously: no promise on the hot path', () => {
    const cache = lruCache();
    const entry = fresh();
    expect(cache.set(entry, T0)).toBeUndefined();
    expect(cache.get(entry.id, T0)).toEqual(entry);
    expect(cache.get(makeRecord().id, T0)).toBeUndefined();
  });

  it('keeps at most `max` entries, evicting the least recently used', () => {
    const cache = lruCache({ max: 3 });
    const [a, b, c, d] = [fresh(), fresh(), fresh(), fresh()];
    for (const entry of [a, b, c]) cache.set(entry, T0);
    expect(cache.get(a.id, T0)).toEqual(a); // a is now the most recently used
    cache.set(d, T0);
    expect(cache.get(b.id, T0)).toBeUndefined();
    expect([a, c, d].map((entry) => cache.get(entry.id, T0))).toEqual([a, c, d]);
  });

  it('keeps at most `maxBytes` of sessions (their JSON length), evicting the least recently used', () => {
    const big = (n: number) => makeCachedSession({ cacheExpiry: T0 + 60_000, data: { blob: 'x'.repeat(10_000), n } });
    const size = JSON.stringify(big(0)).length;
    const cache = lruCache({ maxBytes: size * 3 + 10 });
    const entries = [big(1), big(2), big(3), big(4)];
    for (const entry of entries) cache.set(entry, T0);
    expect(cache.get(entries[0]!.id, T0)).toBeUndefined();
    expect(entries.slice(1).map((entry) => cache.get(entry.id, T0))).toEqual(entries.slice(1));
  });

  it('remembered misses live apart: a flood of them never pushes a session out', () => {
    const cache = lruCache({ max: 2, maxMissing: 100 });
    const [a, b] = [fresh(), fresh()];
    cache.set(a, T0);
    cache.set(b, T0);
    for (let i = 0; i < 1_000; i++) cache.setMissing!(`gone-${i}`, T0 + 60_000, T0);
    expect([a, b].map((entry) => cache.get(entry.id, T0))).toEqual([a, b]);
    expect(cache.get('gone-999', T0)).toBeNull();
    expect(cache.get('gone-0', T0)).toBeUndefined(); // the oldest misses went, not the sessions
  });

  it('reads expiry against the `now` it is handed: no timer, no sleep', () => {
    const cache = lruCache();
    cache.setMissing!('gone', T0 + 1_000, T0);
    expect(cache.get('gone', T0 + 999)).toBeNull();
    expect(cache.get('gone', T0 + 1_000)).toBeUndefined();
  });

  it('defaults to 10,000 sessions', () => {
    const cache = lruCache();
    const entries = Array.from({ length: 10_001 }, () => makeCachedSession({ id: `id-${Math.random()}`, secretHash: 'h', cacheExpiry: T0 + 1 }));
    for (const entry of entries) cache.set(entry, T0);
    expect(cache.get(entries[0]!.id, T0)).toBeUndefined();
    expect(cache.get(entries[10_000]!.id, T0)).toEqual(entries[10_000]);
  });

  it.each([
    ['max', 0],
    ['max', -1],
    ['max', 1.5],
    ['maxBytes', Number.NaN],
    ['maxBytes', Number.POSITIVE_INFINITY],
    ['maxMissing', '10'],
    ['max', null],
  ])('rejects %s = %s with a TypeError naming it', (name, value) => {
    expect(() => lruCache({ [name]: value as number })).toThrow(TypeError);
    expect(() => lruCache({ [name]: value as number })).toThrow(new RegExp(`lruCache.${name}`));
  });
});
