import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cacheChain } from '../../lib/caches/chain.js';
import { lruCache } from '../../lib/caches/lru.js';
import type { CacheLookup, SessionCache } from '../../lib/caches/types.js';
import type { CachedSession } from '../../lib/types.js';
import { T0, makeCachedSession, makeRecord } from '../helpers/records.js';
import { captureWarnings, settled } from '../helpers/warnings.js';

const TIMEOUT = 40;
const SLACK = 100;
/** Lookups happen at `T0`: test entries are fresh for 5 minutes after it. */
const NOW = T0;

// ---------------------------------------------------------------------------------------
// Fakes of *other* caches (a remote one that fails in each way); the chain is the real thing.

function throwingCache(name = 'throwing'): SessionCache {
  const fail = (): never => {
    throw new Error('connection refused');
  };
  return { name, get: fail, set: fail, setMissing: fail, delete: fail, clear: fail };
}

function rejectingCache(name = 'rejecting'): SessionCache {
  const fail = () => Promise.reject(new Error('READONLY'));
  return { name, get: fail, set: fail, setMissing: fail, delete: fail, clear: fail };
}

function hangingCache(name = 'hanging'): SessionCache {
  const never = () => new Promise<never>(() => {});
  return { name, get: never, set: never, setMissing: never, delete: never, clear: never };
}

/** A remote-like cache (answers with promises) that can be taken down and brought back. */
function flakyCache(name = 'flaky'): SessionCache & { down: boolean } {
  const inner = lruCache();
  const cache = {
    name,
    down: false,
    async get(id: string, now: number) {
      if (cache.down) throw new Error('ECONNRESET');
      return inner.get(id, now);
    },
    async set(entry: CachedSession, now: number) {
      if (cache.down) throw new Error('ECONNRESET');
      inner.set(entry, now);
    },
    async setMissing(id: string, until: number, now: number) {
      if (cache.down) throw new Error('ECONNRESET');
      inner.setMissing!(id, until, now);
    },
    async delete(id: string) {
      if (cache.down) throw new Error('ECONNRESET');
      inner.delete(id);
    },
    async clear() {
      if (cache.down) throw new Error('ECONNRESET');
      inner.clear();
    },
  };
  return cache;
}

/** A synchronous, timer-free cache that records the `now` of every write. */
function recordingCache(name = 'recording'): SessionCache & { sets: [string, number][]; map: Map<string, CacheLookup> } {
  const map = new Map<string, CacheLookup>();
  const sets: [string, number][] = [];
  return {
    name,
    map,
    sets,
    get: (id) => map.get(id),
    set: (entry, now) => {
      sets.push([entry.id, now]);
      map.set(entry.id, entry);
    },
    setMissing: (id) => {
      map.set(id, null);
    },
    delete: (id) => {
      map.delete(id);
    },
    clear: () => map.clear(),
  };
}

// ---------------------------------------------------------------------------------------

let captured: ReturnType<typeof captureWarnings>;
const nextTick = settled;
const codes = () => captured.codes;

