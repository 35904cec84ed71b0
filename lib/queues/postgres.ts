import { randomUUID } from 'node:crypto';
import type { Pool, QueryConfig, QueryResultRow } from 'pg';
import type { ClaimedCall, FutureCallQueue } from './types.js';
import { runMigration } from '../drivers/postgres.js';
import { queueNames, queueStatements, type PostgresQueueTableOptions } from './postgres-schema.js';

export interface PostgresQueueOptions extends PostgresQueueTableOptions {
  /** Your `pg` Pool. Never ended by the queue. */
  pool: Pool;
  /** Runs `migrate()` before the first query (once per queue object). @default false */
  createTable?: boolean;
}

export interface PostgresQueue extends FutureCallQueue {
  readonly name: 'postgres';
  /** Creates (or upgrades) the table and its indexes; idempotent, safe when instances start at once. */
  migrate(): Promise<void>;
}

/**
 * Future calls in PostgreSQL, over your own `pg` Pool: one row per call. A claim is one
 * statement that picks due rows `FOR UPDATE SKIP LOCKED` and leases them (`claim`,
 * `lease_until`), so instances never wait on each other nor lease the same call; a row whose
 * lease ran out (its instance died) is picked again. Heartbeats move `lease_until` forward.
 */
export function postgresQueue(options: PostgresQueueOptions): PostgresQueue {
  const { pool, createTable = false } = options ?? ({} as PostgresQueueOptions);
  if (typeof pool !== 'object' || pool === null || typeof pool.query !== 'function' || typeof pool.connect !== 'function') {
    throw new TypeError('sojourn: postgresQueue option `pool` must be a pg Pool (with `query` and `connect`)');
  }
  if (typeof createTable !== 'boolean') throw new TypeError('sojourn: postgresQueue option `createTable` must be a boolean');
  const names = queueNames(options);
  const sql = statements(names.table, names.label);
  let migrated: Promise<void> | undefined;

  function migrate(): Promise<void> {
    migrated ??= runMigration(pool, names.schema, queueStatements(names)).catch((error: unknown) => {
      migrated = undefined;
      throw error;
    });
    return migrated;
  }

  async function query<R extends QueryResultRow>(config: QueryConfig): Promise<R[]> {
    if (createTable) await migrate();
    return (await pool.query<R>(config)).rows;
  }
  const changed = async (config: QueryConfig) => ((await query<{ n: number }>(config))[0]?.n ?? 0) > 0;

  return {
    name: 'postgres',
    migrate,
    async schedule(call) {
      const values = [call.id, call.name, call.payload, call.dueAt, call.attempt, call.identifier ?? null, call.sessionId ?? null, call.every ?? null];
      return (await query({ ...sql.insert, values })).length > 0;
    },
    async claim(now, limit, leaseMs, callNames) {
      if (limit < 1 || callNames.length === 0) return [];
      const rows = await query<Row>({ ...sql.claim, values: [now, limit, [...callNames], randomUUID(), now + leaseMs] });
      return rows.map(toCall).sort((a, b) => a.dueAt - b.dueAt);
    },
    extend: (call, now, leaseMs) => changed({ ...sql.extend, values: [call.id, call.claim, now + leaseMs] }),
    finish: (call, next) => changed({ ...sql.finish, values: [call.id, call.claim, next?.dueAt ?? null, next?.attempt ?? 0] }),
    async cancel(identifier, now) {
      return (await query<{ n: number }>({ ...sql.cancel, values: [identifier, now] }))[0]?.n ?? 0;
    },
    async size() {
      return (await query<{ n: number }>(sql.size))[0]?.n ?? 0;
    },
  };
}

// ---------------------------------------------------------------------------------------

interface Row {
  id: string;
  name: string;
  payload: string;
  due_at: number;
  attempt: number;
  identifier: string | null;
  session_id: string | null;
  every_ms: string | null;
  claim: string;
}

const time = (param: string) => `to_timestamp(${param}::float8 / 1000)`;
const COLUMNS = 'id, name, payload, (extract(epoch FROM due_at) * 1000)::float8 AS due_at, attempt, identifier, session_id, every_ms, claim';

function statements(t: string, label: string) {
  const named = (key: string, text: string) => ({ name: `sojourn:queue:${label}:${key}`, text });
  const count = (...ctes: string[]) => ctes.map((cte) => `(SELECT count(*) FROM ${cte})`).join(' + ');
  return {
    insert: named('insert', `INSERT INTO ${t} (id, name, payload, due_at, attempt, identifier, session_id, every_ms)
       VALUES ($1, $2, $3, ${time('$4')}, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING RETURNING id`),
    // Cancelled calls whose holder died are dropped; then the earliest due, unleased (or
    // expired) rows are locked, skipping rows another claimer holds, and leased.
    claim: named('claim', `WITH dead AS (
         DELETE FROM ${t} WHERE cancelled AND lease_until <= ${time('$1')}),
       picked AS (
         SELECT id AS pick FROM ${t}
         WHERE due_at <= ${time('$1')} AND (lease_until IS NULL OR lease_until <= ${time('$1')})
           AND NOT cancelled AND name = ANY ($3::text[])
         ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE ${t} SET claim = $4, lease_until = ${time('$5')} FROM picked WHERE id = picked.pick
       RETURNING ${COLUMNS}`),
    extend: named('extend', `WITH moved AS (UPDATE ${t} SET lease_until = ${time('$3')}
       WHERE id = $1 AND claim = $2 AND lease_until IS NOT NULL RETURNING 1) SELECT ${count('moved')}::int AS n`),
    finish: named('finish', `WITH gone AS (
         DELETE FROM ${t} WHERE id = $1 AND claim = $2 AND (cancelled OR $3::float8 IS NULL) RETURNING 1),
       moved AS (
         UPDATE ${t} SET due_at = ${time('$3')}, attempt = $4, claim = NULL, lease_until = NULL
         WHERE id = $1 AND claim = $2 AND NOT cancelled AND $3::float8 IS NOT NULL RETURNING 1)
       SELECT (${count('gone', 'moved')})::int AS n`),
    cancel: named('cancel', `WITH gone AS (
         DELETE FROM ${t} WHERE identifier = $1 AND (lease_until IS NULL OR lease_until <= ${time('$2')}) RETURNING 1),
       marked AS (
         UPDATE ${t} SET cancelled = true WHERE identifier = $1 AND lease_until > ${time('$2')} AND NOT cancelled RETURNING 1)
       SELECT (${count('gone', 'marked')})::int AS n`),
    size: named('size', `SELECT count(*)::int AS n FROM ${t}`),
  };
}

function toCall(row: Row): ClaimedCall {
  return {
    id: row.id,
    name: row.name,
    payload: row.payload,
    dueAt: Math.round(row.due_at),
    attempt: row.attempt,
    claim: row.claim,
    ...(row.identifier === null ? {} : { identifier: row.identifier }),
    ...(row.session_id === null ? {} : { sessionId: row.session_id }),
    ...(row.every_ms === null ? {} : { every: Number(row.every_ms) }),
  };
}
