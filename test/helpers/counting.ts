/**
 * Real stores and caches with a call counter in front: every call is counted, then forwarded to
 * the real `memoryStore()` / `lruCache()`. Not a mock: the answers are the real backend's. A
 * `before` hook (store) or a `mode` (cache) lets a test slow down or break the backend on purpose.
 */
import { TEST_SECRET } from './records.js';
import {
  createSessionManager,
  lruCache,
  memoryStore,
  type CachedSession,
  type SessionCache,
  type SessionManager,
  type SessionOptions,
  type SessionStore,
} from 'sojourn';

export const STORE_OPS = ['get', 'create', 'update', 'delete', 'deleteByUser', 'deleteByActiveOrderId', 'listByUser', 'listByActiveChannelId', 'deleteExpired'] as const;
export type StoreOp = (typeof STORE_OPS)[number];

export interface CountingStore extends SessionStore {
  readonly inner: SessionStore;
  readonly calls: Record<StoreOp | 'close', number>;
  /** Runs before each forwarded call: await something to slow it down, throw to fail it. */
  before: ((op: StoreOp, args: unknown[]) => unknown) | undefined;
  /** Operations that reject (a connection refused) until removed again. */
  readonly failing: Set<StoreOp>;
  reset(): void;
}

export function countingStore(inner: SessionStore = memoryStore()): CountingStore {
  const calls = zero([...STORE_OPS, 'close'] as const);
  const failing = new Set<StoreOp>();
  const wrapper = {
    name: inner.name,
    shared: inner.shared,
    inner,
    calls,
    failing,
    before: undefined as CountingStore['before'],
    reset() {
      for (const key of Object.keys(calls) as (keyof typeof calls)[]) calls[key] = 0;
    },
    async close() {
      calls.close++;
      await inner.close?.();
    },
  } as Record<string, unknown> & { before: CountingStore['before'] };
  for (const op of STORE_OPS) {
    wrapper[op] = async (...args: unknown[]) => {
      calls[op]++;
      if (wrapper.before) await wrapper.before(op, args);
      if (failing.has(op)) throw Object.assign(new Error(`connect ECONNREFUSED (${op})`), { code: 'ECONNREFUSED' });
      return (inner[op] as (...a: unknown[]) => Promise<unknown>).apply(inner, args);
    };
  }
  return wrapper as unknown as CountingStore;
}

export const CACHE_OPS = ['get', 'set', 'setMissing', 'delete', 'clear'] as const;
export type CacheOp = (typeof CACHE_OPS)[number];

/**
 * `ok`: forward synchronously (as the LRU does); `throw`: throw synchronously; `reject`: a
 * rejected promise; `{ delayMs }`: forward after a real delay (a slow remote cache).
 */
export type CacheMode = 'ok' | 'throw' | 'reject' | { delayMs: number };

export interface CountingCache extends SessionCache {
  readonly inner: SessionCache;
  readonly calls: Record<CacheOp | 'close', number>;
  /** Every `set` call as received: the entry and the time it was set at. */
  readonly sets: { entry: CachedSession; now: number }[];
  mode: CacheMode;
  /** The real cache's current answer at `now` (default: the far future of test time), without counting. */
  peek(id: string, now?: number): ReturnType<SessionCache['get']>;
  reset(): void;
}

export function countingCache(inner: SessionCache = lruCache(), name = inner.name): CountingCache {
  const calls = zero([...CACHE_OPS, 'close'] as const);
  const sets: { entry: CachedSession; now: number }[] = [];
  const wrapper = {
    name,
    shared: inner.shared,
    inner,
    calls,
    sets,
    mode: 'ok' as CacheMode,
    peek: (id: string, now = T0) => inner.get(id, now),
    reset() {
      for (const key of Object.keys(calls) as (keyof typeof calls)[]) calls[key] = 0;
      sets.length = 0;
    },
    async close() {
      calls.close++;
      await inner.close?.();
    },
  } as Record<string, unknown> & { mode: CacheMode };
  for (const op of CACHE_OPS) {
    wrapper[op] = (...args: unknown[]) => {
      calls[op]++;
      if (op === 'set') sets.push({ entry: args[0] as CachedSession, now: args[1] as number });
      const forward = () => (inner[op] as (...a: unknown[]) => unknown).apply(inner, args);
      const mode = wrapper.mode;
      if (mode === 'ok') return forward();
      if (mode === 'throw') throw new Error(`${name} cache is broken (test)`);
      if (mode === 'reject') return Promise.reject(new Error(`${name} cache is broken (test)`));
      return new Promise((resolve) => setTimeout(() => resolve(forward()), mode.delayMs).unref());
    };
  }
  return wrapper as unknown as CountingCache;
}

export const T0 = Date.UTC(2030, 0, 1);

export interface World {
  readonly manager: SessionManager;
  readonly store: CountingStore;
  readonly cache: CountingCache;
  now(): number;
  advance(ms: number): void;
}

/** A manager over a counting memory store and a counting LRU, with an injected clock at `T0`. */
export function world(options: SessionOptions = {}, { store = countingStore(), cache = countingCache() } = {}): World {
  let now = T0;
  const manager = createSessionManager({
    store,
    cache,
    secret: TEST_SECRET,
    cleanupInterval: false,
    clock: () => now,
    ...options,
  });
  return {
    manager,
    store,
    cache,
    now: () => now,
    advance(ms) {
      now += ms;
    },
  };
}

/** Lets pending nextTick/microtask/timer work run (warnings, back-fills). */
export const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** The outcome of a call that may throw synchronously or return a rejecting promise. */
export async function outcome(call: () => unknown): Promise<{ threw: unknown } | { value: unknown }> {
  try {
    return { value: await call() };
  } catch (threw) {
    return { threw };
  }
}

function zero<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
}
