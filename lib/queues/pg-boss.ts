import { randomUUID } from 'node:crypto';
import { SessionConfigError } from '../errors.js';
import { hasSeconds, nextOccurrence } from './recurrence.js';
import { isSchemaName, pgBossReads, type FailedRow, type JobData, type PgBossJob, type PgBossLike } from './pg-boss-sql.js';
import type { FailedCall, FutureCallQueue, QueueHost, QueuedCall, RecurringCall, RunningCall } from './types.js';

export type { PgBossLike };

export interface PgBossQueueOptions {
  /** The pg-boss queue one-off calls go to; cron series get `<queueName>.<identifier>`. @default 'sojourn-future-calls' */
  queueName?: string;
  /** The schema your PgBoss was created with (`new PgBoss({ schema })`), for reading its tables. @default 'pgboss' */
  schema?: string;
}

/**
 * Future calls on pg-boss (10 and later), over your started `PgBoss`: a job per call (`data.name`
 * names the handler) in one queue with the `short` policy, so an identifier's singleton key
 * allows one pending call. pg-boss does the rest: `startAfter`, `SKIP LOCKED` fetches, `retryLimit`
 * with `retryBackoff`, `expireInSeconds` (a run's time limit: pg-boss 10 has no heartbeat), the
 * failed state, and `schedule()` for cron (minute resolution, one job per minute fleet-wide).
 * Interval series chain: each occurrence queues the next under the same singleton key.
 */
