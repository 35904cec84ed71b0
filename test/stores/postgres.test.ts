import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSessionManager } from '../../lib/index.js';
import { postgresStore, schemaSql } from '../../lib/postgres.js';
import { DAY, T0, makeRecord, TEST_SECRET } from '../helpers/records.js';
import { storeContract } from '../contract/store.js';
import { freshStore, newPool, sharedPool, uniqueTable } from '../helpers/postgres.js';

// Each test gets a new, empty table of its own.
storeContract('postgres', () => freshStore(), { shared: true });

describe('postgresStore: records', () => {
  it('round-trips every field, ids keeping their JS type, times to the millisecond', async () => {
    const store = await freshStore();
    const record = makeRecord({
      userId: 7,
      user: { id: 7, name: 'Ada', roles: ['admin'] },
      authenticationStrategy: 'native',
      activeOrderId: 'ord_12',
      activeChannelId: 3,
      data: { cart: { lines: [1, 2] }, note: 'ünïcödé' },
      createdAt: T0 + 123,
      updatedAt: T0 + 456,
      expiresAt: T0 + DAY + 789,
    });
    await store.create(record);
    expect(await store.get(record.id)).toEqual(record);
    const anonymous = makeRecord({ userId: '7' });
    await store.create(anonymous);
    expect((await store.get(anonymous.id))?.userId).toBe('7');
    expect(await store.get(anonymous.id)).not.toHaveProperty('user');
  });

  it('answers for ids that are not UUIDs without asking the server', async () => {
    const store = await freshStore();
    expect(await store.get('nope')).toBeUndefined();
    expect(await store.update("x'; DROP TABLE y; --", { updatedAt: T0 })).toBeUndefined();
    expect(await store.delete('nope')).toBe(false);
  });

  it('patches fields one by one: the data bag per key, null clears, version bumps', async () => {
    const store = await freshStore();
    const record = makeRecord({ activeOrderId: 1, activeChannelId: 'eu', data: { a: 1, b: 2, keep: true } });
    await store.create(record);
    const next = await store.update(record.id, {
      activeOrderId: null,
      expiresAt: T0 + 2 * DAY,
      set: { a: { deep: [1] }, c: 'new' },
      unset: ['b'],
      updatedAt: T0 + 5,
    });
    expect(next).toEqual({
      ...record,
      activeOrderId: undefined,
      version: 2,
      expiresAt: T0 + 2 * DAY,
      updatedAt: T0 + 5,
      data: { a: { deep: [1] }, c: 'new', keep: true },
    });
    expect(next).not.toHaveProperty('activeOrderId');
    expect(await store.get(record.id)).toEqual(next);
  });

  it('finds sessions by user and by active order whatever the id type was (7 and "7" are one user)', async () => {
    const store = await freshStore();
    const mine = [makeRecord({ userId: 7 }), makeRecord({ userId: '7' })];
    const other = makeRecord({ userId: 8, activeOrderId: 99 });
    for (const record of [...mine, other]) await store.create(record);
    expect((await store.listByUser(7)).map((r) => r.id).sort()).toEqual(mine.map((r) => r.id).sort());
    expect((await store.deleteByUser('7')).sort()).toEqual(mine.map((r) => r.id).sort());
    expect(await store.deleteByActiveOrderId('99')).toEqual([other.id]);
    expect(await store.listByUser(8)).toEqual([]);
  });

  it('deletes expired records in batches of at most `limit`, soonest first', async () => {
    const store = await freshStore();
    const expired = Array.from({ length: 5 }, (_, i) => makeRecord({ expiresAt: T0 + i }));
    const live = makeRecord({ expiresAt: T0 + DAY });
    for (const record of [...expired, live]) await store.create(record);
    expect(await store.deleteExpired(T0 + 10, 3)).toEqual(expired.slice(0, 3).map((r) => r.id));
    expect((await store.deleteExpired(T0 + 10, 3)).sort()).toEqual(expired.slice(3).map((r) => r.id).sort());
    expect(await store.deleteExpired(T0 + 10, 3)).toEqual([]);
    expect(await store.get(live.id)).toEqual(live);
  });
});

