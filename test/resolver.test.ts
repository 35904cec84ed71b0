import { randomBytes } from 'node:crypto';
import { sign } from 'cookie-signature';
import { v4 as uuidv4 } from 'uuid';
import { describe, expect, it, vi } from 'vitest';
import { SessionStoreError, lruCache } from 'sojourn';
import { countingCache, countingStore, world } from './helpers/counting.js';
import { unknownToken } from './helpers/http.js';
import { TEST_SECRET } from './helpers/records.js';
import { captureWarnings } from './helpers/warnings.js';

const MIN = 60_000;
const secret = () => randomBytes(32).toString('base64url');
/** A token this server could have issued (tagged under its secret) that no store knows. */
const validShapedToken = () => unknownToken(TEST_SECRET);
/** A real id with another secret, tagged under the server secret: only someone holding that secret could make it. */
const taggedForgery = (id: string) => sign(`${id}.${secret()}`, TEST_SECRET);

describe('getSessionFromToken: junk never reaches a cache or the store', () => {
  const good = validShapedToken();
  const junk: [string, unknown][] = [
    ['empty', ''],
    ['short', 'abc'],
    ['one char short', good.slice(0, -1)],
    ['one char long', `${good}A`],
    ['no dot', good.replace('.', 'x')],
    ['dot elsewhere', `${good.slice(0, 35)}.${good.slice(35, 36)}${good.slice(37)}`],
    ['uuid v4 id', sign(`${uuidv4()}.${secret()}`, TEST_SECRET)],
    ['upper-case id', sign(`${good.slice(0, 36).toUpperCase()}.${good.slice(37, 80)}`, TEST_SECRET)],
    ['tag with invalid last char', `${good.slice(0, -1)}B`],
    ['secret with a non-base64url char', `${good.slice(0, 40)}+${good.slice(41)}`],
    ['a made-up token of the exact shape (tagged under another secret)', unknownToken('guessed secret')],
    ['an untagged sojourn 0.1 bearer token', good.slice(0, 80)],
    ['bearer prefix kept', `Bearer ${good}`.slice(0, good.length)],
    ['surrounding space', ` ${good.slice(1)}`],
    ['not a string (number)', 42],
    ['not a string (undefined)', undefined],
    ['not a string (object)', { toString: () => good }],
  ];

  it.each(junk)('%s → undefined, 0 store reads, 0 cache reads', async (_name, token) => {
    const { manager, store, cache } = world();
    await expect(manager.getSessionFromToken(token as string)).resolves.toBeUndefined();
    expect(store.calls.get).toBe(0);
    expect(cache.calls.get).toBe(0);
  });

  it('a 10,000-token junk flood costs no I/O at all', async () => {
    const { manager, store, cache } = world();
    const results = await Promise.all(Array.from({ length: 10_000 }, (_, i) => manager.getSessionFromToken(`junk-${i}`)));
    expect(results.every((r) => r === undefined)).toBe(true);
    expect(store.calls.get).toBe(0);
    expect(cache.calls.get + cache.calls.setMissing).toBe(0);
  });
});

