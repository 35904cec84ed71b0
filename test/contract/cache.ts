import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionCache } from '../../lib/caches/types.js';
import { T0, makeCachedSession as cachedSession, makeRecord } from '../helpers/records.js';

const LONG_TTL = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The suite every `SessionCache` passes (LRU, Redis, any user-written cache). `make` returns a
 * fresh, empty cache for each test. Expiry is checked with real time (the one place a test
 * sleeps): `ttlGranularityMs` is the smallest ttl the cache honours (e.g. 1000 for whole seconds).
 */
export function cacheContract(
  name: string,
  make: () => SessionCache | Promise<SessionCache>,
  options: { ttlGranularityMs?: number } = {},
): void {
  const granularity = options.ttlGranularityMs ?? 0;
  const shortTtl = Math.max(50, granularity);
  const pastShortTtl = shortTtl + granularity + 60;

  describe(`${name} cache contract`, () => {
    let cache: SessionCache;

    beforeEach(async () => {
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
      expect(await cache.get(makeRecord().id)).toBeUndefined();
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
      await cache.set(entry, LONG_TTL);
      const got = await cache.get(entry.id);
      expect(got).toEqual(entry);
      expect(typeof got!.userId).toBe('number');
      expect(typeof got!.activeOrderId).toBe('number');
    });

    it('keeps entries apart', async () => {
      const a = cachedSession({ data: { who: 'a' } });
      const b = cachedSession({ data: { who: 'b' } });
      await cache.set(a, LONG_TTL);
      await cache.set(b, LONG_TTL);
      expect(await cache.get(a.id)).toEqual(a);
      expect(await cache.get(b.id)).toEqual(b);
    });

    describe('versions', () => {
      it('ignores a set older than the version it holds', async () => {
        const v3 = cachedSession({ version: 3, data: { v: 3 } });
        await cache.set(v3, LONG_TTL);
        await cache.set({ ...v3, version: 2, data: { v: 2 } }, LONG_TTL);
        expect(await cache.get(v3.id)).toEqual(v3);
      });

      it('applies a newer version', async () => {
        const v1 = cachedSession({ data: { v: 1 } });
        await cache.set(v1, LONG_TTL);
        const v2 = { ...v1, version: 2, data: { v: 2 } };
        await cache.set(v2, LONG_TTL);
        expect(await cache.get(v1.id)).toEqual(v2);
      });

      it('applies the same version again (a refreshed entry)', async () => {
        const first = cachedSession({ version: 4, cacheExpiry: T0 + 1 });
        await cache.set(first, LONG_TTL);
        const refreshed = { ...first, cacheExpiry: T0 + 2 };
        await cache.set(refreshed, LONG_TTL);
        expect(await cache.get(first.id)).toEqual(refreshed);
      });
    });

    describe('setMissing', () => {
      it('remembers an id as missing: get answers null', async () => {
        const id = makeRecord().id;
        await cache.setMissing(id, LONG_TTL);
        expect(await cache.get(id)).toBeNull();
      });

      it('replaces an entry it held', async () => {
        const entry = cachedSession();
        await cache.set(entry, LONG_TTL);
        await cache.setMissing(entry.id, LONG_TTL);
        expect(await cache.get(entry.id)).toBeNull();
      });

      it('wins over a later set, whatever its version: a late write never revives a destroyed session', async () => {
        const entry = cachedSession({ version: 5 });
        await cache.setMissing(entry.id, LONG_TTL);
        await cache.set(entry, LONG_TTL);
        await cache.set({ ...entry, version: 99 }, LONG_TTL);
        expect(await cache.get(entry.id)).toBeNull();
      });

      it('leaves other ids alone', async () => {
        const entry = cachedSession();
        await cache.set(entry, LONG_TTL);
        await cache.setMissing(makeRecord().id, LONG_TTL);
        expect(await cache.get(entry.id)).toEqual(entry);
      });
    });

    describe('delete', () => {
      it('forgets an entry: the next get is a miss', async () => {
        const entry = cachedSession();
        const other = cachedSession();
        await cache.set(entry, LONG_TTL);
        await cache.set(other, LONG_TTL);
        await cache.delete(entry.id);
        expect(await cache.get(entry.id)).toBeUndefined();
        expect(await cache.get(other.id)).toEqual(other);
      });

      it('forgets a missing mark, so a set works again', async () => {
        const entry = cachedSession();
        await cache.setMissing(entry.id, LONG_TTL);
        await cache.delete(entry.id);
        expect(await cache.get(entry.id)).toBeUndefined();
        await cache.set(entry, LONG_TTL);
        expect(await cache.get(entry.id)).toEqual(entry);
      });

      it('forgets the held version, so an older set works again', async () => {
        const v3 = cachedSession({ version: 3 });
        await cache.set(v3, LONG_TTL);
        await cache.delete(v3.id);
        const v2 = { ...v3, version: 2 };
        await cache.set(v2, LONG_TTL);
        expect(await cache.get(v3.id)).toEqual(v2);
      });

      it('accepts an id it never saw', async () => {
        await cache.delete(makeRecord().id);
      });
    });

    it('clear forgets every entry and missing mark, and the cache works after it', async () => {
      const a = cachedSession();
      const b = cachedSession();
      const gone = makeRecord().id;
      await cache.set(a, LONG_TTL);
      await cache.set(b, LONG_TTL);
      await cache.setMissing(gone, LONG_TTL);
      await cache.clear();
      expect(await cache.get(a.id)).toBeUndefined();
      expect(await cache.get(b.id)).toBeUndefined();
      expect(await cache.get(gone)).toBeUndefined();
      await cache.set(a, LONG_TTL);
      expect(await cache.get(a.id)).toEqual(a);
    });

    describe('expiry (real time)', () => {
      it(`drops an entry after its ttl, not one with a longer ttl`, async () => {
        const short = cachedSession();
        const long = cachedSession();
        await cache.set(short, shortTtl);
        await cache.set(long, LONG_TTL);
        expect(await cache.get(short.id)).toEqual(short);
        await sleep(pastShortTtl);
        expect(await cache.get(short.id)).toBeUndefined();
        expect(await cache.get(long.id)).toEqual(long);
      });

      it('drops a missing mark after its ttl, and then a set works again', async () => {
        const entry = cachedSession();
        await cache.setMissing(entry.id, shortTtl);
        expect(await cache.get(entry.id)).toBeNull();
        await sleep(pastShortTtl);
        expect(await cache.get(entry.id)).toBeUndefined();
        await cache.set(entry, LONG_TTL);
        expect(await cache.get(entry.id)).toEqual(entry);
      });

      it('does not let an expired newer version block an older set', async () => {
        const v3 = cachedSession({ version: 3 });
        await cache.set(v3, shortTtl);
        await sleep(pastShortTtl);
        const v2 = { ...v3, version: 2 };
        await cache.set(v2, LONG_TTL);
        expect(await cache.get(v3.id)).toEqual(v2);
      });

      it('renews the ttl with a newer set', async () => {
        const v1 = cachedSession();
        await cache.set(v1, shortTtl);
        const v2 = { ...v1, version: 2 };
        await cache.set(v2, LONG_TTL);
        await sleep(pastShortTtl);
        expect(await cache.get(v1.id)).toEqual(v2);
      });
    });

    it('answers each call either at once or with a promise, so the caller can always await it', async () => {
      const entry = cachedSession();
      const isThenable = (v: unknown) => typeof (v as { then?: unknown } | null)?.then === 'function';
      const writes = [
        () => cache.set(entry, LONG_TTL),
        () => cache.setMissing(makeRecord().id, LONG_TTL),
        () => cache.delete(makeRecord().id),
      ];
      for (const write of writes) {
        const answer = write();
        expect(answer === undefined || isThenable(answer)).toBe(true);
        expect(await answer).toBeUndefined();
      }
      const lookup = cache.get(entry.id);
      expect(isThenable(lookup) || typeof lookup === 'object').toBe(true);
      expect(await lookup).toEqual(entry);
      const cleared = cache.clear();
      expect(cleared === undefined || isThenable(cleared)).toBe(true);
      expect(await cleared).toBeUndefined();
      expect(await cache.get(entry.id)).toBeUndefined();
    });
  });
}
