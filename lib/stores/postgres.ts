import type { Pool, QueryConfig, QueryResultRow } from 'pg';
import { SessionConfigError } from '../errors.js';
import { runMigration } from '../drivers/postgres.js';
import { tableNames, tableStatements, type PostgresTableOptions } from './postgres-schema.js';
import type { Id, SessionRecord, SessionUser } from '../types.js';
import type { SessionPatch, SessionStore } from './types.js';

export interface PostgresStoreOptions extends PostgresTableOptions {
  /** Your `pg` Pool (or anything with its `query` and `connect`). Never ended by the store. */
  pool: Pool;
  /**
   * Runs `migrate()` before the first query of this store (once per store object). Off by default: in
   * production run `migrate()` at deploy time, or ship `schemaSql()` with your own migrations.
   * @default false
   */
  createTable?: boolean;
}

export interface PostgresStore extends SessionStore {
  readonly name: 'postgres';
  /**
   * Creates the schema (when missing), the table and its indexes, or upgrades them; idempotent,
   * and safe when several instances start at once (the DDL runs under an advisory lock).
   */
  migrate(): Promise<void>;
}

/**
 * Sessions in PostgreSQL, over your own `pg` Pool. Every method is one statement: field-level
 * updates patch the jsonb bag per key (`data || $set - $unset`), so concurrent writers of
 * different keys all survive, and an update of a deleted row changes nothing. The cleanup deletes
 * in batches with `FOR UPDATE SKIP LOCKED`.
 */
export function postgresStore(options: PostgresStoreOptions): PostgresStore {
  const { pool, createTable = false } = options ?? ({} as PostgresStoreOptions);
  if (typeof pool !== 'object' || pool === null || typeof pool.query !== 'function' || typeof pool.connect !== 'function') {
    throw new SessionConfigError('postgresStore.pool', 'must be a pg Pool (with `query` and `connect`)');
  }
  if (typeof createTable !== 'boolean') throw new SessionConfigError('postgresStore.createTable', 'must be a boolean');
  const names = tableNames(options);
  const sql = statements(names.table, names.label);
  let migrated: Promise<void> | undefined;

  function migrate(): Promise<void> {
    migrated ??= runMigration(pool, names.schema, tableStatements(names)).catch((error: unknown) => {
      migrated = undefined; // a later call may succeed (the database came back)
      throw error;
    });
    return migrated;
  }

  async function query<R extends QueryResultRow>(config: QueryConfig): Promise<R[]> {
    if (createTable) await migrate();
    return (await pool.query<R>(config)).rows;
  }

  const ids = async (config: QueryConfig) => (await query<{ id: string }>(config)).map((row) => row.id);

  return {
    name: 'postgres',
    shared: true,
    migrate,
    async get(id) {
      if (!isUuid(id)) return undefined;
      const [row] = await query<Row>({ ...sql.get, values: [id] });
      return row && toRecord(row);
    },
    async create(record) {
      await query({ ...sql.insert, values: insertValues(record) });
    },
    async update(id, patch) {
      if (!isUuid(id)) return undefined;
      const [row] = await query<Row>(updateQuery(names.table, id, patch));
      return row && toRecord(row);
    },
    async delete(id) {
      return isUuid(id) && (await ids({ ...sql.delete, values: [id] })).length > 0;
    },
    deleteByUser: (userId) => ids({ ...sql.deleteByUser, values: [String(userId)] }),
    deleteByActiveOrderId: (orderId) => ids({ ...sql.deleteByOrder, values: [String(orderId)] }),
    async listByUser(userId) {
      return (await query<Row>({ ...sql.listByUser, values: [String(userId)] })).map(toRecord);
    },
    async listByActiveChannelId(channelId) {
      return (await query<Row>({ ...sql.listByChannel, values: [String(channelId)] })).map(toRecord);
    },
    deleteExpired: (now, limit) => ids({ ...sql.deleteExpired, values: [now, limit] }),
  };
}

// ---------------------------------------------------------------------------------------

/** A row as selected by COLUMNS: times as float8 epoch milliseconds, ids as parsed jsonb scalars. */
interface Row {
  id: string;
  secret_hash: string;
  version: number;
  user_id: Id | null;
  user_snapshot: SessionUser | null;
  authentication_strategy: string | null;
  active_order_id: Id | null;
  active_channel_id: Id | null;
  data: Record<string, unknown>;
  created_at: number;
  updated_at: number;
  expires_at: number;
  absolute_expires_at: number;
  remember_me: boolean | null;
  last_seen_at: number | null;
  user_agent: string | null;
  ip: string | null;
  superseded_until: number | null;
}