describe('getSessionFromToken: unknown, forged, expired', () => {
  it('a valid-shaped unknown token reads the store once, then is remembered as missing', async () => {
    const { manager, store, cache } = world();
    const token = validShapedToken();
    await expect(manager.getSessionFromToken(token)).resolves.toBeUndefined();
    expect(store.calls.get).toBe(1);
    expect(cache.peek(token.slice(0, 36))).toBeNull();
    for (let i = 0; i < 100; i++) await manager.getSessionFromToken(token);
    expect(store.calls.get).toBe(1);
  });

  it('a concurrent flood of 100 lookups of one unknown token reads the store once', async () => {
    const { manager, store } = world();
    const token = validShapedToken();
    const results = await Promise.all(Array.from({ length: 100 }, () => manager.getSessionFromToken(token)));
    expect(results.every((r) => r === undefined)).toBe(true);
    expect(store.calls.get).toBe(1);
  });

  it('a forged secret for a real id is refused before any I/O (its tag does not match)', async () => {
    const { manager, store, cache } = world();
    const { session } = await manager.createAnonymousSession();
    cache.reset();
    await expect(manager.getSessionFromToken(`${session.id}.${secret()}.${'A'.repeat(43)}`)).resolves.toBeUndefined();
    expect([store.calls.get, cache.calls.get]).toEqual([0, 0]);
  });

  it('a forged secret under a valid tag is refused, and the real owner still gets in (warm cache)', async () => {
    const { manager, store } = world();
    const { token, session } = await manager.createAnonymousSession();
    const forged = taggedForgery(session.id);
    expect(forged).not.toBe(token);
    for (let i = 0; i < 10; i++) await expect(manager.getSessionFromToken(forged)).resolves.toBeUndefined();
    const owner = await manager.getSessionFromToken(token);
    expect(owner?.id).toBe(session.id);
    expect(store.calls.get).toBe(0);
  });

  it('a forged secret on a cold cache does not tombstone the real id', async () => {
    const { manager, store } = world();
    const { token, session } = await manager.createAnonymousSession();
    await manager.clearCache();
    await expect(manager.getSessionFromToken(taggedForgery(session.id))).resolves.toBeUndefined();
    expect(store.calls.get).toBe(1);
    expect((await manager.getSessionFromToken(token))?.id).toBe(session.id);
    // and the owner's lookup warmed the cache: the next one reads nothing
    store.reset();
    expect((await manager.getSessionFromToken(token))?.id).toBe(session.id);
    expect(store.calls.get).toBe(0);
  });

  it('an expired session is undefined (from the cache or from the store) and then remembered as missing', async () => {
    const { manager, store, advance } = world({ duration: '10m', absoluteDuration: '1h', cacheTtl: '1h' });
    const a = await manager.createAnonymousSession();
    const b = await manager.createAnonymousSession();
    await manager.caches[0]!.delete(b.session.id); // b only in the store
    advance(10 * MIN); // expiresAt <= now: expired
    await expect(manager.getSessionFromToken(a.token)).resolves.toBeUndefined();
    await expect(manager.getSessionFromToken(b.token)).resolves.toBeUndefined();
    const reads = store.calls.get;
    await expect(manager.getSessionFromToken(a.token)).resolves.toBeUndefined();
    await expect(manager.getSessionFromToken(b.token)).resolves.toBeUndefined();
    expect(store.calls.get).toBe(reads);
  });

  it('one millisecond before expiry the session is still valid', async () => {
    const { manager, advance } = world({ duration: '10m', absoluteDuration: '10m' });
    const { token } = await manager.createAnonymousSession();
    advance(10 * MIN - 1);
    expect(await manager.getSessionFromToken(token)).toBeDefined();
  });

  it('a failing store is a SessionStoreError, not a missing session', async () => {
    const { manager, store } = world();
    const { token } = await manager.createAnonymousSession();
    await manager.clearCache();
    store.before = () => {
      throw new Error('connection refused');
    };
    const error = await manager.getSessionFromToken(token).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionStoreError);
    expect(error).toMatchObject({ code: 'ERR_SESSION_STORE', store: 'memory' });
    expect((error as Error).cause).toMatchObject({ message: 'connection refused' });
  });
});

