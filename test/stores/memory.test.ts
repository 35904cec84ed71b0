import { warningsDuring } from '../helpers/warnings.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryStore } from '../../lib/stores/memory.js';
import { storeContract } from '../contract/store.js';
import { DAY, T0, makeRecord } from '../helpers/records.js';

storeContract('memory', () => memoryStore());

describe('memoryStore', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('finds expired records through its expiry queue, not a scan: 1k expired among 100k, drained one per call', async () => {
    const store = memoryStore();
    const total = 100_000;
    const expired = 1_000;
    for (let i = 0; i < total; i++) {
      // Expired ones are spread through the insertion order; the rest live for 30 days.
      const isExpired = i % (total / expired) === 0;
      await store.create(
        makeRecord({ id: `s-${i}`, secretHash: 'h', expiresAt: isExpired ? T0 + i : T0 + 30 * DAY }),
      );
    }
    const now = T0 + total;
    const started = performance.now();
    const deleted: string[] = [];
    for (let call = 0; call <= expired; call++) deleted.push(...(await store.deleteExpired(now, 1)));
    const elapsed = performance.now() - started;

    expect(deleted).toHaveLength(expired);
    expect(new Set(deleted).size).toBe(expired);
    expect(deleted.every((id) => Number(id.slice(2)) % (total / expired) === 0)).toBe(true);
    // 1,001 calls: a scan of 100k records per call is ~50M steps; the heap needs ~20k.
    expect(elapsed).toBeLessThan(200); // measured: ~15 ms with the heap, ~900 ms with a scan
    expect(await store.get('s-1')).toBeDefined();
  });

  it('leaves a record object it handed out as it was when the record is updated', async () => {
    const store = memoryStore();
    const record = makeRecord({ data: { a: 1 } });
    await store.create(record);
    const before = (await store.get(record.id))!;
    await store.update(record.id, { set: { a: 2, b: 3 }, unset: [], activeOrderId: 'o', updatedAt: T0 + 1 });
    expect(before).toEqual(record);
    expect(before.data).toEqual({ a: 1 });
    expect((await store.get(record.id))!.data).toEqual({ a: 2, b: 3 });
  });

  it("treats user and order ids 7 and '7' as one (its indexes compare ids as strings)", async () => {
    const store = memoryStore();
    const a = makeRecord({ userId: 7, activeOrderId: 9 });
    const b = makeRecord({ userId: '7', activeOrderId: '9' });
    await store.create(a);
    await store.create(b);
    expect((await store.listByUser('7')).map((r) => r.id).sort()).toEqual([a.id, b.id].sort());
    expect((await store.deleteByActiveOrderId(9)).sort()).toEqual([a.id, b.id].sort());
  });

  describe('production warning', () => {
    it('warns SOJOURN_MEMORY_STORE when NODE_ENV is production', async () => {
      vi.stubEnv('NODE_ENV', 'production');
      const warnings = await warningsDuring(() => memoryStore());
      expect(warnings.map((w) => w.code)).toEqual(['SOJOURN_MEMORY_STORE']);
      expect(warnings[0]!.message).toMatch(/redisStore|postgresStore/);
    });

    it('stays quiet outside production', async () => {
      vi.stubEnv('NODE_ENV', 'development');
      expect(await warningsDuring(() => memoryStore())).toEqual([]);
    });
  });
});
