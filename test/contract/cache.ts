import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionCache } from '../../lib/caches/types.js';
import type { CachedSession } from '../../lib/types.js';
import { T0, makeCachedSession, makeRecord } from '../helpers/records.js';

const LONG_TTL = 60_000;

/**
 * The suite every `SessionCache` passes (LRU, Redis, any user-written cache). `make` returns a
 * fresh, empty cache for each test. Times are handed to the cache as `now`: an in-process cache is
 * driven by a simulated clock; one that expires entries by the wall clock (Redis TTLs) declares
 * `wallClock`, and its expiry tests wait real time (`ttlGranularityMs`: the smallest ttl it honours).
 */
export function cacheContract(
  name: string,
  make: () => SessionCache | Promise<SessionCache>,
  options: { wallClock?: boolean; ttlGranularityMs?: number; setMissing?: boolean } = {},
): void {
  const granularity = options.ttlGranularityMs ?? 0;
  const shortTtl = Math.max(50, granularity);
  const pastShortTtl = shortTtl + granularity + 60;

  describe(`${name} cache contract`, () => {
    let cache: SessionCache;
    let now = T0;
    /** Moves time on: the simulated clock, or the wall clock by waiting. */
    const later = async (ms: number) => {
      if (options.wallClock) await new Promise((resolve) => setTimeout(resolve, ms));
      now = options.wallClock ? Date.now() : now + ms;
    };
    /** An entry fresh for `ttl` from now. */
    const cachedSession = (overrides: Partial<CachedSession> = {}, ttl = LONG_TTL) => makeCachedSession({ cacheExpiry: now + ttl, ...overrides });

    beforeEach(async () => {
      now = options.wallClock ? Date.now() : T0;
      cache = await make();
    });

    afterEach(async () => {
      await cache.close?.();
    });

    it('has a name', () => {
      expect(typeof cache.name).toBe('string');
      expect(cache.name.length).toBeGreaterThan(0);
    });

    it('misses (undefined, not null) an id it never saw', async () => {
      expect(await cache.get(makeRecord().id, now)).toBeUndefined();
    });

    it('hands back what was set, nested data, user and numeric ids included', async () => {
      const entry = cachedSession({
        userId: 9,
        user: { id: 9, roles: ['admin'], profile: { name: 'Ada', tags: [1, 'two', null] } },
        authenticationStrategy: 'native',
        activeOrderId: 77,
        activeChannelId: 'eu',
        data: { cart: { items: [{ sku: 'A', qty: 1 }] }, n: 0, flag: false, none: null },
      });
      await cache.set(entry, now);
      const got = await cache.get(entry.id, now);
      expect(got).toEqual(entry);
      expect(typeof got!.userId).toBe('number');
      expect(typeof got!.activeOrderId).toBe('number');
    });

    it('keeps entries apart', async () => {
      const a = cachedSession({ data: { who: 'a' } });
      const b = cachedSession({ data: { who: 'b' } });
      await cache.set(a, now);
      await cache.set(b, now);
      expect(await cache.get(a.id, now)).toEqual(a);
      expect(await cache.get(b.id, now)).toEqual(b);
    });

    describe('versions', () => {
      it('ignores a set older than the version it holds', async () => {
        const v3 = cachedSession({ version: 3, data: { v: 3 } });
        await cache.set(v3, now);
        await cache.set({ ...v3, version: 2, data: { v: 2 } }, LONG_TTL);
        expect(await cache.get(v3.id, now)).toEqual(v3);
      });

      it('applies a newer version', async () => {
        const v1 = cachedSession({ data: { v: 1 } });
        await cache.set(v1, now);
        const v2 = { ...v1, version: 2, data: { v: 2 } };
        await cache.set(v2, now);
        expect(await cache.get(v1.id, now)).toEqual(v2);
      });

      it('applies the same version again (a refreshed entry)', async () => {
        const first = cachedSession({ version: 4 });
        await cache.set(first, now);
        const refreshed = { ...first, cacheExpiry: first.cacheExpiry + 1 };
        await cache.set(refreshed, now);
        expect(await cache.get(first.id, now)).toEqual(refreshed);
      });
    });

    describe.skipIf(options.setMissing === false)('setMissing', () => {
      it('remembers an id as missing: get answers null', async () => {
        const id = makeRecord().id;
        await cache.setMissing!(id, now + LONG_TTL, now);
        expect(await cache.get(id, now)).toBeNull();
      });

      it('replaces an entry it held', async () => {
        const entry = cachedSession();
        await cache.set(entry, now);
        await cache.setMissing!(entry.id, now + LONG_TTL, now);
        expect(await cache.get(entry.id, now)).toBeNull();
      });

      it('wins over a later set, whatever its version: a late write never revives a destroyed session', async () => {
        const entry = cachedSession({ version: 5 });
        await cache.setMissing!(entry.id, now + LONG_TTL, now);
        await cache.set(entry, now);
        await cache.set({ ...entry, version: 99 }, LONG_TTL);
        expect(await cache.get(entry.id, now)).toBeNull();
      });

      it('leaves other ids alone', async () => {
        const entry = cachedSession();
        await cache.set(entry, now);
        await cache.setMissing!(makeRecord().id, now + LONG_TTL, now);
        expect(await cache.get(entry.id, now)).toEqual(entry);
      });
    });

    describe('delete', () => {
      it('forgets an entry: the next get is a miss', async () => {
        const entry = cachedSession();
        const other = cachedSession();
        await cache.set(entry, now);
        await cache.set(other, now);
        await cache.delete(entry.id);
        expect(await cache.get(entry.id, now)).toBeUndefined();
        expect(await cache.get(other.id, now)).toEqual(other);
      });

      it('forgets a missing mark, so a set works again', async () => {
        const entry = cachedSession();
        await cache.setMissing!(entry.id, now + LONG_TTL, now);
        await cache.delete(entry.id);
        expect(await cache.get(entry.id, now)).toBeUndefined();
        await cache.set(entry, now);
        expect(await cache.get(entry.id, now)).toEqual(entry);
      });

      it('forgets the held version, so an older set works again', async () => {
        const v3 = cachedSession({ version: 3 });
        await cache.set(v3, now);
        await cache.delete(v3.id);
        const v2 = { ...v3, version: 2 };
        await cache.set(v2, now);
        expect(await cache.get(v3.id, now)).toEqual(v2);
      });

      it('accepts an id it never saw', async () => {
        await cache.delete(makeRecord().id);
      });
    });

    it('clear forgets every entry and missing mark, and the cache works after it', async () => {
      const a = cachedSession();
      const b = cachedSession();
      const gone = makeRecord().id;
      await cache.set(a, now);
      await cache.set(b, now);
      await cache.setMissing!(gone, now + LONG_TTL, now);
      await cache.clear();
      expect(await cache.get(a.id, now)).toBeUndefined();
      expect(await cache.get(b.id, now)).toBeUndefined();
      expect(await cache.get(gone, now)).toBeUndefined();
      await cache.set(a, now);
      expect(await cache.get(a.id, now)).toEqual(a);
    });

    describe(`expiry (${options.wallClock ? 'wall clock' : 'simulated clock'})`, () => {
      it('an entry is not handed back past its cacheExpiry, or handed back for the manager to refuse', async () => {
        const short = cachedSession({}, shortTtl);
        const long = cachedSession();
        await cache.set(short, now);
        await cache.set(long, now);
        expect(await cache.get(short.id, now)).toEqual(short);
        await later(pastShortTtl);
        const held = await cache.get(short.id, now);
        expect(held === undefined || (held !== null && held.cacheExpiry <= now)).toBe(true);
        expect(await cache.get(long.id, now)).toEqual(long);
      });

      it('drops a missing mark after its time, and then a set works again', async () => {
        const entry = cachedSession();
        await cache.setMissing!(entry.id, now + shortTtl, now);
        expect(await cache.get(entry.id, now)).toBeNull();
        await later(pastShortTtl);
        expect(await cache.get(entry.id, now)).toBeUndefined();
        const fresh = cachedSession({ id: entry.id, secretHash: entry.secretHash });
        await cache.set(fresh, now);
        expect(await cache.get(entry.id, now)).toEqual(fresh);
      });

      it('a newer set renews the entry', async () => {
        const v1 = cachedSession({}, shortTtl);
        await cache.set(v1, now);
        const v2 = { ...v1, version: 2, cacheExpiry: now + LONG_TTL };
        await cache.set(v2, now);
        await later(pastShortTtl);
        expect(await cache.get(v1.id, now)).toEqual(v2);
      });
    });

    it('answers each call either at once or with a promise, so the caller can always await it', async () => {
      const entry = cachedSession();
      const isThenable = (v: unknown) => typeof (v as { then?: unknown } | null)?.then === 'function';
      const writes = [
        () => cache.set(entry, now),
        () => cache.delete(makeRecord().id),
        ...(cache.setMissing ? [() => cache.setMissing!(makeRecord().id, now + LONG_TTL, now)] : []),
      ];
      for (const write of writes) {
        const answer = write();
        expect(answer === undefined || isThenable(answer)).toBe(true);
        expect(await answer).toBeUndefined();
      }
      const lookup = cache.get(entry.id, now);
      expect(isThenable(lookup) || typeof lookup === 'object').toBe(true);
      expect(await lookup).toEqual(entry);
      const cleared = cache.clear();
      expect(cleared === undefined || isThenable(cleared)).toBe(true);
      expect(await cleared).toBeUndefined();
      expect(await cache.get(entry.id, now)).toBeUndefined();
    });
  });
}