describe('getSessionFromToken: the cache chain', () => {
  it('a warm cache answers with 0 store reads', async () => {
    const { manager, store } = world();
    const { token, session } = await manager.createAnonymousSession();
    for (let i = 0; i < 20; i++) expect((await manager.getSessionFromToken(token))?.id).toBe(session.id);
    expect(store.calls.get).toBe(0);
  });

  it('entries carry cacheExpiry = now + cacheTtl when that comes first', async () => {
    const { manager, cache, now } = world({ cacheTtl: '5m', duration: '30d' });
    const { session } = await manager.createAnonymousSession();
    expect(session.cacheExpiry).toBe(now() + 5 * MIN);
    expect(cache.peek(session.id)).toMatchObject({ cacheExpiry: now() + 5 * MIN });
    expect(cache.sets.at(-1)?.entry.cacheExpiry).toBe(cache.sets.at(-1)!.now + 5 * MIN);
  });

  it('entries never outlive expiresAt (cacheExpiry = expiresAt when that comes first)', async () => {
    const { manager, cache, now } = world({ cacheTtl: '1h', duration: '10m' });
    const { session } = await manager.createAnonymousSession();
    expect(session.expiresAt).toBe(now() + 10 * MIN);
    expect(session.cacheExpiry).toBe(session.expiresAt);
    expect(cache.sets.at(-1)?.entry.cacheExpiry).toBe(cache.sets.at(-1)!.now + 10 * MIN);
  });

  it('a stale entry (clock past cacheExpiry) re-reads the store and refreshes the cache', async () => {
    const { manager, store, cache, advance, now } = world({ cacheTtl: '5m' });
    const { token, session } = await manager.createAnonymousSession();
    advance(5 * MIN - 1);
    await manager.getSessionFromToken(token);
    expect(store.calls.get).toBe(0);
    advance(1);
    const fresh = await manager.getSessionFromToken(token);
    expect(store.calls.get).toBe(1);
    expect(fresh?.id).toBe(session.id);
    expect(fresh?.cacheExpiry).toBe(now() + 5 * MIN);
    expect(cache.peek(session.id)).toMatchObject({ cacheExpiry: now() + 5 * MIN });
    await manager.getSessionFromToken(token);
    expect(store.calls.get).toBe(1);
  });

  it('[lru, lru2]: the first hit wins and later layers are not asked', async () => {
    const l1 = countingCache(undefined, 'lru1');
    const l2 = countingCache(undefined, 'lru2');
    const { manager, store } = world({ cache: [l1, l2] });
    const { token } = await manager.createAnonymousSession();
    l1.reset();
    l2.reset();
    await manager.getSessionFromToken(token);
    expect(l1.calls.get).toBe(1);
    expect(l2.calls.get).toBe(0);
    expect(store.calls.get).toBe(0);
  });

  it('[lru, lru2]: a hit in layer 2 back-fills layer 1 with the remaining lifetime', async () => {
    const l1 = countingCache(undefined, 'lru1');
    const l2 = countingCache(undefined, 'lru2');
    const { manager, store, advance } = world({ cache: [l1, l2], cacheTtl: '5m' });
    const { token, session } = await manager.createAnonymousSession();
    await l1.inner.delete(session.id);
    advance(2 * MIN);
    l1.reset();
    l2.reset();
    const found = await manager.getSessionFromToken(token);
    expect(found?.id).toBe(session.id);
    expect(store.calls.get).toBe(0);
    expect(l2.calls.get).toBe(1);
    expect(l1.sets).toHaveLength(1);
    expect(l1.sets[0]!.entry.cacheExpiry).toBe(session.cacheExpiry); // not extended by the back-fill
    expect(l1.sets[0]!.entry.cacheExpiry - l1.sets[0]!.now).toBe(3 * MIN);
    expect(l2.calls.set).toBe(0);
    // layer 1 now answers
    l2.reset();
    await manager.getSessionFromToken(token);
    expect(l2.calls.get).toBe(0);
  });

  it('[lru, lru2]: a store read fills every layer', async () => {
    const l1 = countingCache(undefined, 'lru1');
    const l2 = countingCache(undefined, 'lru2');
    const { manager, store } = world({ cache: [l1, l2] });
    const { token, session } = await manager.createAnonymousSession();
    await manager.clearCache();
    await manager.getSessionFromToken(token);
    expect(store.calls.get).toBe(1);
    expect(l1.peek(session.id)).toMatchObject({ id: session.id });
    expect(l2.peek(session.id)).toMatchObject({ id: session.id });
  });

  it('50 concurrent lookups of one id on a cold cache share ONE store read', async () => {
    const { manager, store } = world();
    const { token, session } = await manager.createAnonymousSession();
    await manager.clearCache();
    const results = await Promise.all(Array.from({ length: 50 }, () => manager.getSessionFromToken(token)));
    expect(results.every((r) => r?.id === session.id)).toBe(true);
    expect(store.calls.get).toBe(1);
  });

  it('[lru, slow remote]: 50 concurrent cold lookups ask the remote layer once, the store once, and back-fill once', async () => {
    const l1 = countingCache(undefined, 'lru');
    const remote = countingCache(undefined, 'remote');
    const { manager, store } = world({ cache: [l1, remote] });
    const { token, session } = await manager.createAnonymousSession();
    await manager.clearCache();
    remote.mode = { delayMs: 15 };
    l1.reset();
    remote.reset();
    const first = manager.getSessionFromToken(token);
    await new Promise((resolve) => setTimeout(resolve, 5)); // the rest arrive while the remote GET is out
    const results = await Promise.all([first, ...Array.from({ length: 49 }, () => manager.getSessionFromToken(token))]);
    expect(results.every((r) => r?.id === session.id)).toBe(true);
    expect(remote.calls.get).toBe(1);
    expect(store.calls.get).toBe(1);
    expect(l1.calls.set).toBe(1);
    await vi.waitFor(() => expect(remote.calls.set).toBe(1));
    expect(l1.peek(session.id)).toMatchObject({ id: session.id });
  });

  it('a shared lookup still checks every request\'s secret: a forged one in the burst gets nothing', async () => {
    const remote = countingCache(undefined, 'remote');
    const { manager, store } = world({ cache: [lruCache(), remote] });
    const { token, session } = await manager.createAnonymousSession();
    await manager.clearCache();
    remote.mode = { delayMs: 10 };
    const forged = `${token.slice(0, 37)}${'A'.repeat(43)}`;
    const [real, fake, again] = await Promise.all([token, forged, token].map((t) => manager.getSessionFromToken(t)));
    expect(real?.id).toBe(session.id);
    expect(fake).toBeUndefined();
    expect(again?.id).toBe(session.id);
    expect(store.calls.get).toBe(1);
  });

  it('single-flight holds even when the store is slow', async () => {
    const { manager, store } = world();
    const { token } = await manager.createAnonymousSession();
    await manager.clearCache();
    store.before = () => new Promise((resolve) => setTimeout(resolve, 20));
    const first = manager.getSessionFromToken(token);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const rest = Array.from({ length: 49 }, () => manager.getSessionFromToken(token));
    const results = await Promise.all([first, ...rest]);
    expect(results.every(Boolean)).toBe(true);
    expect(store.calls.get).toBe(1);
  });

  it('a throwing cache counts as a miss: the store answers, one SOJOURN_CACHE_DOWN warning', async () => {
    const cache = countingCache();
    const { manager, store } = world({}, { cache });
    const { token, session } = await manager.createAnonymousSession();
    const capture = captureWarnings('SOJOURN_CACHE_DOWN');
    try {
      cache.mode = 'throw';
      for (let i = 0; i < 3; i++) expect((await manager.getSessionFromToken(token))?.id).toBe(session.id);
      expect(store.calls.get).toBe(3);
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(capture.warnings).toHaveLength(1);
    } finally {
      capture.stop();
    }
  });

  it('a rejecting cache counts as a miss', async () => {
    captureWarnings('SOJOURN_CACHE_DOWN');
    const cache = countingCache();
    const { manager, store } = world({}, { cache });
    const { token, session } = await manager.createAnonymousSession();
    cache.mode = 'reject';
    expect((await manager.getSessionFromToken(token))?.id).toBe(session.id);
    expect(store.calls.get).toBe(1);
  });

  it('a cache that does not answer in time is a miss: the lookup answers within cacheTimeout + slack', async () => {
    captureWarnings('SOJOURN_CACHE_DOWN');
    const cacheTimeout = 150;
    const cache = countingCache();
    const { manager, store } = world({ cacheTimeout }, { cache });
    const { token, session } = await manager.createAnonymousSession();
    cache.mode = { delayMs: 2_000 };
    const started = performance.now();
    const found = await manager.getSessionFromToken(token);
    const elapsed = performance.now() - started;
    expect(found?.id).toBe(session.id);
    expect(store.calls.get).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(cacheTimeout - 5);
    expect(elapsed).toBeLessThan(cacheTimeout + 100);
  });

  it('a cache that only reads slowly is a miss within cacheTimeout + slack', async () => {
    captureWarnings('SOJOURN_CACHE_DOWN');
    const cacheTimeout = 150;
    const inner = countingCache();
    // slow reads, normal writes: a cache whose reads time out
    const slowReads = { ...inner, get: (id: string, now: number) => new Promise((r) => setTimeout(() => r(inner.get(id, now)), 2_000).unref()) } as typeof inner;
    const { manager, store } = world({ cacheTimeout }, { cache: slowReads, store: countingStore() });
    const { token, session } = await manager.createAnonymousSession();
    const started = performance.now();
    expect((await manager.getSessionFromToken(token))?.id).toBe(session.id);
    expect(performance.now() - started).toBeLessThan(cacheTimeout + 100);
    expect(store.calls.get).toBe(1);
  });
});

