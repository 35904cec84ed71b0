import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { postgresStore, type PostgresStore, type PostgresStoreOptions } from '../../lib/postgres.js';

/**
 * The throwaway server of test/setup/services.ts. Every pool made here is ended after the file's
 * tests; every store gets its own table, so each `freshStore()` starts empty.
 */
const pools: pg.Pool[] = [];
afterAll(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.end()));
});

export function postgresUrl(): string {
  return inject('postgresUrl');
}

export function newPool(options: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: postgresUrl(), max: 10, ...options });
  pool.on('error', () => {}); // an idle client dropped by the server: the pool replaces it
  pools.push(pool);
  return pool;
}

let shared: pg.Pool | undefined;
/** One pool per test file for the common case. */
export function sharedPool(): pg.Pool {
  shared ??= newPool();
  return shared;
}

export function uniqueTable(prefix = 'sessions'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** A migrated store over its own new table. */
export async function freshStore(options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
  const store = postgresStore({ pool: sharedPool(), table: uniqueTable(), ...options });
  await store.migrate();
  return store;
}