describe('postgresStore: schema and migration', () => {
  it('upgrades a table of schema 1 (sojourn 0.1) in place: every row kept, the new columns and index usable', async () => {
    const table = uniqueTable();
    const ddl = readFileSync(new URL('../fixtures/sql/sessions-schema-1.sql', import.meta.url), 'utf8').replaceAll('__TABLE__', table);
    await sharedPool().query(ddl);
    const old = postgresStore({ pool: sharedPool(), table });
    const rows = Array.from({ length: 50 }, (_, i) => makeRecord({ userId: i % 5, activeOrderId: `o${i}`, data: { n: i } }));
    for (const row of rows) {
      await sharedPool().query(
        `INSERT INTO "${table}" (id, secret_hash, version, user_id, active_order_id, data, created_at, updated_at, expires_at, absolute_expires_at)
         VALUES ($1, $2, 1, $3::jsonb, $4::jsonb, $5::jsonb, to_timestamp($6::float8 / 1000), to_timestamp($6::float8 / 1000), to_timestamp($7::float8 / 1000), to_timestamp($8::float8 / 1000))`,
        [row.id, row.secretHash, JSON.stringify(row.userId), JSON.stringify(row.activeOrderId), JSON.stringify(row.data), row.createdAt, row.expiresAt, row.absoluteExpiresAt],
      );
    }
    await old.migrate();
    for (const row of rows) expect(await old.get(row.id)).toEqual(row);
    const updated = await old.update(rows[0]!.id, { lastSeenAt: T0 + 1, ip: '198.51.100.4', activeChannelId: 'eu', updatedAt: T0 + 1 });
    expect(updated).toMatchObject({ lastSeenAt: T0 + 1, ip: '198.51.100.4', activeChannelId: 'eu', data: { n: 0 } });
    expect((await old.listByActiveChannelId!('eu')).map((r) => r.id)).toEqual([rows[0]!.id]);
    const { rows: comment } = await sharedPool().query(`SELECT obj_description('"${table}"'::regclass) AS c`);
    expect(comment[0].c).toBe('sojourn sessions, schema 2');
    expect((await sharedPool().query(`SELECT count(*)::int AS n FROM "${table}"`)).rows[0].n).toBe(50);
  });

  it('migrates twice, and from 5 pools at once', async () => {
    const table = uniqueTable();
    const first = postgresStore({ pool: sharedPool(), table });
    await first.migrate();
    await first.migrate();
    const schema = uniqueTable('schema');
    const pools = Array.from({ length: 5 }, () => newPool({ max: 2 }));
    await Promise.all(pools.map((pool) => postgresStore({ pool, table, schema }).migrate()));
    await Promise.all(pools.map((pool) => postgresStore({ pool, table }).migrate()));
    const record = makeRecord();
    await postgresStore({ pool: pools[0]!, table, schema }).create(record);
    expect(await postgresStore({ pool: pools[4]!, table, schema }).get(record.id)).toEqual(record);
  });

  it('ships the same DDL as SQL that runs (twice) on its own', async () => {
    const table = uniqueTable();
    const schema = uniqueTable('own');
    const sql = schemaSql({ table, schema });
    expect(sql).toContain(`CREATE TABLE IF NOT EXISTS "${schema}"."${table}"`);
    await sharedPool().query(sql);
    await sharedPool().query(sql);
    const store = postgresStore({ pool: sharedPool(), table, schema });
    const record = makeRecord({ userId: 1 });
    await store.create(record);
    expect(await store.listByUser(1)).toEqual([record]);
  });

  it('creates the table on first use with createTable: true', async () => {
    const store = postgresStore({ pool: sharedPool(), table: uniqueTable(), createTable: true });
    const record = makeRecord();
    await store.create(record);
    expect(await store.get(record.id)).toEqual(record);
  });

  it('validates identifiers and options before any SQL sees them', () => {
    const pool = sharedPool();
    expect(() => postgresStore({ pool, table: 'x"; DROP TABLE y; --' })).toThrow(/option `table`/);
    expect(() => postgresStore({ pool, schema: 'a.b' })).toThrow(/option `schema`/);
    expect(() => postgresStore({ pool, table: 'a'.repeat(49) })).toThrow(/at most 48/);
    expect(() => postgresStore({ pool: {} as never })).toThrow(/postgresStore\.pool/);
  });

  it('serves the lookups from its indexes', async () => {
    const table = uniqueTable();
    await postgresStore({ pool: sharedPool(), table }).migrate();
    const client = await sharedPool().connect();
    try {
      await client.query('SET enable_seqscan = off');
      const plan = async (where: string) =>
        (await client.query(`EXPLAIN SELECT id FROM "${table}" WHERE ${where}`, ['7'])).rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(await plan(`(user_id #>> '{}') = $1`)).toContain(`${table}_user_idx`);
      expect(await plan(`(active_order_id #>> '{}') = $1`)).toContain(`${table}_order_idx`);
      expect(await plan(`expires_at <= to_timestamp($1::float8 / 1000)`)).toContain(`${table}_expires_idx`);
    } finally {
      client.release();
    }
  });
});

