import type { CachedSession } from '../types.js';

/**
 * What `get` can answer: the entry (a hit), `null` (a remembered "no such session": expired or
 * destroyed) or `undefined` (a miss: ask the next layer).
 */
export type CacheLookup = CachedSession | null | undefined;

type MaybePromise<T> = T | Promise<T>;

/**
 * Where sessions are remembered for a short while. Times are absolute epoch milliseconds from the
 * manager's clock, handed over as `now` (a cache never reads a clock of its own). An in-process
 * cache may answer synchronously; every call is raced against `cacheTimeout`, and a cache that
 * throws or is slow counts as a miss, never as a failed request.
 */
export interface SessionCache {
  readonly name: string;
  /**
   * `true` when other instances read the same entries (Redis). Caches that are not shared live in
   * this process: the fleet keeps them coherent, and the manager refuses to start one in front of
   * a shared store without a fleet.
   */
  readonly shared?: boolean;
  /** The entry (even one whose `cacheExpiry` passed: the manager checks), a remembered miss, or a miss. */
  get(id: string, now: number): MaybePromise<CacheLookup>;
  /**
   * Remembers the entry until its `cacheExpiry`. Ignored when the cache holds a newer `version`
   * of the same id or remembers it as missing: a late write never revives a destroyed session.
   */
  set(entry: CachedSession, now: number): MaybePromise<void>;
  /**
   * Optional: remembers that `id` has no session until `until`, replacing any entry. Without it
   * the manager deletes the entry instead (and a remembered miss is not served from this cache).
   */
  setMissing?(id: string, until: number, now: number): MaybePromise<void>;
  /** Forgets `id` entirely, so the next lookup asks the next layer. */
  delete(id: string): MaybePromise<void>;
  clear(): MaybePromise<void>;
  close?(): Promise<void>;
}
