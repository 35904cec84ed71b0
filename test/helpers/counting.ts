/**
 * Real stores and caches with a call counter in front: every call is counted, then forwarded to
 * the real `memoryStore()` / `lruCache()`. Not a mock: the answers are the real backend's. A
 * `before` hook (store) or a `mode` (cache) lets a test slow down or break the backend on purpose.
 */
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

export const STORE_OPS = ['get', 'create', 'update', 'delete', 'deleteByUser', 'deleteByActiveOrderId', 'listByUser', 'deleteExpired'] as const;
export type StoreOp = (typeof STORE_OPS)[number];

export interface CountingStore extends SessionStore {
  readonly inner: SessionStore;
  readonly calls: Record<StoreOp | 'close', number>;
  /** Runs before each forwarded call: await something to slow it down, throw to fail it. */
  before: ((op: StoreOp, args: unknown[]) => unknown) | undefined;
  reset(): void;
}

export function countingStore(inner: SessionStore = memoryStore()): CountingStore {
  const calls = zero([...STORE_OPS, 'close'] as const);
  const wrapper = {
    name: inner.name,
    inner,
    calls,
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
      return (inner[op] as (...a: unknown[]) => Promise<unknown>).apply(inner, args);
    };
  }
  if (inner.lock) wrapper.lock = inner.lock.bind(inner);
  if (inner.subscribe) wrapper.subscribe = inner.subscribe.bind(inner);
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
  /** Every `set` call as received: the entry and the ttl the chain asked for. */
  readonly sets: { entry: CachedSession; ttlMs: number }[];
  mode: CacheMode;
  /** The real cache's current answer, without counting. */
  peek(id: string): ReturnType<SessionCache['get']>;
  reset(): void;
}

export function countingCache(inner: SessionCache = lruCache(), name = inner.name): CountingCache {
  const calls = zero([...CACHE_OPS, 'close'] as const);
  const sets: { entry: CachedSession; ttlMs: number }[] = [];
  const wrapper = {
    name,
    inner,
    calls,
    sets,
    mode: 'ok' as CacheMode,
    peek: (id: string) => inner.get(id),
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
      if (op === 'set') sets.push({ entry: args[0] as CachedSession, ttlMs: args[1] as number });
      const forward = () => (inner[op] as (...a: unknown[]) => unknown).apply(inner, args);
      const mode = wrapper.mode;
      if (mode === 'ok') return forward();
      if (mode === 'throw') throw new Error(`${name} cache is broken (test)`);
      if (mode === 'reject') return Promise.reject(new Error(`${name} cache is broken (test)`));
      return new Promise((resolve) => setTimeout(() => resolve(forward()), mode.delayMs).unref());
    };
  }
  if (inner.lock) wrapper.lock = inner.lock.bind(inner);
  if (inner.subscribe) wrapper.subscribe = inner.subscribe.bind(inner);
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
    secret: 'test-secret',
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

/** Collects process warnings with the given codes until `stop()`. Warnings are emitted on nextTick. */
export function captureWarnings(...codes: string[]): { readonly warnings: (Error & { code?: string; detail?: string })[]; stop(): void } {
  const warnings: (Error & { code?: string; detail?: string })[] = [];
  const listener = (warning: Error & { code?: string }) => {
    if (codes.length === 0 || (warning.code && codes.includes(warning.code))) warnings.push(warning);
  };
  process.on('warning', listener);
  return { warnings, stop: () => process.off('warning', listener) };
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