describe('sliding expiry', () => {
  const sliding = { duration: '10m', absoluteDuration: '1h', cacheTtl: '1h' } as const;

  it('renews on a cache HIT when less than half of duration is left: one store update, expiresAt = now + duration', async () => {
    const { manager, store, cache, advance, now } = world(sliding);
    const { token, session } = await manager.createAnonymousSession();
    const updates: unknown[][] = [];
    store.before = (op, args) => void (op === 'update' && updates.push(args));
    advance(6 * MIN);
    const found = await manager.getSessionFromToken(token);
    expect(store.calls.get).toBe(0); // it was a cache hit
    expect(store.calls.update).toBe(1);
    expect(updates).toEqual([[session.id, { expiresAt: now() + 10 * MIN, lastSeenAt: now(), updatedAt: now() }]]); // lastSeenAt rides on the renewal
    expect(found?.id).toBe(session.id);
    expect(found?.expiresAt).toBe(now() + 10 * MIN);
    expect((await store.inner.get(session.id))?.expiresAt).toBe(now() + 10 * MIN);
    expect(cache.peek(session.id)).toMatchObject({ expiresAt: now() + 10 * MIN });
    // renewed once: the next lookups do not write again
    await manager.getSessionFromToken(token);
    expect(store.calls.update).toBe(1);
  });

  it('renews on a store read too', async () => {
    const { manager, store, advance, now } = world(sliding);
    const { token } = await manager.createAnonymousSession();
    await manager.clearCache();
    advance(6 * MIN);
    const found = await manager.getSessionFromToken(token);
    expect(store.calls.get).toBe(1);
    expect(store.calls.update).toBe(1);
    expect(found?.expiresAt).toBe(now() + 10 * MIN);
  });

  it('more than half left: no write', async () => {
    const { manager, store, advance } = world(sliding);
    const { token, session } = await manager.createAnonymousSession();
    advance(5 * MIN); // exactly half left: not less than half
    const found = await manager.getSessionFromToken(token);
    expect(found?.expiresAt).toBe(session.expiresAt);
    expect(store.calls.update).toBe(0);
  });

  it('a burst of 20 concurrent lookups due for renewal makes exactly 1 store update', async () => {
    const { manager, store, advance, now } = world(sliding);
    const { token } = await manager.createAnonymousSession();
    advance(6 * MIN);
    const results = await Promise.all(Array.from({ length: 20 }, () => manager.getSessionFromToken(token)));
    expect(results.every((r) => r?.expiresAt === now() + 10 * MIN)).toBe(true);
    expect(store.calls.update).toBe(1);
  });

  it('a burst on a cold cache makes 1 read and 1 update', async () => {
    const { manager, store, advance } = world(sliding);
    const { token } = await manager.createAnonymousSession();
    await manager.clearCache();
    advance(6 * MIN);
    await Promise.all(Array.from({ length: 20 }, () => manager.getSessionFromToken(token)));
    expect(store.calls.get).toBe(1);
    expect(store.calls.update).toBe(1);
  });

  it('renewal is capped by absoluteDuration: the session ends at absoluteExpiresAt even with constant use', async () => {
    const { manager, store, advance, now } = world({ duration: '10m', absoluteDuration: '25m', cacheTtl: '1h' });
    const { token, session } = await manager.createAnonymousSession();
    expect(session.absoluteExpiresAt).toBe(now() + 25 * MIN);
    let last = session;
    while (now() < session.absoluteExpiresAt - MIN) {
      advance(MIN);
      const found = await manager.getSessionFromToken(token);
      expect(found, `still valid at +${(now() - session.createdAt) / MIN}m`).toBeDefined();
      expect(found!.expiresAt).toBeLessThanOrEqual(session.absoluteExpiresAt);
      last = found!;
    }
    expect(last.expiresAt).toBe(session.absoluteExpiresAt);
    // at most one durable write per half-duration
    expect(store.calls.update).toBeLessThanOrEqual(Math.ceil(25 / 5));
    const writes = store.calls.update;
    advance(MIN); // now === absoluteExpiresAt
    await expect(manager.getSessionFromToken(token)).resolves.toBeUndefined();
    expect(store.calls.update).toBe(writes); // no renewal past the absolute time
  });

  it('does not renew when the absolute cap leaves nothing to gain', async () => {
    const { manager, store, advance } = world({ duration: '10m', absoluteDuration: '10m', cacheTtl: '1h' });
    const { token, session } = await manager.createAnonymousSession();
    advance(8 * MIN);
    const found = await manager.getSessionFromToken(token);
    expect(found?.expiresAt).toBe(session.expiresAt);
    expect(store.calls.update).toBe(0);
  });

  it('renewing a session deleted meanwhile does not bring it back', async () => {
    const { manager, store, advance } = world(sliding);
    const { token, session } = await manager.createAnonymousSession();
    await store.inner.delete(session.id); // gone behind the cache's back
    advance(6 * MIN);
    await expect(manager.getSessionFromToken(token)).resolves.toBeUndefined();
    expect(await store.inner.get(session.id)).toBeUndefined();
    await expect(manager.getSessionFromToken(token)).resolves.toBeUndefined();
  });
});
