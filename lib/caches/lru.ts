import type { CachedSession } from '../types.js';
import type { CacheLookup, SessionCache } from './types.js';

export interface LruCacheOptions {
  /** Most entries kept; the least recently used go first. @default 10_000 */
  max?: number;
}

const MISSING = Symbol('missing');

interface Slot {
  value: CachedSession | typeof MISSING;
  /** Epoch ms after which the slot answers nothing. */
  expiresAt: number;
  /** Read since eviction last passed it over. */
  used: boolean;
}

/**
 * The default cache: bounded, in this process, answers synchronously. A hit is one Map lookup
 * and one flag: this lookup runs on every request, and on a loaded server each memory write and
 * timer it adds shows up (lru-cache moved every hit in its lists and armed a timer per
 * millisecond). Eviction is second-chance: the oldest entry goes unless it was read since it
 * was last passed over, which then moves it to the back.
 */
export function lruCache({ max = 10_000 }: LruCacheOptions = {}): SessionCache {
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new TypeError(`sojourn: lruCache option \`max\` must be a positive integer, got ${String(max)}`);
  }
  const slots = new Map<string, Slot>();

  function live(id: string, now: number): Slot | undefined {
    const slot = slots.get(id);
    if (slot === undefined || slot.expiresAt > now) return slot;
    slots.delete(id);
    return undefined;
  }

  /** `slot`: what the cache holds for `id` now, if anything. */
  function put(id: string, value: Slot['value'], ttlMs: number, now: number, slot: Slot | undefined): void {
    if (slot) {
      slot.value = value;
      slot.expiresAt = now + ttlMs;
      slot.used = true;
      return;
    }
    if (slots.size >= max) evictOne(now);
    slots.set(id, { value, expiresAt: now + ttlMs, used: false });
  }

  /** Ends within one pass: every entry passed over loses its flag. */
  function evictOne(now: number): void {
    for (const [id, slot] of slots) {
      slots.delete(id);
      if (!slot.used || slot.expiresAt <= now) return;
      slot.used = false;
      slots.set(id, slot);
    }
  }

  return {
    name: 'lru',
    get(id): CacheLookup {
      const slot = live(id, Date.now());
      if (slot === undefined) return undefined;
      if (!slot.used) slot.used = true;
      return slot.value === MISSING ? null : slot.value;
    },
    set(entry, ttlMs) {
      const now = Date.now();
      const slot = live(entry.id, now);
      const held = slot?.value;
      if (held === MISSING || (held && held.version > entry.version)) return;
      put(entry.id, entry, ttlMs, now, slot);
    },
    setMissing(id, ttlMs) {
      put(id, MISSING, ttlMs, Date.now(), slots.get(id));
    },
    delete(id) {
      slots.delete(id);
    },
    clear() {
      slots.clear();
    },
  };
}
