import type { CachedSession } from '../types.js';

/**
 * What `get` can answer: the entry (a hit), `null` (a remembered "no such session": unknown,
 * expired or destroyed) or `undefined` (a miss: ask the next layer).
 */
export type CacheLookup = CachedSession | null | undefined;

type MaybePromise<T> = T | Promise<T>;

/**
 * What another instance changed, heard through a shared backend: these ids were written (evict
 * them), these ids are gone for good (remember them as missing), or `'all'` (clear everything).
 */
export type SessionChange = { readonly ids: readonly string[]; readonly gone: boolean } | 'all';

/**
 * Optional on shared backends (a Redis cache or store): listens to the writes and revokes other
 * instances publish and calls `onChange` for each (never for this backend's own), so the manager
 * evicts them from its in-process cache layers at once. Resolves, once listening, to the function
 * that stops it; the manager calls it on `close()`.
 */
export type SubscribeToChanges = (onChange: (change: SessionChange) => void) => Promise<() => Promise<void>>;

/**
 * Where sessions are remembered for a short while. In-process caches answer synchronously
 * (no promise on the hot path); remote ones return promises, which the manager races against
 * `cacheTimeout`. A cache that throws or is slow counts as a miss, never as a failed request.
 */
export interface SessionCache {
  readonly name: string;
  get(id: string): MaybePromise<CacheLookup>;
  /**
   * Remembers the entry for `ttlMs`. Ignored when the cache already holds a newer `version` of
   * the same id or remembers it as missing: a late write never revives a destroyed session.
   */
  set(entry: CachedSession, ttlMs: number): MaybePromise<void>;
  /** Remembers that `id` has no session, for `ttlMs`; replaces any entry. */
  setMissing(id: string, ttlMs: number): MaybePromise<void>;
  /** Forgets `id` entirely, so the next lookup asks the next layer. */
  delete(id: string): MaybePromise<void>;
  clear(): MaybePromise<void>;
  /** A fleet-wide lock, as in `SessionStore.lock`; a shared cache (Redis) offers it before the store does. */
  lock?(name: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>;
  /** A shared cache publishes what it changes and hears other instances' changes: see `SubscribeToChanges`. */
  subscribe?: SubscribeToChanges;
  close?(): Promise<void>;
}
