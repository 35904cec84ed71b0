import { LRUCache } from 'lru-cache';
import type { CachedSession } from '../types.js';
import type { SessionCache } from './types.js';

export interface LruCacheOptions {
  /** Most entries kept; the least recently used go first. @default 10_000 */
  max?: number;
}

const MISSING = Symbol('missing');
type Slot = CachedSession | typeof MISSING;

/** The default cache: bounded, in this process, answers synchronously. */
export function lruCache({ max = 10_000 }: LruCacheOptions = {}): SessionCache {
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new TypeError(`sojourn: lruCache option \`max\` must be a positive integer, got ${String(max)}`);
  }
  const lru = new LRUCache<string, Slot>({ max });
  return {
    name: 'lru',
    get(id) {
      const slot = lru.get(id);
      return slot === MISSING ? null : slot;
    },
    set(entry, ttlMs) {
      const held = lru.peek(entry.id);
      if (held === MISSING || (held && held.version > entry.version)) return;
      lru.set(entry.id, entry, { ttl: ttlMs });
    },
    setMissing(id, ttlMs) {
      lru.set(id, MISSING, { ttl: ttlMs });
    },
    delete(id) {
      lru.delete(id);
    },
    clear() {
      lru.clear();
    },
  };
}