const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8 AS ${column}`;
const COLUMNS = [
  'id', 'secret_hash', 'version', 'user_id', 'user_snapshot', 'authentication_strategy', 'active_order_id',
  'active_channel_id', 'data', ms('created_at'), ms('updated_at'), ms('expires_at'), ms('absolute_expires_at'),
  'remember_me', ms('last_seen_at'), 'user_agent', 'ip', ms('superseded_until'),
].join(', ');

/** Epoch milliseconds (a query parameter) to timestamptz; exact to the millisecond. */
const time = (param: string) => `to_timestamp(${param}::float8 / 1000)`;

/** The fixed statements, named so each connection prepares them once. */
function statements(table: string, label: string) {
  const named = (key: string, text: string) => ({ name: `sojourn:${label}:${key}`, text });
  const byUser = `(user_id #>> '{}') = $1`;
  return {
    get: named('get', `SELECT ${COLUMNS} FROM ${table} WHERE id = $1`),
    insert: named(
      'insert',
      `INSERT INTO ${table} (id, secret_hash, version, user_id, user_snapshot, authentication_strategy, active_order_id,
        active_channel_id, data, created_at, updated_at, expires_at, absolute_expires_at,
        remember_me, last_seen_at, user_agent, ip, superseded_until)
       VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7::jsonb, $8::jsonb, $9::jsonb,
        ${time('$10')}, ${time('$11')}, ${time('$12')}, ${time('$13')}, $14, ${time('$15')}, $16, $17, ${time('$18')})`,
    ),
    delete: named('delete', `DELETE FROM ${table} WHERE id = $1 RETURNING id`),
    deleteByUser: named('deleteByUser', `DELETE FROM ${table} WHERE ${byUser} RETURNING id`),
    deleteByOrder: named('deleteByOrder', `DELETE FROM ${table} WHERE (active_order_id #>> '{}') = $1 RETURNING id`),
    listByUser: named('listByUser', `SELECT ${COLUMNS} FROM ${table} WHERE ${byUser}`),
    listByChannel: named('listByChannel', `SELECT ${COLUMNS} FROM ${table} WHERE (active_channel_id #>> '{}') = $1`),
    // SKIP LOCKED: rows a request is updating, or another cleaner took, are left for later, so
    // cleaners never wait on requests or on each other. `= ANY (ARRAY (…))` runs the batch query
    // once and deletes by primary key; `IN (…)` lets the planner hash-join a scan of the whole table.
    deleteExpired: named(
      'deleteExpired',
      `DELETE FROM ${table} WHERE id = ANY (ARRAY (
         SELECT id FROM ${table} WHERE expires_at <= ${time('$1')}
         ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED))
       RETURNING id`,
    ),
  };
}

/** One UPDATE … RETURNING touching only the patched columns; the data bag is patched per key. */
function updateQuery(table: string, id: string, patch: SessionPatch): QueryConfig {
  const values: unknown[] = [id, patch.updatedAt];
  const param = (value: unknown) => `$${values.push(value)}`;
  const sets = ['version = version + 1', `updated_at = ${time('$2')}`];
  if (patch.activeOrderId !== undefined) sets.push(`active_order_id = ${param(jsonId(patch.activeOrderId))}::jsonb`);
  if (patch.activeChannelId !== undefined) sets.push(`active_channel_id = ${param(jsonId(patch.activeChannelId))}::jsonb`);
  if (patch.expiresAt !== undefined) sets.push(`expires_at = ${time(param(patch.expiresAt))}`);
  if (patch.user !== undefined) sets.push(`user_snapshot = ${param(JSON.stringify(patch.user))}::jsonb`);
  if (patch.lastSeenAt !== undefined) sets.push(`last_seen_at = ${time(param(patch.lastSeenAt))}`);
  if (patch.userAgent !== undefined) sets.push(`user_agent = ${param(patch.userAgent)}`);
  if (patch.ip !== undefined) sets.push(`ip = ${param(patch.ip)}`);
  if (patch.supersededUntil !== undefined) sets.push(`superseded_until = ${time(param(patch.supersededUntil))}`);
  if (patch.set || patch.unset) {
    const set = param(JSON.stringify(patch.set ?? {}));
    sets.push(`data = (data || ${set}::jsonb) - ${param(patch.unset ?? [])}::text[]`);
  }
  return { text: `UPDATE ${table} SET ${sets.join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`, values };
}

function insertValues(r: SessionRecord): unknown[] {
  return [
    r.id, r.secretHash, r.version, jsonId(r.userId), r.user === undefined ? null : JSON.stringify(r.user),
    r.authenticationStrategy ?? null, jsonId(r.activeOrderId), jsonId(r.activeChannelId), JSON.stringify(r.data ?? {}),
    r.createdAt, r.updatedAt, r.expiresAt, r.absoluteExpiresAt,
    r.rememberMe ?? null, r.lastSeenAt ?? null, r.userAgent ?? null, r.ip ?? null, r.supersededUntil ?? null,
  ];
}

/** An id as a jsonb scalar (its JS type survives); null clears the column. */
function jsonId(id: Id | null | undefined): string | null {
  return id === undefined || id === null ? null : JSON.stringify(id);
}

function toRecord(row: Row): SessionRecord {
  const record: { -readonly [K in keyof SessionRecord]: SessionRecord[K] } = {
    id: row.id,
    secretHash: row.secret_hash,
    version: row.version,
    data: row.data,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
    absoluteExpiresAt: row.absolute_expires_at,
  };
  if (row.user_id !== null) record.userId = row.user_id;
  if (row.user_snapshot !== null) record.user = row.user_snapshot;
  if (row.authentication_strategy !== null) record.authenticationStrategy = row.authentication_strategy;
  if (row.active_order_id !== null) record.activeOrderId = row.active_order_id;
  if (row.active_channel_id !== null) record.activeChannelId = row.active_channel_id;
  if (row.remember_me !== null) record.rememberMe = row.remember_me;
  if (row.last_seen_at !== null) record.lastSeenAt = row.last_seen_at;
  if (row.user_agent !== null) record.userAgent = row.user_agent;
  if (row.ip !== null) record.ip = row.ip;
  if (row.superseded_until !== null) record.supersededUntil = row.superseded_until;
  return record;
}

/** Ids that are not UUIDs cannot be in the table: answer without a round trip (and without a cast error). */
function isUuid(id: string): boolean {
  return typeof id === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}
