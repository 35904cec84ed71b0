import { LRUCache } from 'lru-cache';
import { SessionConfigError } from '../errors.js';
import type { CachedSession } from '../types.js';
import type { SessionCache } from './types.js';

export interface LruCacheOptions {
  /** Most sessions kept; the least recently used go first. @default 10_000 */
  max?: number;
  /** Most serialized bytes of sessions kept (each counted as its JSON length). @default 33_554_432 (32 MiB) */
  maxBytes?: number;
  /** Most remembered misses (revoked or expired ids), kept apart so they never push sessions out. @default 10_000 */
  maxMissing?: number;
}

/**
 * The default cache: `lru-cache` in this process, bounded by entries and by bytes. Expiry lives in
 * the entry (`cacheExpiry`), read against the manager's clock, so no timer runs. Remembered misses
 * have a space of their own: a flood of them evicts other misses, never a live session.
 */
export function lruCache({ max = 10_000, maxBytes = 32 * 1024 * 1024, maxMissing = 10_000 }: LruCacheOptions = {}): SessionCache {
  positive('max', max);
  positive('maxBytes', maxBytes);
  positive('maxMissing', maxMissing);
  const entries = new LRUCache<string, CachedSession>({ max, maxSize: maxBytes, sizeCalculation: sizeOf });
  /** id → until when it is remembered as missing. */
  const missing = new LRUCache<string, number>({ max: maxMissing });

  return {
    name: 'lru',
    get(id, now) {
      const entry = entries.get(id);
      if (entry !== undefined) return entry;
      const until = missing.get(id);
      return until !== undefined && until > now ? null : undefined;
    },
    set(entry, now) {
      const until = missing.peek(entry.id);
      if (until !== undefined && until > now) return;
      const held = entries.peek(entry.id);
      if (held === undefined || held.version <= entry.version) entries.set(entry.id, entry);
    },
    setMissing(id, until) {
      entries.delete(id);
      missing.set(id, until);
    },
    delete(id) {
      entries.delete(id);
      missing.delete(id);
    },
    clear() {
      entries.clear();
      missing.clear();
    },
  };
}

// ---------------------------------------------------------------------------------------

/** The bytes an entry stands for: its JSON length (computed once per set, on the cold path). */
function sizeOf(entry: CachedSession): number {
  return Math.max(1, JSON.stringify(entry).length);
}

function positive(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new SessionConfigError(`lruCache.${name}`, `must be a positive integer, got ${String(value)}`);
  }
}