beforeEach(() => {
  captured = captureWarnings();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('CacheChain.get', () => {
  it('answers from the first layer that hits', async () => {
    const [first, second] = [lruCache(), lruCache()];
    const entry = makeCachedSession({ data: { from: 'first' } });
    first.set(entry, NOW);
    second.set({ ...entry, data: { from: 'second' } }, 60_000);
    const chain = cacheChain([first, second], TIMEOUT);
    expect(await chain.get(entry.id, NOW)).toEqual({ found: entry, layer: 0 });
  });

  it('asks the next layer on a miss and tells which layer answered', async () => {
    const [first, second] = [lruCache(), lruCache()];
    const entry = makeCachedSession();
    second.set(entry, NOW);
    const chain = cacheChain([first, second], TIMEOUT);
    expect(await chain.get(entry.id, NOW)).toEqual({ found: entry, layer: 1 });
  });

  it('answers a miss past the last layer when no layer knows the id', async () => {
    const chain = cacheChain([lruCache(), lruCache()], TIMEOUT);
    expect(await chain.get(makeRecord().id, NOW)).toEqual({ found: undefined, layer: 2 });
  });

  it('stops at a remembered "no such session" (null) in an earlier layer', async () => {
    const [first, second] = [lruCache(), lruCache()];
    const entry = makeCachedSession();
    first.setMissing!(entry.id, NOW + 60_000, NOW);
    second.set(entry, NOW);
    const chain = cacheChain([first, second], TIMEOUT);
    expect(await chain.get(entry.id, NOW)).toEqual({ found: null, layer: 0 });
  });

  it('passes over an entry that is not fresh any more', async () => {
    const [first, second] = [lruCache(), lruCache()];
    const stale = makeCachedSession({ cacheExpiry: T0 });
    const current = { ...stale, version: 2, cacheExpiry: T0 + 60_000 };
    first.set(stale, NOW);
    second.set(current, NOW);
    const chain = cacheChain([first, second], TIMEOUT);
    expect(await chain.get(stale.id, NOW)).toEqual({ found: current, layer: 1 });
    expect(await cacheChain([first], TIMEOUT).get(stale.id, NOW)).toEqual({ found: undefined, layer: 1 });
  });

  it('passes over an entry whose session has expired, however fresh the entry', async () => {
    const cache = lruCache();
    const expired = makeCachedSession({ expiresAt: NOW, cacheExpiry: NOW + 60_000 });
    cache.set(expired, NOW);
    expect(await cacheChain([cache], TIMEOUT).get(expired.id, NOW)).toEqual({ found: undefined, layer: 1 });
    expect(await cacheChain([cache], TIMEOUT).get(expired.id, NOW - 1)).toEqual({ found: expired, layer: 0 });
  });

  it('resolves an all-synchronous chain without a timer', async () => {
    const [first, second] = [recordingCache(), recordingCache()];
    const entry = makeCachedSession();
    second.map.set(entry.id, entry);
    const chain = cacheChain([first, second], TIMEOUT);
    vi.useFakeTimers();
    const pending = chain.get(entry.id, NOW);
    expect(vi.getTimerCount()).toBe(0);
    expect(await pending).toEqual({ found: entry, layer: 1 });
    const writing = chain.set(entry, T0, 1);
    expect(vi.getTimerCount()).toBe(0);
    await writing;
  });

  it('arms the timeout only for a layer that answers with a promise', async () => {
    const remote = flakyCache();
    const chain = cacheChain([recordingCache(), remote], TIMEOUT);
    vi.useFakeTimers();
    const pending = chain.get(makeRecord().id, NOW);
    await Promise.resolve(); // the first layer answered synchronously; the remote one is asked next
    expect(vi.getTimerCount()).toBe(1);
    expect(await pending).toEqual({ found: undefined, layer: 2 });
    expect(vi.getTimerCount()).toBe(0); // cleared once the layer answered
  });
});

describe('CacheChain.set and back-fill', () => {
  it('writes only the layers before `upTo`: a hit in layer 1 is back-filled into layer 0', async () => {
    const first = recordingCache('first');
    const second = recordingCache('second');
    const entry = makeCachedSession({ cacheExpiry: T0 + 90_000 });
    second.map.set(entry.id, entry);
    const chain = cacheChain([first, second], TIMEOUT);

    const { found, layer } = await chain.get(entry.id, NOW);
    await chain.set(found as CachedSession, T0 + 30_000, layer);

    expect(first.sets).toEqual([[entry.id, T0 + 30_000]]); // the time it was written at: the entry carries its expiry
    expect(second.sets).toEqual([]);
    expect(await chain.get(entry.id, NOW)).toEqual({ found: entry, layer: 0 });
  });

  it('writes every layer by default', async () => {
    const [first, second] = [lruCache(), lruCache()];
    const entry = makeCachedSession();
    const chain = cacheChain([first, second], TIMEOUT);
    await chain.set(entry, T0);
    expect(first.get(entry.id, NOW)).toEqual(entry);
    expect(second.get(entry.id, NOW)).toEqual(entry);
  });

  it('writes the layers from `from` up to `upTo`', async () => {
    const [first, second, third] = [recordingCache(), recordingCache(), recordingCache()];
    const entry = makeCachedSession();
    await cacheChain([first, second, third], TIMEOUT).set(entry, T0, 2, 1);
    expect([first.sets.length, second.sets.length, third.sets.length]).toEqual([0, 1, 0]);
  });

  it('a layer without setMissing gets a delete instead', async () => {
    const entry = makeCachedSession();
    const forgetful: SessionCache = { ...recordingCache(), setMissing: undefined };
    const inner = recordingCache();
    inner.map.set(entry.id, entry);
    const chain = cacheChain([{ name: 'plain', get: inner.get, set: inner.set, delete: inner.delete, clear: inner.clear }], TIMEOUT);
    await chain.setMissing([entry.id], NOW + 60_000, NOW);
    expect(inner.map.has(entry.id)).toBe(false);
    expect(forgetful.setMissing).toBeUndefined();
  });

  it('skips the layers before `fromLayer` on a lookup (in-process ones, while the fleet is not heard)', async () => {
    const [first, second] = [lruCache(), lruCache()];
    const entry = makeCachedSession();
    first.set(entry, NOW);
    expect(await cacheChain([first, second], TIMEOUT).get(entry.id, NOW, 1)).toEqual({ found: undefined, layer: 2 });
  });

  it('setMissing, delete and clear reach every layer', async () => {
    const [first, second] = [lruCache(), lruCache()];
    const chain = cacheChain([first, second], TIMEOUT);
    const [a, b, c] = [makeCachedSession(), makeCachedSession(), makeCachedSession()];
    await chain.set(a, T0);
    await chain.set(b, T0);
    await chain.set(c, T0);

    await chain.setMissing([a.id, b.id], NOW + 60_000, NOW);
    expect([first.get(a.id, NOW), first.get(b.id, NOW), second.get(a.id, NOW), second.get(b.id, NOW)]).toEqual([null, null, null, null]);

    await chain.delete([a.id, c.id]);
    expect([first.get(a.id, NOW), second.get(a.id, NOW), first.get(c.id, NOW), second.get(c.id, NOW)]).toEqual([undefined, undefined, undefined, undefined]);
    expect(second.get(b.id, NOW)).toBeNull();

    await chain.clear();
    expect([first.get(b.id, NOW), second.get(b.id, NOW)]).toEqual([undefined, undefined]);
  });
});

describe('CacheChain guard', () => {
  it.each([
    ['throws', throwingCache],
    ['rejects', rejectingCache],
    ['never answers', hangingCache],
  ])('counts a layer that %s as a miss within the timeout and asks the next layer', async (_, broken) => {
    const healthy = lruCache();
    const entry = makeCachedSession();
    healthy.set(entry, NOW);
    const chain = cacheChain([broken(), healthy], TIMEOUT);
    const started = performance.now();
    expect(await chain.get(entry.id, NOW)).toEqual({ found: entry, layer: 1 });
    expect(performance.now() - started).toBeLessThan(TIMEOUT + SLACK);
  });

  it('waits for a slow layer no longer than the timeout', async () => {
    const chain = cacheChain([hangingCache()], TIMEOUT);
    const started = performance.now();
    expect(await chain.get(makeRecord().id, NOW)).toEqual({ found: undefined, layer: 1 });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT - 5);
    expect(elapsed).toBeLessThan(TIMEOUT + SLACK);
  });

  it.each([
    ['throwing', throwingCache],
    ['rejecting', rejectingCache],
    ['hanging', hangingCache],
  ])('never fails a write because of a %s layer, and still writes the healthy ones', async (_, broken) => {
    const healthy = lruCache();
    const chain = cacheChain([broken(), healthy], TIMEOUT);
    const [a, b] = [makeCachedSession(), makeCachedSession()];
    const started = performance.now();
    await chain.set(a, T0);
    await chain.set(b, T0);
    expect([healthy.get(a.id, NOW), healthy.get(b.id, NOW)]).toEqual([a, b]);
    await chain.setMissing!([a.id], NOW + 60_000, NOW);
    expect(healthy.get(a.id, NOW)).toBeNull();
    await chain.delete([b.id]);
    expect(healthy.get(b.id, NOW)).toBeUndefined();
    await chain.clear();
    expect(healthy.get(a.id, NOW)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(5 * (TIMEOUT + SLACK));
  });

  it('warns SOJOURN_CACHE_DOWN once per outage, naming the layer, and SOJOURN_CACHE_RECOVERED when it answers again', async () => {
    const remote = flakyCache('redis');
    const chain = cacheChain([lruCache(), remote], TIMEOUT);
    const id = makeRecord().id;

    remote.down = true;
    for (let i = 0; i < 5; i++) expect(await chain.get(id, NOW)).toEqual({ found: undefined, layer: 2 });
    await chain.set(makeCachedSession(), T0);
    await nextTick();
    expect(codes()).toEqual(['SOJOURN_CACHE_DOWN']);
    expect(captured.all[0]!.message).toContain('redis');
    expect(captured.all[0]!.message).toContain('ECONNRESET');

    remote.down = false;
    await chain.get(id, NOW);
    await chain.get(id, NOW);
    await nextTick();
    expect(codes()).toEqual(['SOJOURN_CACHE_DOWN', 'SOJOURN_CACHE_RECOVERED']);

    remote.down = true; // a second outage is warned about again
    await chain.get(id, NOW);
    await chain.get(id, NOW);
    await nextTick();
    expect(codes()).toEqual(['SOJOURN_CACHE_DOWN', 'SOJOURN_CACHE_RECOVERED', 'SOJOURN_CACHE_DOWN']);
  });

  it('keeps one outage per layer: two broken layers warn once each', async () => {
    const chain = cacheChain([throwingCache('one'), rejectingCache('two')], TIMEOUT);
    for (let i = 0; i < 3; i++) await chain.get(makeRecord().id, NOW);
    await nextTick();
    expect(codes()).toEqual(['SOJOURN_CACHE_DOWN', 'SOJOURN_CACHE_DOWN']);
    expect(captured.all[0]!.message).toContain('one');
    expect(captured.all[1]!.message).toContain('two');
  });

  it('warns about a timeout as an outage too', async () => {
    const chain = cacheChain([hangingCache('slow')], TIMEOUT);
    await chain.get(makeRecord().id, NOW);
    await chain.get(makeRecord().id, NOW);
    await nextTick();
    expect(codes()).toEqual(['SOJOURN_CACHE_DOWN']);
    expect(captured.all[0]!.message).toMatch(/slow.*40 ms/);
  });

  it('keeps a layer that is always too slow in one outage: a late answer is no recovery', async () => {
    const inner = lruCache();
    const late = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), TIMEOUT * 2));
    const slow: SessionCache = {
      name: 'slow',
      get: (id) => late(inner.get(id, NOW) as CacheLookup),
      set: () => late(undefined),
      setMissing: () => late(undefined),
      delete: () => late(undefined),
      clear: () => late(undefined),
    };
    const chain = cacheChain([slow], TIMEOUT);
    for (let i = 0; i < 4; i++) expect(await chain.get(makeRecord().id, NOW)).toEqual({ found: undefined, layer: 1 });
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT * 3)); // let the late answers arrive
    await nextTick();
    expect(codes()).toEqual(['SOJOURN_CACHE_DOWN']);
  });

  it('stays quiet while every layer answers', async () => {
    const chain = cacheChain([lruCache(), flakyCache()], TIMEOUT);
    const entry = makeCachedSession();
    await chain.set(entry, T0);
    await chain.get(entry.id, NOW);
    await chain.delete([entry.id]);
    await nextTick();
    expect(captured.all).toEqual([]);
  });
});
