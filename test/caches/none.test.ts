import { describe, expect, it } from 'vitest';
import { noCache } from '../../lib/caches/none.js';
import { T0, makeCachedSession } from '../helpers/records.js';

// The cache contract does not apply: remembering nothing is the point.
describe('noCache', () => {
  it('is named none', () => {
    expect(noCache().name).toBe('none');
  });

  it('always misses, even right after a set', () => {
    const cache = noCache();
    const entry = makeCachedSession();
    cache.set(entry, T0);
    expect(cache.get(entry.id, T0)).toBeUndefined();
  });

  it('has no setMissing: the manager deletes instead, and the store is asked every time', () => {
    expect(noCache().setMissing).toBeUndefined();
  });

  it('answers every call synchronously and accepts delete and clear', () => {
    const cache = noCache();
    const entry = makeCachedSession();
    expect(cache.set(entry, T0)).toBeUndefined();
    expect(cache.delete(entry.id)).toBeUndefined();
    expect(cache.clear()).toBeUndefined();
    expect(cache.get(entry.id, T0)).toBeUndefined();
  });
});
