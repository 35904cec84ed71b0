import type { CachedSession } from '../types.js';
import type { CacheLookup, SessionCache } from './types.js';
import { isPromise } from '../values.js';

/** A chain lookup: the answer and the index of the layer that gave it (`layers.length`: none did). */
export interface ChainLookup {
  readonly found: CacheLookup;
  readonly layer: number;
}

/**
 * The ordered cache layers as one. Every call is guarded: a layer that throws, rejects or is
 * slower than `timeout` counts as a miss (or a skipped write), with one warning per outage.
 */
export class CacheChain {
  readonly layers: readonly SessionCache[];
  readonly #timeout: number;
  readonly #down = new Set<SessionCache>();

  constructor(layers: readonly SessionCache[], timeout: number) {
    this.layers = layers;
    this.#timeout = timeout;
  }

  /**
   * The first layer's answer that is not a miss (an entry still fresh at `now`, or a remembered
   * miss), with the layer's index (to back-fill earlier ones). Synchronous while the layers answer
   * synchronously (the LRU): a promise only once one does not.
   */
  get(id: string, now: number): ChainLookup | Promise<ChainLookup> {
    for (let layer = 0; layer < this.layers.length; layer++) {
      const found = this.#guard(this.layers[layer]!, lookUp, id);
      if (isPromise(found)) return this.#getFrom(layer, found, id, now);
      if (found === null || (found && isFresh(found, now))) return { found, layer };
    }
    return { found: undefined, layer: this.layers.length };
  }

  /** Writes `entry` to the layers before `upTo` (all by default), for what is left of its freshness. */
  async set(entry: CachedSession, now: number, upTo = this.layers.length): Promise<void> {
    const ttl = Math.max(1, Math.floor(entry.cacheExpiry - now));
    await this.#each(upTo, (cache) => cache.set(entry, ttl));
  }

  async setMissing(ids: readonly string[], ttl: number): Promise<void> {
    await this.#each(this.layers.length, (cache) => forEachId(ids, (id) => cache.setMissing(id, ttl)));
  }

  async delete(ids: readonly string[]): Promise<void> {
    await this.#each(this.layers.length, (cache) => forEachId(ids, (id) => cache.delete(id)));
  }

  async clear(): Promise<void> {
    await this.#each(this.layers.length, (cache) => cache.clear());
  }

  // ---------------------------------------------------------------------------------------

  /** `get` from `layer` on, once that layer answered with a promise. */
  async #getFrom(layer: number, pending: Promise<CacheLookup>, id: string, now: number): Promise<ChainLookup> {
    for (;;) {
      const found = await pending;
      if (found === null || (found && isFresh(found, now))) return { found, layer };
      if (++layer >= this.layers.length) return { found: undefined, layer };
      pending = Promise.resolve(this.#guard(this.layers[layer]!, lookUp, id));
    }
  }

  async #each(upTo: number, run: (cache: SessionCache) => unknown): Promise<void> {
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < upTo; i++) {
      const cache = this.layers[i]!;
      const result = this.#guard(cache, run, undefined);
      if (isPromise(result)) pending.push(result);
    }
    if (pending.length > 0) await Promise.all(pending);
  }

  /**
   * Runs `call(cache, arg)`; a throw, a rejection or a timeout becomes `undefined`. Sync answers
   * stay sync. The argument is passed, not closed over: lookups run on every request.
   */
  #guard<A, T>(cache: SessionCache, call: (cache: SessionCache, arg: A) => T | Promise<T>, arg: A): T | undefined | Promise<T | undefined> {
    let result: T | Promise<T>;
    try {
      result = call(cache, arg);
    } catch (error) {
      this.#failed(cache, error);
      return undefined;
    }
    return isPromise(result) ? this.#settle(cache, result) : this.#ok(cache, result);
  }

  /** A pending cache answer: a rejection or a timeout becomes `undefined`. */
  #settle<T>(cache: SessionCache, result: Promise<T>): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        this.#failed(cache, new Error(`no answer within ${this.#timeout} ms`));
        resolve(undefined);
      }, this.#timeout);
      // A late answer is no recovery: a layer that is always too slow stays in one outage.
      result.then(
        (value) => {
          if (timedOut) return;
          clearTimeout(timer);
          resolve(this.#ok(cache, value));
        },
        (error: unknown) => {
          if (timedOut) return;
          clearTimeout(timer);
          this.#failed(cache, error);
          resolve(undefined);
        },
      );
    });
  }

  #ok<T>(cache: SessionCache, value: T): T {
    if (this.#down.size > 0 && this.#down.delete(cache)) {
      process.emitWarning(`${cache.name} cache answers again`, { code: 'SOJOURN_CACHE_RECOVERED' });
    }
    return value;
  }

  #failed(cache: SessionCache, error: unknown): void {
    if (this.#down.has(cache)) return;
    this.#down.add(cache);
    const reason = error instanceof Error ? error.message : String(error);
    process.emitWarning(`${cache.name} cache failed (${reason}); falling back to the next layer and the store`, {
      code: 'SOJOURN_CACHE_DOWN',
    });
  }
}

function lookUp(cache: SessionCache, id: string): CacheLookup | Promise<CacheLookup> {
  return cache.get(id);
}

/** An entry is served until its cache freshness or the session itself runs out. */
function isFresh(entry: CachedSession, now: number): boolean {
  return entry.cacheExpiry > now && entry.expiresAt > now;
}

function forEachId(ids: readonly string[], run: (id: string) => unknown): Promise<unknown> | undefined {
  const pending = ids.map(run).filter(isPromise);
  return pending.length > 0 ? Promise.all(pending) : undefined;
}
