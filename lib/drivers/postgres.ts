import type { Pool, PoolClient } from 'pg';

/** One key for every sojourn migration in the database: two instances never run DDL side by side. */
const MIGRATION_LOCK = 'sojourn:migrate';

/**
 * Runs a table's DDL (`schema`: quoted, or undefined) in one transaction under a transaction-level advisory lock: when
 * several instances start at once, one runs the DDL and the others wait, then find it done
 * (every statement is `IF NOT EXISTS`). The schema is created only when missing, so a role
 * without CREATE on the database can still migrate into an existing schema.
 */
export async function runMigration(pool: Pool, schema: string | undefined, statements: readonly string[]): Promise<void> {
  const client = await pool.connect();
  let failure: unknown;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [MIGRATION_LOCK]);
    if (schema) {
      const { rowCount } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema.slice(1, -1)]);
      if (rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    }
    for (const statement of statements) await client.query(statement);
    await client.query('COMMIT');
  } catch (error) {
    failure = error;
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release(failure instanceof Error ? failure : undefined);
  }
}

/**
 * A session-level advisory lock (`pg_try_advisory_lock`) on a connection taken from the pool and
 * pinned until release: the lock belongs to that connection, so nobody else may use it meanwhile,
 * and if this process dies the server drops the connection and the lock with it. Resolves to the
 * release function, or `undefined` when another connection holds the lock. Needs a pool of at
 * least 2 connections, since the holder keeps one while its work uses another.
 */
export async function advisoryLock(pool: Pool, key: string): Promise<(() => Promise<void>) | undefined> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A checked-out client has no pool listener: without ours a dropped connection would crash the process.
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  let locked = false;
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [key]);
    locked = rows[0]?.locked === true;
  } catch (error) {
    giveBack(client, onError, error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
  if (!locked) {
    giveBack(client, onError, undefined);
    return undefined;
  }
  return async () => {
    try {
      if (!broken) await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
    }
    // A connection we could not unlock is destroyed: closing it releases the lock for sure.
    giveBack(client, onError, broken);
  };
}

// ---------------------------------------------------------------------------------------

function giveBack(client: PoolClient, onError: (error: Error) => void, error: Error | undefined): void {
  client.removeListener('error', onError);
  client.release(error);
}