describe('postgresStore: security', () => {
  it('keeps only the hash of the token secret at rest', async () => {
    const table = uniqueTable();
    const store = postgresStore({ pool: sharedPool(), table });
    await store.migrate();
    const manager = createSessionManager({ secret: TEST_SECRET, store, cache: false, cleanupInterval: false });
    const { token, session } = await manager.createNewAuthenticatedSession({ id: 1 }, 'native');
    const secret = token.split('.')[1]!;
    const { rows } = await sharedPool().query(`SELECT * FROM "${table}"`);
    const dump = JSON.stringify(rows);
    expect(rows).toHaveLength(1);
    expect(dump).toContain(session.secretHash);
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(token);
    expect(await manager.getSessionFromToken(token)).toMatchObject({ id: session.id, userId: 1 });
    await manager.close();
  });
});

describe('postgresStore: concurrency', () => {
  it('keeps all of 50 parallel field writes to one session from two pools', async () => {
    const table = uniqueTable();
    const [a, b] = [newPool({ max: 10 }), newPool({ max: 10 })].map((pool) => postgresStore({ pool, table }));
    await a!.migrate();
    const record = makeRecord({ data: { base: 0 } });
    await a!.create(record);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? a! : b!).update(record.id, { set: { [`k${i}`]: i }, updatedAt: T0 + i })),
    );
    const final = await b!.get(record.id);
    expect(final?.version).toBe(51);
    expect(final?.data).toEqual({ base: 0, ...Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])) });
  });

  it('never resurrects a session an update races with its deletion', async () => {
    const table = uniqueTable();
    const store = postgresStore({ pool: newPool(), table });
    const other = postgresStore({ pool: newPool(), table });
    await store.migrate();
    for (let round = 0; round < 20; round++) {
      const record = makeRecord();
      await store.create(record);
      const [updated, deleted] = await Promise.all([
        store.update(record.id, { set: { x: round }, expiresAt: T0 + 2 * DAY, updatedAt: T0 }),
        other.delete(record.id),
      ]);
      expect(deleted).toBe(true);
      expect(updated === undefined || updated.data.x === round).toBe(true);
      expect(await store.get(record.id)).toBeUndefined();
      expect(await store.update(record.id, { set: { y: 1 }, updatedAt: T0 })).toBeUndefined();
      expect(await store.get(record.id)).toBeUndefined();
    }
  });
});
