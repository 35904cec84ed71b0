import type { Pool } from 'pg';
import { toMs, type Duration } from '../duration.js';
import { runMigration } from '../drivers/postgres.js';
import { SessionConfigError } from '../errors.js';
import { qualifiedName } from '../stores/postgres-schema.js';
import { errorFields, serializable } from './sinks.js';
import type { LogSink, SessionLog } from './types.js';

export interface PostgresLogSinkOptions {
  /** Table name: letters, digits and `_`. @default 'sojourn_session_logs' */
  table?: string;
  /** Schema of the table. @default undefined (the connection's `search_path`) */
  schema?: string;
  /** How long rows are kept; older ones go with the expired-session cleanup. @default '30d' */
  retention?: Duration;
  /** Runs `migrate()` before the first insert. @default false */
  createTable?: boolean;
}

export interface PostgresLogSink extends LogSink {
  /** Creates (or upgrades) the table and its indexes; idempotent. */
  migrate(): Promise<void>;
  /** Deletes rows older than `retention` in batches; returns how many. The cleanup job calls it. */
  prune(now: number): Promise<number>;
}

const BATCH = 5_000;

/**
 * Session logs kept in PostgreSQL (Serverpod keeps them in its database): one row per closed
 * session (and per entry of a long-lived one), with its kind, route, user id, duration, outcome and
 * entries — never a token.
 */
export function postgresLogSink(pool: Pool, options: PostgresLogSinkOptions = {}): PostgresLogSink {
  if (typeof pool !== 'object' || pool === null || typeof pool.query !== 'function') throw new SessionConfigError('postgresLogSink.pool', 'must be a pg Pool');
  const names = qualifiedName('postgresLogSink', options.table ?? 'sojourn_session_logs', options.schema);
  const retention = toMs(options.retention ?? '30d');
  if (retention === undefined || retention < 1) throw new SessionConfigError('postgresLogSink.retention', "must be a duration like '30d'");
  const t = names.table;
  const bare = options.table ?? 'sojourn_session_logs';
  let migrated: Promise<void> | undefined;
  const migrate = () =>
    (migrated ??= runMigration(pool, names.schema, statements(t, bare)).catch((error: unknown) => {
      migrated = undefined;
      throw error;
    }));

  const sink = async (log: SessionLog) => {
    if (options.createTable) await migrate();
    await pool.query({
      name: `sojourn:logs:${names.label}:insert`,
      text: `INSERT INTO ${t} (logged_at, started_at, session_id, kind, route, user_id, duration_ms, outcome, error, open, entries)
             VALUES (to_timestamp($1::float8 / 1000), to_timestamp($2::float8 / 1000), $3, $4, $5, $6::jsonb, $7, $8, $9::jsonb, $10, $11::jsonb)`,
      values: [
        log.startedAt + log.duration, log.startedAt, log.sessionId ?? null, log.kind, log.route ?? null,
        log.userId === undefined ? null : JSON.stringify(log.userId), log.duration, outcome(log),
        log.error === undefined ? null : JSON.stringify(errorFields(log.error)), log.open, JSON.stringify(log.entries.map(entryJson)),
      ],
    });
  };
  return Object.assign(sink, {
    migrate,
    async prune(now: number) {
      let removed = 0;
      for (;;) {
        const { rowCount } = await pool.query(
          `DELETE FROM ${t} WHERE id = ANY (ARRAY (SELECT id FROM ${t} WHERE logged_at < to_timestamp($1::float8 / 1000) LIMIT ${BATCH}))`,
          [now - retention],
        );
        removed += rowCount ?? 0;
        if ((rowCount ?? 0) < BATCH) return removed;
      }
    },
  });
}

// ---------------------------------------------------------------------------------------

function statements(t: string, bare: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${t} (
  id          bigserial   PRIMARY KEY,
  logged_at   timestamptz NOT NULL,            -- when the session closed (or the entry came, while open)
  started_at  timestamptz NOT NULL,
  session_id  uuid,                            -- the record's public id; never a token
  kind        text        NOT NULL,            -- request, stream, websocket, task, internal
  route       text,                            -- 'POST /checkout'
  user_id     jsonb,
  duration_ms double precision NOT NULL,
  outcome     text        NOT NULL,            -- ok, slow, failed, open
  error       jsonb,
  open        boolean     NOT NULL,
  entries     jsonb       NOT NULL
)`,
    `CREATE INDEX IF NOT EXISTS "${bare}_logged_idx" ON ${t} (logged_at)`,
    `CREATE INDEX IF NOT EXISTS "${bare}_session_idx" ON ${t} (session_id)`,
    `COMMENT ON TABLE ${t} IS 'sojourn session logs, schema 1'`,
  ];
}

function outcome(log: SessionLog): string {
  return log.open ? 'open' : log.error !== undefined ? 'failed' : log.slow ? 'slow' : 'ok';
}

function entryJson(entry: SessionLog['entries'][number]): Record<string, unknown> {
  return {
    time: entry.time,
    level: entry.level,
    message: entry.message,
    ...(entry.error === undefined ? {} : { error: errorFields(entry.error) }),
    ...(entry.meta === undefined ? {} : { meta: serializable(entry.meta) ? entry.meta : '[unserializable]' }),
  };
}
