import { reason, warn } from '../environment.js';
import type { CachedSession } from '../types.js';
import type { CacheLookup, SessionCache } from './types.js';

/** A chain lookup: the answer and the index of the layer that gave it (`layers.length`: none did). */
export interface ChainLookup {
  readonly found: CacheLookup;
  readonly layer: number;
}

export interface CacheChain {
  readonly layers: readonly SessionCache[];
  /**
   * The first answer that is not a miss: an entry still fresh at `now`, or a remembered miss.
   * `fromLayer` skips the layers before it (in-process ones, while they cannot be trusted).
   */
  get(id: string, now: number, fromLayer?: number): Promise<ChainLookup>;
  /** Writes `entry` to the layers from `from` up to (not including) `upTo`: all by default. */
  set(entry: CachedSession, now: number, upTo?: number, from?: number): Promise<void>;
  setMissing(ids: readonly string[], until: number, now: number): Promise<void>;
  delete(ids: readonly string[]): Promise<void>;
  clear(): Promise<void>;
}

/**
 * The ordered cache layers as one. Every call is guarded: a layer that throws, rejects or is
 * slower than `timeout` counts as a miss (or a skipped write), with one warning per outage.
 */
export function cacheChain(layers: readonly SessionCache[], timeout: number): CacheChain {
  const down = new Set<SessionCache>();

  /** `call(cache)` settled within `timeout`; a throw, a rejection or a timeout becomes `undefined`. */
  async function guard<T>(cache: SessionCache, call: (cache: SessionCache) => T | Promise<T>): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = call(cache);
      const value = result instanceof Promise ? await Promise.race([result, expiry((t) => (timer = t))]) : result;
      if (down.size > 0 && down.delete(cache)) warn('SOJOURN_CACHE_RECOVERED', `${cache.name} cache answers again`);
      return value;
    } catch (error) {
      if (!down.has(cache)) {
        down.add(cache);
        warn('SOJOURN_CACHE_DOWN', `${cache.name} cache failed (${reason(error)}); falling back to the next layer and the store`);
      }
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  function expiry(started: (timer: NodeJS.Timeout) => void): Promise<never> {
    return new Promise((_, reject) => started(setTimeout(() => reject(new Error(`no answer within ${timeout} ms`)), timeout)));
  }

  async function each(upTo: number, run: (cache: SessionCache) => unknown, from = 0): Promise<void> {
    await Promise.all(layers.slice(from, upTo).map((cache) => guard(cache, run)));
  }

  return {
    layers,
    async get(id, now, fromLayer = 0) {
      for (let layer = fromLayer; layer < layers.length; layer++) {
        const found = await guard(layers[layer]!, (cache) => cache.get(id, now));
        if (found === null || (found !== undefined && isFresh(found, now))) return { found, layer };
      }
      return { found: undefined, layer: layers.length };
    },
    set: (entry, now, upTo = layers.length, from = 0) => each(upTo, (cache) => cache.set(entry, now), from),
    setMissing: (ids, until, now) =>
      each(layers.length, (cache) => Promise.all(ids.map((id) => (cache.setMissing ? cache.setMissing(id, until, now) : cache.delete(id))))),
    delete: (ids) => each(layers.length, (cache) => Promise.all(ids.map((id) => cache.delete(id)))),
    clear: () => each(layers.length, (cache) => cache.clear()),
  };
}

// ---------------------------------------------------------------------------------------

/** An entry is served until its cache freshness or the session itself runs out. */
function isFresh(entry: CachedSession, now: number): boolean {
  return entry.cacheExpiry > now && entry.expiresAt > now;
}
