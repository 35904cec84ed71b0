import { describe, expect, it } from 'vitest';
import { noCache } from '../../lib/caches/none.js';
import { makeCachedSession } from '../helpers/records.js';

// The cache contract does not apply: remembering nothing is the point.
describe('noCache', () => {
  it('is named none', () => {
    expect(noCache().name).toBe('none');
  });

  it('always misses, even right after a set', () => {
    const cache = noCache();
    const entry = makeCachedSession();
    cache.set(entry, 60_000);
    expect(cache.get(entry.id)).toBeUndefined();
  });

  it('misses (undefined, not null) after setMissing: the store is asked every time', () => {
    const cache = noCache();
    const entry = makeCachedSession();
    cache.setMissing(entry.id, 60_000);
    expect(cache.get(entry.id)).toBeUndefined();
  });

  it('answers every call synchronously and accepts delete and clear', () => {
    const cache = noCache();
    const entry = makeCachedSession();
    expect(cache.set(entry, 1)).toBeUndefined();
    expect(cache.setMissing(entry.id, 1)).toBeUndefined();
    expect(cache.delete(entry.id)).toBeUndefined();
    expect(cache.clear()).toBeUndefined();
    expect(cache.get(entry.id)).toBeUndefined();
  });
});
