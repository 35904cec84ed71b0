/**
 * The part of pg-boss's API the adapter uses, typed structurally (pg-boss is an optional peer
 * whose declarations change shape between majors), and the few reads pg-boss 10 has no API for:
 * jobs by singleton key, failed jobs, the size of a family of queues. Reads only: every write
 * goes through pg-boss's own API.
 */

export interface PgBossJob {
  readonly id: string;
  readonly name: string;
  readonly data: JobData;
  readonly retryCount?: number;
  readonly retryLimit?: number;
}

/** What a future call's job carries (`every`: an interval series' period in ms). */
export interface JobData {
  readonly name: string;
  readonly payload: unknown;
  readonly sessionId?: string;
  readonly identifier?: string;
  readonly every?: number;
}

export interface PgBossLike {
  createQueue(name: string, options?: object): Promise<unknown>;
  send(name: string, data: object, options?: object): Promise<string | null>;
  work(name: string, options: object, handler: (jobs: PgBossJob[]) => Promise<unknown>): Promise<string>;
  offWork(name: string): Promise<unknown>;
  notifyWorker(workerId: string): void;
  fetch(name: string, options?: object): Promise<PgBossJob[] | PgBossJob | null>;
  complete(name: string, id: string | string[], data?: object): Promise<unknown>;
  fail(name: string, id: string | string[], data?: object): Promise<unknown>;
  cancel(name: string, id: string | string[]): Promise<unknown>;
  schedule(name: string, cron: string, data?: object, options?: object): Promise<unknown>;
  unschedule(name: string): Promise<unknown>;
  getDb(): { executeSql(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> };
}

export interface FailedRow {
  id: string;
  data: JobData;
  retry_count: number;
  output: { message?: string; value?: { message?: string } } | null;
  completed_on: Date | null;
}

/** Statements over pg-boss's tables in `schema`; `$1` is the family's main queue, `$1.<identifier>` its series queues. */
export function pgBossReads(schema: string) {
  const family = `(name = $1 OR starts_with(name, $1 || '.'))`;
  const columns = 'id, data, retry_count, output, completed_on';
  return {
    pending: `SELECT id FROM ${schema}.job WHERE name = $1 AND singleton_key = $2 AND state IN ('created', 'retry')`,
    size: `SELECT count(*)::int AS n FROM ${schema}.job WHERE ${family} AND state < 'completed'`,
    failed: `SELECT * FROM (
        SELECT ${columns} FROM ${schema}.job WHERE ${family} AND state = 'failed'
        UNION ALL SELECT ${columns} FROM ${schema}.archive WHERE ${family} AND state = 'failed'
      ) f ORDER BY completed_on DESC NULLS LAST LIMIT $2`,
    schedules: `SELECT name FROM ${schema}.schedule WHERE name = $1`,
    seriesQueues: `SELECT name FROM ${schema}.queue WHERE starts_with(name, $1 || '.')`,
  };
}

/** A schema name pg-boss accepts, so it can be spliced into the statements. */
export function isSchemaName(value: unknown): value is string {
  return typeof value === 'string' && /^[a-z_][a-z0-9_]{0,49}$/i.test(value);
}
