/**
 * The table behind `postgresStore`, as SQL. One source of truth: `migrate()` runs it, `schemaSql()`
 * hands it to users who run their own migrations, and the README shows its output.
 */

/** Where the sessions live. */
export interface PostgresTableOptions {
  /** Table name: letters, digits and `_`, at most 48 characters, used as written (quoted). @default 'sojourn_sessions' */
  table?: string;
  /** Schema of the table; left out, the connection's `search_path` decides (usually `public`). @default undefined */
  schema?: string;
}

/** Bumped with every change to the DDL below; written into the table's comment. */
export const SCHEMA_VERSION = 2;

export const DEFAULT_TABLE = 'sojourn_sessions';

/** Validated, quoted names of the table and everything named after it. */
export interface TableNames extends QualifiedName {
  /** Quoted index names (an index lives in its table's schema, so these are never qualified). */
  readonly userIndex: string;
  readonly orderIndex: string;
  readonly channelIndex: string;
  readonly expiresIndex: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A table's validated, quoted names: `"schema"."table"` (or `"table"`), the schema, and a plain label. */
export interface QualifiedName {
  readonly table: string;
  readonly schema: string | undefined;
  readonly label: string;
}

/**
 * Validates a table and schema name once (they are spliced into SQL, so nothing else gets
 * through) and quotes them; `factory` names the caller in errors (`postgresStore`, `postgresLogSink`).
 */
export function qualifiedName(factory: string, table: string, schema: string | undefined): QualifiedName {
  checkIdentifier(factory, 'table', table, 48);
  if (schema !== undefined) checkIdentifier(factory, 'schema', schema, 63);
  return {
    table: schema === undefined ? `"${table}"` : `"${schema}"."${table}"`,
    schema: schema === undefined ? undefined : `"${schema}"`,
    label: schema === undefined ? table : `${schema}.${table}`,
  };
}

/** The sessions table's names and everything named after it. */
export function tableNames({ table = DEFAULT_TABLE, schema }: PostgresTableOptions = {}): TableNames {
  const quote = (name: string) => `"${name}"`;
  return {
    ...qualifiedName('postgresStore', table, schema),
    userIndex: quote(`${table}_user_idx`),
    orderIndex: quote(`${table}_order_idx`),
    channelIndex: quote(`${table}_channel_idx`),
    expiresIndex: quote(`${table}_expires_idx`),
  };
}

/**
 * The DDL for the sessions table and its indexes, idempotent (`IF NOT EXISTS` throughout), for
 * users who run their own migrations. `migrate()` runs the same statements under an advisory lock.
 *
 * ```ts
 * import { schemaSql } from 'sojourn/postgres';
 * fs.writeFileSync('migrations/001_sessions.sql', schemaSql({ schema: 'auth' }));
 * ```
 */
export function schemaSql(options: PostgresTableOptions = {}): string {
  const names = tableNames(options);
  const schema = names.schema ? `CREATE SCHEMA IF NOT EXISTS ${names.schema};\n\n` : '';
  return `${schema}${tableStatements(names).join(';\n\n')};\n`;
}

/** The statements `schemaSql` joins, without `CREATE SCHEMA` (migrate() creates it only when missing). */
export function tableStatements(names: TableNames): string[] {
  const t = names.table;
  // Ids keep their JS type as jsonb scalars (7 and '7' round-trip as written); lookups compare
  // their text form (#>> '{}'), as the memory store does, through expression indexes.
  return [
    `CREATE TABLE IF NOT EXISTS ${t} (
  id                      uuid        PRIMARY KEY,  -- UUID v7: time-ordered, the public half of the token
  secret_hash             text        NOT NULL,     -- base64url sha256 of the token secret (never the secret)
  version                 integer     NOT NULL,     -- bumped by every update
  user_id                 jsonb       CHECK (jsonb_typeof(user_id) IN ('string', 'number')),
  user_snapshot           jsonb,
  authentication_strategy text,
  active_order_id         jsonb       CHECK (jsonb_typeof(active_order_id) IN ('string', 'number')),
  active_channel_id       jsonb       CHECK (jsonb_typeof(active_channel_id) IN ('string', 'number')),
  data                    jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
  created_at              timestamptz NOT NULL,
  updated_at              timestamptz NOT NULL,
  expires_at              timestamptz NOT NULL,     -- idle expiry, slides forward
  absolute_expires_at     timestamptz NOT NULL      -- no renewal goes past this
)`,
    // Schema 2: each column added on its own, so a table of schema 1 is upgraded in place.
    `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS remember_me boolean`,
    `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS last_seen_at timestamptz`,
    `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS user_agent text`,
    `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS ip text`,
    `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS superseded_until timestamptz`,
    `CREATE INDEX IF NOT EXISTS ${names.userIndex} ON ${t} ((user_id #>> '{}')) WHERE (user_id #>> '{}') IS NOT NULL`,
    `CREATE INDEX IF NOT EXISTS ${names.orderIndex} ON ${t} ((active_order_id #>> '{}')) WHERE (active_order_id #>> '{}') IS NOT NULL`,
    `CREATE INDEX IF NOT EXISTS ${names.channelIndex} ON ${t} ((active_channel_id #>> '{}')) WHERE (active_channel_id #>> '{}') IS NOT NULL`,
    `CREATE INDEX IF NOT EXISTS ${names.expiresIndex} ON ${t} (expires_at)`,
    `COMMENT ON TABLE ${t} IS 'sojourn sessions, schema ${SCHEMA_VERSION}'`,
  ];
}

// ---------------------------------------------------------------------------------------

function checkIdentifier(factory: string, option: string, value: unknown, max: number): void {
  if (typeof value !== 'string' || !IDENTIFIER.test(value) || value.length > max) {
    throw new TypeError(
      `sojourn: ${factory} option \`${option}\` must be letters, digits and _ (not starting with a digit), ` +
        `at most ${max} characters; got ${JSON.stringify(value)}`,
    );
  }
}
