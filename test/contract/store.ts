import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionStore } from '../../lib/stores/types.js';
import type { SessionRecord } from '../../lib/types.js';
import { DAY, T0, makeRecord } from '../helpers/records.js';

/** Times handed to the store (it never reads a clock). */
const U1 = T0 + 1_000;
const U2 = T0 + 2_000;

/**
 * The suite every `SessionStore` passes (memory, Redis, PostgreSQL, and any user-written store).
 * `make` returns a fresh, empty store for each test. `shared: true` declares a store other
 * processes read too (Redis, PostgreSQL).
 */
export function storeContract(
  name: string,
  make: () => SessionStore | Promise<SessionStore>,
  options: { shared?: boolean; channelIndex?: boolean } = {},
): void {
  const shared = options.shared ?? false;
  describe(`${name} store contract`, () => {
    let store: SessionStore;

    beforeEach(async () => {
      store = await make();
    });

    afterEach(async () => {
      await store.close?.();
    });

    /** Creates the records in the store and returns them. */
    async function seed(...overrides: Partial<SessionRecord>[]): Promise<SessionRecord[]> {
      const records = overrides.map((o) => makeRecord(o));
      for (const record of records) await store.create(record);
      return records;
    }

    it('has a name', () => {
      expect(typeof store.name).toBe('string');
      expect(store.name.length).toBeGreaterThan(0);
    });

    describe('get and create', () => {
      it('answers undefined for an id it never saw', async () => {
        expect(await store.get(makeRecord().id)).toBeUndefined();
      });

      it('hands back an anonymous record as it was created', async () => {
        const [record] = await seed({});
        expect(await store.get(record!.id)).toEqual(record);
      });

      it('hands back an authenticated record with its user snapshot and data bag, numeric ids kept numbers', async () => {
        const [record] = await seed({
          userId: 42,
          user: {
            id: 42,
            email: 'ada@example.com',
            roles: ['customer', 'beta'],
            address: { city: 'Lyon', lines: ['1 rue X', null], geo: { lat: 45.76, lng: 4.83 } },
            verified: true,
            nickname: null,
          },
          authenticationStrategy: 'native',
          activeOrderId: 1001,
          activeChannelId: 3,
          data: {
            cart: { items: [{ sku: 'A-1', qty: 2, price: 9.99 }], coupon: null },
            locale: 'fr-FR',
            visits: 0,
            flags: [true, false],
            empty: {},
          },
        });
        const got = await store.get(record!.id);
        expect(got).toEqual(record);
        expect(typeof got!.userId).toBe('number');
        expect(typeof got!.user!.id).toBe('number');
        expect(typeof got!.activeOrderId).toBe('number');
        expect(typeof got!.activeChannelId).toBe('number');
      });

      it('keeps string ids strings, even when they look like numbers', async () => {
        const [record] = await seed({
          userId: '42',
          user: { id: '42', name: 'Grace' },
          activeOrderId: '1001',
          activeChannelId: 'default-channel',
        });
        const got = await store.get(record!.id);
        expect(got).toEqual(record);
        expect(got!.userId).toBe('42');
        expect(got!.user!.id).toBe('42');
        expect(got!.activeOrderId).toBe('1001');
      });

      it('keeps records apart', async () => {
        const [a, b] = await seed({ data: { who: 'a' } }, { data: { who: 'b' } });
        expect(await store.get(a!.id)).toEqual(a);
        expect(await store.get(b!.id)).toEqual(b);
      });
    });

    describe('device and lifecycle fields', () => {
      it('keeps rememberMe, lastSeenAt, userAgent, ip and supersededUntil as created', async () => {
        const [record] = await seed({ userId: 3, rememberMe: false, lastSeenAt: T0 + 5, userAgent: 'Mozilla/5.0 (X11; Linux)', ip: '203.0.113.7', supersededUntil: T0 + 10_000 });
        expect(await store.get(record!.id)).toEqual(record);
      });

      it('updates them field by field: a user snapshot, lastSeenAt, userAgent, ip (null clears it), supersededUntil', async () => {
        const [record] = await seed({ userId: 3, user: { id: 3, roles: ['customer'] }, ip: '203.0.113.7', data: { keep: 1 } });
        const updated = await store.update(record!.id, { user: { id: 3, roles: ['admin'] }, lastSeenAt: U1, userAgent: 'curl/8', updatedAt: U1 });
        expect(updated).toEqual({ ...record, user: { id: 3, roles: ['admin'] }, lastSeenAt: U1, userAgent: 'curl/8', version: 2, updatedAt: U1 });
        const cleared = await store.update(record!.id, { ip: null, supersededUntil: U2, updatedAt: U2 });
        expect(cleared!.ip).toBeUndefined();
        expect(cleared).toMatchObject({ supersededUntil: U2, userId: 3, data: { keep: 1 }, version: 3 });
        expect(await store.get(record!.id)).toEqual(cleared);
      });
    });

    describe.skipIf(options.channelIndex === false)('listByActiveChannelId', () => {
      it('finds the sessions on a channel by its index, follows moves, forgets deleted ones; 7 and "7" are one channel', async () => {
        const [a, b, c] = await seed({ activeChannelId: 7 }, { activeChannelId: '7' }, { activeChannelId: 'eu' });
        expect(sortById((await store.listByActiveChannelId!(7)))).toEqual(sortById([a!, b!]));
        await store.update(b!.id, { activeChannelId: 'eu', updatedAt: U1 });
        expect((await store.listByActiveChannelId!('7')).map((r) => r.id)).toEqual([a!.id]);
        await store.update(a!.id, { activeChannelId: null, updatedAt: U1 });
        expect(await store.listByActiveChannelId!(7)).toEqual([]);
        await store.delete(c!.id);
        expect((await store.listByActiveChannelId!('eu')).map((r) => r.id)).toEqual([b!.id]);
      });
    });

    describe('update', () => {
      it('sets the active order, bumps version by one, sets updatedAt and returns the whole record', async () => {
        const [record] = await seed({ userId: 'u1', data: { keep: 1 }, activeChannelId: 'c1' });
        const updated = await store.update(record!.id, { activeOrderId: 'o-1', updatedAt: U1 });
        expect(updated).toEqual({ ...record, activeOrderId: 'o-1', version: 2, updatedAt: U1 });
        expect(await store.get(record!.id)).toEqual(updated);
      });

      it('clears the active order with null and leaves the channel alone', async () => {
        const [record] = await seed({ activeOrderId: 'o-1', activeChannelId: 'c1' });
        const updated = await store.update(record!.id, { activeOrderId: null, updatedAt: U1 });
        expect(updated!.activeOrderId).toBeUndefined();
        expect(updated!.activeChannelId).toBe('c1');
        const got = await store.get(record!.id);
        expect(got!.activeOrderId).toBeUndefined();
        expect(got!.activeChannelId).toBe('c1');
      });

      it('sets and clears the active channel, keeping a numeric id a number', async () => {
        const [record] = await seed({ activeOrderId: 7 });
        const set = await store.update(record!.id, { activeChannelId: 2, updatedAt: U1 });
        expect(set).toEqual({ ...record, activeChannelId: 2, version: 2, updatedAt: U1 });
        expect((await store.get(record!.id))!.activeChannelId).toBe(2);
        const cleared = await store.update(record!.id, { activeChannelId: null, updatedAt: U2 });
        expect(cleared!.activeChannelId).toBeUndefined();
        expect(cleared!.activeOrderId).toBe(7);
        expect((await store.get(record!.id))!.activeChannelId).toBeUndefined();
      });

      it('moves expiresAt', async () => {
        const [record] = await seed({});
        const later = T0 + 40 * DAY;
        const updated = await store.update(record!.id, { expiresAt: later, updatedAt: U1 });
        expect(updated).toEqual({ ...record, expiresAt: later, version: 2, updatedAt: U1 });
        expect((await store.get(record!.id))!.expiresAt).toBe(later);
      });

      it('sets several data keys at once, keeping the others', async () => {
        const [record] = await seed({ data: { keep: 'me', replace: 1 } });
        const updated = await store.update(record!.id, {
          set: { replace: 2, cart: { items: [{ sku: 'B', qty: 1 }] }, list: [1, '2', null] },
          updatedAt: U1,
        });
        const data = { keep: 'me', replace: 2, cart: { items: [{ sku: 'B', qty: 1 }] }, list: [1, '2', null] };
        expect(updated).toEqual({ ...record, data, version: 2, updatedAt: U1 });
        expect((await store.get(record!.id))!.data).toEqual(data);
      });

      it('unsets data keys, ignoring ones that are not there', async () => {
        const [record] = await seed({ data: { a: 1, b: 2, c: 3 } });
        const updated = await store.update(record!.id, { unset: ['a', 'c', 'never-set'], updatedAt: U1 });
        expect(updated!.data).toEqual({ b: 2 });
        expect((await store.get(record!.id))!.data).toEqual({ b: 2 });
      });

      it('bumps version by exactly one per update, even for a patch that changes only updatedAt', async () => {
        const [record] = await seed({ data: { x: 1 } });
        const first = await store.update(record!.id, { updatedAt: U1 });
        expect(first).toEqual({ ...record, version: 2, updatedAt: U1 });
        expect((await store.update(record!.id, { set: { y: 2 }, updatedAt: U2 }))!.version).toBe(3);
        expect((await store.update(record!.id, { activeOrderId: 5, updatedAt: U2 }))!.version).toBe(4);
        expect((await store.get(record!.id))!.version).toBe(4);
      });

      it('answers undefined for a missing id and does not create it', async () => {
        const id = makeRecord().id;
        expect(await store.update(id, { activeOrderId: 'o-1', set: { a: 1 }, updatedAt: U1 })).toBeUndefined();
        expect(await store.get(id)).toBeUndefined();
        expect(await store.deleteByActiveOrderId('o-1')).toEqual([]);
      });

      it('does not resurrect a deleted record', async () => {
        const [record] = await seed({ userId: 'u1', activeOrderId: 'o-1' });
        expect(await store.delete(record!.id)).toBe(true);
        expect(await store.update(record!.id, { set: { late: true }, activeOrderId: 'o-2', updatedAt: U1 })).toBeUndefined();
        expect(await store.get(record!.id)).toBeUndefined();
        expect(await store.listByUser('u1')).toEqual([]);
        expect(await store.deleteByActiveOrderId('o-2')).toEqual([]);
      });

      it('loses none of 50 concurrent updates of different keys, plus order, channel and expiry', async () => {
        const [record] = await seed({ data: { existing: true } });
        const id = record!.id;
        const writes: Promise<SessionRecord | undefined>[] = [];
        for (let i = 0; i < 50; i++) writes.push(store.update(id, { set: { [`key${i}`]: i }, updatedAt: U1 + i }));
        writes.push(store.update(id, { activeOrderId: 'o-9', updatedAt: U2 }));
        writes.push(store.update(id, { activeChannelId: 'c-9', updatedAt: U2 }));
        writes.push(store.update(id, { expiresAt: T0 + 45 * DAY, updatedAt: U2 }));
        const results = await Promise.all(writes);

        const expected: Record<string, unknown> = { existing: true };
        for (let i = 0; i < 50; i++) expected[`key${i}`] = i;
        const got = await store.get(id);
        expect(got!.data).toEqual(expected);
        expect(got!.activeOrderId).toBe('o-9');
        expect(got!.activeChannelId).toBe('c-9');
        expect(got!.expiresAt).toBe(T0 + 45 * DAY);
        expect(got!.version).toBe(1 + writes.length);
        // Atomic: every update saw its own version.
        const versions = results.map((r) => r!.version).sort((a, b) => a - b);
        expect(versions).toEqual(Array.from({ length: writes.length }, (_, i) => i + 2));
      });

      it('keeps concurrent set and unset of different keys', async () => {
        const [record] = await seed({ data: { a: 1, b: 2 } });
        await Promise.all([
          store.update(record!.id, { unset: ['a'], updatedAt: U1 }),
          store.update(record!.id, { set: { c: 3 }, updatedAt: U1 }),
        ]);
        expect((await store.get(record!.id))!.data).toEqual({ b: 2, c: 3 });
      });
    });

    describe('delete', () => {
      it('answers true when it deleted, false when there was nothing', async () => {
        const [a, b] = await seed({}, {});
        expect(await store.delete(a!.id)).toBe(true);
        expect(await store.get(a!.id)).toBeUndefined();
        expect(await store.delete(a!.id)).toBe(false);
        expect(await store.delete(makeRecord().id)).toBe(false);
        expect(await store.get(b!.id)).toEqual(b);
      });
    });

    describe('deleteByUser', () => {
      it("deletes exactly that user's sessions and returns their ids", async () => {
        const [a1, a2, a3, other, anonymous] = await seed(
          { userId: 'u-a' },
          { userId: 'u-a', activeOrderId: 'o-1' },
          { userId: 'u-a' },
          { userId: 'u-b' },
          {},
        );
        const ids = await store.deleteByUser('u-a');
        expect([...ids].sort()).toEqual([a1!.id, a2!.id, a3!.id].sort());
        for (const r of [a1, a2, a3]) expect(await store.get(r!.id)).toBeUndefined();
        expect(await store.get(other!.id)).toEqual(other);
        expect(await store.get(anonymous!.id)).toEqual(anonymous);
        expect(await store.deleteByUser('u-a')).toEqual([]);
        // Its order index went with it.
        expect(await store.deleteByActiveOrderId('o-1')).toEqual([]);
      });

      it('works with a numeric user id', async () => {
        const [mine, theirs] = await seed({ userId: 7 }, { userId: 8 });
        expect(await store.deleteByUser(7)).toEqual([mine!.id]);
        expect(await store.get(mine!.id)).toBeUndefined();
        expect(await store.get(theirs!.id)).toEqual(theirs);
      });

      it('answers [] for a user without sessions', async () => {
        await seed({ userId: 'u-a' });
        expect(await store.deleteByUser('nobody')).toEqual([]);
      });
    });

    describe('deleteByActiveOrderId', () => {
      it('deletes exactly the sessions holding that order and returns their ids', async () => {
        const [a1, a2, b, none] = await seed({ activeOrderId: 'A' }, { activeOrderId: 'A', userId: 'u1' }, { activeOrderId: 'B' }, {});
        const ids = await store.deleteByActiveOrderId('A');
        expect([...ids].sort()).toEqual([a1!.id, a2!.id].sort());
        expect(await store.get(a1!.id)).toBeUndefined();
        expect(await store.get(a2!.id)).toBeUndefined();
        expect(await store.get(b!.id)).toEqual(b);
        expect(await store.get(none!.id)).toEqual(none);
        expect(await store.listByUser('u1')).toEqual([]);
        expect(await store.deleteByActiveOrderId('A')).toEqual([]);
      });

      it('works with a numeric order id and with an order set by update', async () => {
        const [record] = await seed({});
        await store.update(record!.id, { activeOrderId: 501, updatedAt: U1 });
        expect(await store.deleteByActiveOrderId(501)).toEqual([record!.id]);
        expect(await store.get(record!.id)).toBeUndefined();
      });

      it('follows an order change: the old order no longer reaches the session, the new one does', async () => {
        const [record] = await seed({});
        await store.update(record!.id, { activeOrderId: 'A', updatedAt: U1 });
        await store.update(record!.id, { activeOrderId: 'B', updatedAt: U2 });
        expect(await store.deleteByActiveOrderId('A')).toEqual([]);
        expect(await store.get(record!.id)).toBeDefined();
        expect(await store.deleteByActiveOrderId('B')).toEqual([record!.id]);
        expect(await store.get(record!.id)).toBeUndefined();
      });

      it('follows a cleared order', async () => {
        const [record] = await seed({ activeOrderId: 'A' });
        await store.update(record!.id, { activeOrderId: null, updatedAt: U1 });
        expect(await store.deleteByActiveOrderId('A')).toEqual([]);
        expect(await store.get(record!.id)).toBeDefined();
      });
    });

    describe('listByUser', () => {
      it("lists that user's records, as they are now", async () => {
        const [a1, a2] = await seed({ userId: 'u-a', data: { n: 1 } }, { userId: 'u-a' }, { userId: 'u-b' }, {});
        const updated = await store.update(a1!.id, { set: { n: 2 }, activeOrderId: 'o', updatedAt: U1 });
        const listed = await store.listByUser('u-a');
        expect(sortById(listed)).toEqual(sortById([updated!, a2!]));
      });

      it('works with a numeric user id', async () => {
        const [mine] = await seed({ userId: 12, user: { id: 12 } }, { userId: 13 });
        expect(await store.listByUser(12)).toEqual([mine]);
      });

      it('stops listing a session once it is deleted, one way or another', async () => {
        const [a, b, c] = await seed({ userId: 'u-a' }, { userId: 'u-a', activeOrderId: 'o-1' }, { userId: 'u-a' });
        await store.delete(a!.id);
        expect(sortById(await store.listByUser('u-a'))).toEqual(sortById([b!, c!]));
        await store.deleteByActiveOrderId('o-1');
        expect(await store.listByUser('u-a')).toEqual([c]);
        await store.deleteByUser('u-a');
        expect(await store.listByUser('u-a')).toEqual([]);
      });

      it('answers [] for a user without sessions', async () => {
        expect(await store.listByUser('nobody')).toEqual([]);
      });
    });

    describe('deleteExpired', () => {
      it('deletes the records with expiresAt <= now (the boundary included) and returns their ids', async () => {
        const now = T0 + 2 * DAY;
        const [past, boundary, soon, live] = await seed(
          { expiresAt: T0 + DAY },
          { expiresAt: now },
          { expiresAt: now + 1 },
          { expiresAt: T0 + 30 * DAY },
        );
        const ids = await store.deleteExpired(now, 100);
        expect([...ids].sort()).toEqual([past!.id, boundary!.id].sort());
        expect(await store.get(past!.id)).toBeUndefined();
        expect(await store.get(boundary!.id)).toBeUndefined();
        expect(await store.get(soon!.id)).toEqual(soon);
        expect(await store.get(live!.id)).toEqual(live);
        expect(await store.deleteExpired(now, 100)).toEqual([]);
      });

      it('deletes at most `limit` per call, and repeated calls drain all expired ones, never a live one', async () => {
        const now = T0 + 10 * DAY;
        const expired = await seed(...Array.from({ length: 17 }, (_, i) => ({ expiresAt: T0 + i * 3_600_000 })));
        const live = await seed(...Array.from({ length: 5 }, (_, i) => ({ expiresAt: now + 1 + i })));
        const deleted: string[] = [];
        let calls = 0;
        for (;;) {
          const batch = await store.deleteExpired(now, 5);
          calls++;
          expect(batch.length).toBeLessThanOrEqual(5);
          // An empty batch means "none left" to the cleanup loop, so the first one must not be empty.
          if (calls === 1) expect(batch.length).toBeGreaterThan(0);
          if (batch.length === 0) break;
          deleted.push(...batch);
          expect(calls).toBeLessThan(30);
        }
        expect(new Set(deleted).size).toBe(deleted.length);
        expect([...deleted].sort()).toEqual(expired.map((r) => r.id).sort());
        for (const r of live) expect(await store.get(r.id)).toEqual(r);
      });

      it('answers [] when nothing is expired', async () => {
        await seed({}, {});
        expect(await store.deleteExpired(T0, 100)).toEqual([]);
      });

      it('does not delete a record at its old expiry once update moved it forward', async () => {
        const [record] = await seed({ expiresAt: T0 + DAY });
        await store.update(record!.id, { expiresAt: T0 + 10 * DAY, updatedAt: U1 });
        expect(await store.deleteExpired(T0 + 2 * DAY, 100)).toEqual([]);
        expect(await store.get(record!.id)).toBeDefined();
        expect(await store.deleteExpired(T0 + 10 * DAY, 100)).toEqual([record!.id]);
        expect(await store.get(record!.id)).toBeUndefined();
      });

      it('deletes a record whose expiry update moved earlier', async () => {
        const [record] = await seed({ expiresAt: T0 + 10 * DAY });
        await store.update(record!.id, { expiresAt: T0 + DAY, updatedAt: U1 });
        expect(await store.deleteExpired(T0 + 2 * DAY, 100)).toEqual([record!.id]);
      });

      it('counts renewed records out of the limit: live ones do not use up a batch', async () => {
        const renewed = await seed({ expiresAt: T0 + DAY }, { expiresAt: T0 + DAY }, { expiresAt: T0 + DAY });
        for (const r of renewed) await store.update(r.id, { expiresAt: T0 + 30 * DAY, updatedAt: U1 });
        const expired = await seed({ expiresAt: T0 + 2 * DAY }, { expiresAt: T0 + 2 * DAY });
        const ids = await store.deleteExpired(T0 + 3 * DAY, 2);
        expect([...ids].sort()).toEqual(expired.map((r) => r.id).sort());
      });

      it('returns an id once, even when its expiry moved away and back', async () => {
        const [record] = await seed({ expiresAt: T0 + DAY });
        await store.update(record!.id, { expiresAt: T0 + 10 * DAY, updatedAt: U1 });
        await store.update(record!.id, { expiresAt: T0 + DAY, updatedAt: U2 });
        expect(await store.deleteExpired(T0 + 2 * DAY, 100)).toEqual([record!.id]);
        expect(await store.deleteExpired(T0 + 20 * DAY, 100)).toEqual([]);
      });

      it('does not return records deleted before they expired', async () => {
        const [gone, revoked] = await seed({ expiresAt: T0 + DAY, userId: 'u' }, { expiresAt: T0 + DAY, activeOrderId: 'o' });
        await store.delete(gone!.id);
        await store.deleteByActiveOrderId('o');
        expect(revoked).toBeDefined();
        expect(await store.deleteExpired(T0 + 2 * DAY, 100)).toEqual([]);
      });
    });

    it('has no coordination members: locks and change feeds belong to the fleet', () => {
      expect(Object.keys(store).filter((key) => ['lock', 'subscribe', 'publish'].includes(key))).toEqual([]);
    });

    it('says whether other processes share its records', () => {
      expect(store.shared === true).toBe(shared);
    });
  });
}

function sortById(records: SessionRecord[]): SessionRecord[] {
  return [...records].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
