import { qualifiedName, type QualifiedName } from '../stores/postgres-schema.js';

/** Where the future calls live. */
export interface PostgresQueueTableOptions {
  /** Table name: letters, digits and `_`, at most 48 characters. @default 'sojourn_future_calls' */
  table?: string;
  /** Schema of the table; left out, the connection's `search_path` decides. @default undefined */
  schema?: string;
}

export const QUEUE_SCHEMA_VERSION = 1;
export const DEFAULT_QUEUE_TABLE = 'sojourn_future_calls';

export interface QueueNames extends QualifiedName {
  /** The table name alone, for index names. */
  readonly bare: string;
}

export function queueNames({ table = DEFAULT_QUEUE_TABLE, schema }: PostgresQueueTableOptions = {}): QueueNames {
  return { ...qualifiedName('postgresQueue', table, schema), bare: table };
}

/** The DDL of the queue table, idempotent, for users who run their own migrations. */
export function queueSchemaSql(options: PostgresQueueTableOptions = {}): string {
  const names = queueNames(options);
  const schema = names.schema ? `CREATE SCHEMA IF NOT EXISTS ${names.schema};\n\n` : '';
  return `${schema}${queueStatements(names).join(';\n\n')};\n`;
}

export function queueStatements(names: QueueNames): string[] {
  const t = names.table;
  const index = (suffix: string) => `"${names.bare}_${suffix}"`;
  return [
    `CREATE TABLE IF NOT EXISTS ${t} (
  id          text        PRIMARY KEY,                -- a UUID, or 'every:<identifier>' for a recurring series
  name        text        NOT NULL,                   -- the registered handler
  payload     text        NOT NULL,                   -- JSON text, as scheduled
  due_at      timestamptz NOT NULL,
  attempt     integer     NOT NULL DEFAULT 0,         -- 0, then 1, 2… for retries
  identifier  text,                                   -- cancel(identifier)
  session_id  text,                                   -- the session record the task is bound to (never a token)
  every_ms    bigint      CHECK (every_ms > 0),       -- recurring calls
  claim       uuid,                                   -- the lease token while running
  lease_until timestamptz,                            -- running until then; NULL when pending
  cancelled   boolean     NOT NULL DEFAULT false,     -- cancelled while running: not rescheduled
  created_at  timestamptz NOT NULL DEFAULT now()
)`,
    `CREATE INDEX IF NOT EXISTS ${index('due_idx')} ON ${t} (due_at)`,
    `CREATE INDEX IF NOT EXISTS ${index('lease_idx')} ON ${t} (lease_until) WHERE lease_until IS NOT NULL`,
    `CREATE INDEX IF NOT EXISTS ${index('identifier_idx')} ON ${t} (identifier) WHERE identifier IS NOT NULL`,
    `COMMENT ON TABLE ${t} IS 'sojourn future calls, schema ${QUEUE_SCHEMA_VERSION}'`,
  ];
}