export function pgBossQueue(boss: PgBossLike, options: PgBossQueueOptions = {}): FutureCallQueue {
  const { queueName, schema } = checkOptions(boss, options);
  const sql = pgBossReads(schema);
  const read = async (text: string, values: unknown[]) => (await boss.getDb().executeSql(text, values)).rows;
  let ready: Promise<unknown> | undefined;
  const prepared = () => (ready ??= createQueue(boss, queueName, { policy: 'short' }).catch((error: unknown) => { ready = undefined; throw error; }));
  const working = new Map<string, QueueHost>(); // queue → host while started
  const inFlight = new Set<Promise<void>>(); // offWork() does not wait for a running handler: close() does
  let started: QueueHost | undefined;

  /** Cancels the waiting jobs of a singleton key (a running one finishes); how many. */
  async function release(key: string): Promise<number> {
    const ids = (await read(sql.pending, [queueName, key])).map((row) => String(row.id));
    if (ids.length > 0) await boss.cancel(queueName, ids);
    return ids.length;
  }

  async function send(data: JobData, key: string, startAfter: number, retry: QueuedCall['retry'], lease: number) {
    const retryOptions = retry.limit > 0 ? { retryDelay: Math.max(1, Math.ceil(retry.delay / 1_000)), retryBackoff: true } : {};
    return boss.send(queueName, data, {
      singletonKey: key,
      startAfter: new Date(startAfter),
      retryLimit: retry.limit,
      ...retryOptions,
      expireInSeconds: Math.max(1, Math.ceil(lease / 1_000)),
    });
  }

  /** One attempt, finished by hand so a batch's jobs succeed or fail one by one. */
  async function attempt(queue: string, job: PgBossJob, runner: QueueHost): Promise<void> {
    const { every } = job.data;
    // An interval occurrence first queues the next one: the singleton key keeps it unique.
    if (every !== undefined) await send(job.data, `every:${job.data.identifier}`, nextOccurrence({ every }, Date.now()), { limit: 0, delay: 0 }, runner.lease);
    try {
      await runner.run(toRunning(job));
      await boss.complete(queue, job.id);
    } catch (error) {
      await boss.fail(queue, job.id, { message: error instanceof Error ? error.message : String(error) });
    }
  }

  async function work(queue: string, runner: QueueHost): Promise<void> {
    if (working.has(queue)) return;
    working.set(queue, runner);
    const batchSize = runner.concurrency;
    let id = '';
    id = await boss.work(queue, { batchSize, includeMetadata: true, pollingIntervalSeconds: Math.max(0.5, runner.pollInterval / 1_000) }, async (jobs) => {
      const batch = Promise.all(jobs.map((job) => attempt(queue, job, runner))).then(() => {});
      inFlight.add(batch);
      await batch.finally(() => inFlight.delete(batch));
      if (jobs.length === batchSize) boss.notifyWorker(id); // a full batch: more may be waiting, fetch again now
    });
  }

  async function seriesQueues(): Promise<string[]> {
    return (await read(sql.seriesQueues, [queueName])).map((row) => String(row.name));
  }

  return {
    name: 'pg-boss',
    durable: true,
    async schedule(call: QueuedCall) {
      await prepared();
      const key = call.identifier ?? `call:${randomUUID()}`;
      if (call.identifier !== undefined) await release(key);
      const id = await send(toData(call), key, call.dueAt, call.retry, call.lease);
      // null: a concurrent schedule of the same identifier won; the pending call is that one.
      return id ?? String((await read(sql.pending, [queueName, key]))[0]?.id ?? '');
    },
    async repeat(call: RecurringCall) {
      await prepared();
      const { recurrence, identifier } = call;
      if ('every' in recurrence) {
        await release(`every:${identifier}`);
        await send({ ...toData(call), every: recurrence.every }, `every:${identifier}`, Date.now(), { limit: 0, delay: 0 }, call.lease); // pg-boss keeps real time
        return `every:${identifier}`;
      }
      if (hasSeconds(recurrence.cron)) throw new TypeError(`sojourn: pgBossQueue schedules cron by the minute: '${recurrence.cron}' has a seconds field`);
      const series = `${queueName}.${identifier}`;
      await createQueue(boss, series, {});
      await boss.schedule(series, recurrence.cron, toData(call), { tz: recurrence.timezone ?? 'UTC', retryLimit: 0, expireInSeconds: Math.max(1, Math.ceil(call.lease / 1_000)) });
      if (started) await work(series, started);
      return series;
    },
    async cancel(identifier) {
      await prepared();
      const series = `${queueName}.${identifier}`;
      const scheduled = (await read(sql.schedules, [series])).length;
      if (scheduled > 0) await boss.unschedule(series);
      return (await release(identifier)) + (await release(`every:${identifier}`)) + scheduled;
    },
    async start(given) {
      if (given.concurrency === 0) return;
      await prepared();
      started = given;
      for (const queue of [queueName, ...(await seriesQueues())]) await work(queue, given);
    },
    async runDue(given) {
      if (given.concurrency === 0) return 0;
      await prepared();
      let ran = 0;
      for (const queue of [queueName, ...(await seriesQueues())]) {
        for (;;) {
          const jobs = [(await boss.fetch(queue, { batchSize: given.concurrency, includeMetadata: true })) ?? []].flat();
          if (jobs.length === 0) break;
          await Promise.all(jobs.map((job) => attempt(queue, job, given)));
          ran += jobs.length;
        }
      }
      return ran;
    },
    async failed(limit = 100) {
      return ((await read(sql.failed, [queueName, limit])) as unknown as FailedRow[]).map(toFailed);
    },
    async size() {
      return Number((await read(sql.size, [queueName]))[0]?.n ?? 0);
    },
    async close() {
      started = undefined;
      const queues = [...working.keys()];
      working.clear();
      await Promise.all(queues.map((queue) => boss.offWork(queue)));
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

// ---------------------------------------------------------------------------------------

function checkOptions(boss: PgBossLike, options: PgBossQueueOptions) {
  const methods = ['send', 'work', 'offWork', 'fetch', 'complete', 'fail', 'cancel', 'schedule', 'unschedule', 'createQueue', 'getDb'] as const;
  if (typeof boss !== 'object' || boss === null || !methods.every((m) => typeof boss[m] === 'function')) {
    throw new SessionConfigError('pgBossQueue.boss', 'must be a started PgBoss (pg-boss 10 or later)');
  }
  const { queueName = 'sojourn-future-calls', schema = 'pgboss' } = options ?? {};
  if (typeof queueName !== 'string' || !/^[\w-]+$/.test(queueName)) {
    throw new SessionConfigError('pgBossQueue.queueName', `must be letters, digits, '_' and '-', got ${JSON.stringify(queueName)}`);
  }
  if (!isSchemaName(schema)) throw new SessionConfigError('pgBossQueue.schema', `must be a PostgreSQL identifier, got ${JSON.stringify(schema)}`);
  return { queueName, schema };
}

/** pg-boss 10 creates a queue's partition table: instances booting at once can deadlock on it, so try again. */
async function createQueue(boss: PgBossLike, name: string, options: object): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await boss.createQueue(name, options);
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= 5 || (code !== '40P01' && code !== '23505')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

function toData(call: QueuedCall | RecurringCall): JobData {
  return {
    name: call.name,
    payload: JSON.parse(call.payload) as unknown,
    ...(call.sessionId === undefined ? {} : { sessionId: call.sessionId }),
    ...(call.identifier === undefined ? {} : { identifier: call.identifier }),
  };
}

function toRunning(job: PgBossJob): RunningCall {
  const { name, payload, sessionId, identifier } = job.data;
  const attempt = job.retryCount ?? 0;
  return {
    id: job.id,
    name,
    payload: JSON.stringify(payload ?? null),
    ...(identifier === undefined ? {} : { identifier }),
    ...(sessionId === undefined ? {} : { sessionId }),
    attempt,
    final: attempt >= (job.retryLimit ?? 0),
  };
}

function toFailed(row: FailedRow): FailedCall {
  const { id, attempt: _attempt, final: _final, ...call } = toRunning({ id: row.id, name: '', data: row.data });
  const error = row.output?.message ?? row.output?.value?.message ?? '';
  return { id, ...call, attempts: row.retry_count + 1, error, ...(row.completed_on ? { failedAt: new Date(row.completed_on).getTime() } : {}) };
}
