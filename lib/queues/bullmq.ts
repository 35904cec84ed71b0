import { randomUUID } from 'node:crypto';
import { reason, warn } from '../environment.js';
import { SessionConfigError } from '../errors.js';
import type { BullJob, BullModule, BullQueue, BullWorker, CallData } from './bullmq-types.js';
import type { FailedCall, FutureCallQueue, QueueHost, QueuedCall, RecurringCall, RunningCall } from './types.js';

export interface BullmqQueueOptions {
  /**
   * BullMQ's `connection`, handed to it as is: an ioredis client or Cluster (with
   * `maxRetriesPerRequest: null`), or connection options. Typed loosely so that sojourn's
   * declarations never depend on which BullMQ is installed.
   */
  connection: object;
  /** The BullMQ queue every future call goes to. On a Redis Cluster give it a hash tag: `'{sojourn-future-calls}'`. @default 'sojourn-future-calls' */
  queueName?: string;
  /** BullMQ's key prefix. @default 'bull' */
  prefix?: string;
  /** How many failed calls BullMQ keeps for `failed()` and the dashboard. @default 1000 */
  keepFailed?: number;
  /** The `bullmq` module to use (5.x or 6.x). @default await import('bullmq') */
  bullmq?: BullModule;
}

/**
 * Future calls on BullMQ (5 and 6): one BullMQ queue, a job per call named after its handler.
 * BullMQ does the rest: delayed jobs, locks renewed while a call runs (a dead worker's job is
 * "stalled" and runs again), `attempts` with exponential backoff, the failed set, deduplication
 * (one pending job per identifier) and job schedulers (intervals and cron, one job per tick).
 * bullmq is an optional peer, loaded on first use: loading sojourn never loads it.
 */
export function bullmqQueue(options: BullmqQueueOptions): FutureCallQueue {
  const { connection, queueName = 'sojourn-future-calls', prefix = 'bull', keepFailed = 1_000 } = checkOptions(options);
  let module: Promise<BullModule> | undefined;
  let queue: Promise<BullQueue> | undefined;
  const workers = new Set<BullWorker>();
  const load = () => (module ??= options.bullmq ? Promise.resolve(options.bullmq) : (import('bullmq') as Promise<unknown> as Promise<BullModule>));
  const open = () => (queue ??= load().then(({ Queue }) => new Queue(queueName, { connection, prefix })));
  const jobOptions = (attempts: number) => ({ attempts, removeOnComplete: true, removeOnFail: { count: keepFailed } });

  /** Removes the waiting or delayed job of an identifier (a running one finishes) and frees the key. */
  async function release(bull: BullQueue, identifier: string): Promise<number> {
    const id = await bull.getDeduplicationJobId(identifier);
    if (!id) return 0;
    const job = await bull.getJob(id);
    const state = job ? await job.getState() : 'unknown';
    const removed = job && ['waiting', 'wait', 'delayed', 'prioritized', 'paused'].includes(state) ? await job.remove().then(() => 1, () => 0) : 0;
    await bull.removeDeduplicationKey(identifier);
    return removed;
  }

  function workerOptions(host: QueueHost) {
    // The lock is the lease: renewed every lease/2 while a call runs; checked for stalls as often.
    return { connection, prefix, concurrency: Math.max(1, host.concurrency), lockDuration: host.lease, stalledInterval: host.lease };
  }

  return {
    name: 'bullmq',
    durable: true,
    async schedule(call: QueuedCall) {
      const bull = await open();
      if (call.identifier !== undefined) await release(bull, call.identifier);
      const job = await bull.add(call.name, toData(call), {
        ...jobOptions(call.retry.limit + 1),
        delay: Math.max(0, call.dueAt - Date.now()),
        backoff: { type: 'exponential', delay: call.retry.delay },
        ...(call.identifier === undefined ? {} : { deduplication: { id: call.identifier } }),
      });
      return String(job.id);
    },
    async repeat(call: RecurringCall) {
      const bull = await open();
      const { recurrence } = call;
      const when = 'every' in recurrence ? { every: recurrence.every } : { pattern: recurrence.cron, tz: recurrence.timezone ?? 'UTC' };
      await bull.upsertJobScheduler(call.identifier, when, { name: call.name, data: toData(call), opts: jobOptions(1) });
      return `every:${call.identifier}`;
    },
    async cancel(identifier) {
      const bull = await open();
      const [released, scheduler] = await Promise.all([release(bull, identifier), bull.removeJobScheduler(identifier)]);
      return released + (scheduler ? 1 : 0);
    },
    async start(host) {
      if (host.concurrency === 0) return;
      const { Worker } = await load();
      const worker = new Worker(queueName, (job) => host.run(toRunning(job)), workerOptions(host));
      worker.on('error', warnOutage(queueName));
      workers.add(worker);
      await worker.waitUntilReady();
    },
    async runDue(host) {
      if (host.concurrency === 0) return 0;
      const { Worker } = await load();
      // BullMQ's manual processing: take jobs one by one under a token, finish each by hand.
      const worker = new Worker(queueName, null, { ...workerOptions(host), autorun: false });
      worker.on('error', warnOutage(queueName));
      const token = randomUUID();
      let ran = 0;
      try {
        for (let job = await worker.getNextJob(token, { block: false }); job; job = await worker.getNextJob(token, { block: false })) {
          ran++;
          await host.run(toRunning(job)).then(
            () => job!.moveToCompleted(null, token, false),
            (error: unknown) => job!.moveToFailed(error instanceof Error ? error : new Error(String(error)), token, false),
          );
        }
      } finally {
        await worker.close();
      }
      return ran;
    },
    async failed(limit = 100) {
      const jobs = await (await open()).getFailed(0, limit - 1);
      return jobs.filter((job): job is BullJob => Boolean(job)).map(toFailed);
    },
    async size() {
      const counts = await (await open()).getJobCounts('wait', 'delayed', 'active', 'prioritized', 'paused');
      return Object.values(counts).reduce((sum, n) => sum + n, 0);
    },
    async close() {
      await Promise.all([...workers].map((worker) => worker.close()));
      workers.clear();
      const opened = queue;
      queue = undefined;
      await (await opened)?.close();
    },
  };
}

// ---------------------------------------------------------------------------------------

function checkOptions(options: BullmqQueueOptions): BullmqQueueOptions {
  if (typeof options !== 'object' || options === null) throw new SessionConfigError('bullmqQueue', 'needs an options object: bullmqQueue({ connection })');
  if (typeof options.connection !== 'object' || options.connection === null) {
    throw new SessionConfigError('bullmqQueue.connection', 'must be an ioredis client or Cluster, a node-redis client, or connection options');
  }
  if (options.queueName !== undefined && (typeof options.queueName !== 'string' || !/^[^:]+$/.test(options.queueName))) {
    throw new SessionConfigError('bullmqQueue.queueName', `must be a non-empty string without ':', got ${JSON.stringify(options.queueName)}`);
  }
  if (options.keepFailed !== undefined && !(Number.isInteger(options.keepFailed) && options.keepFailed >= 0)) {
    throw new SessionConfigError('bullmqQueue.keepFailed', 'must be an integer of at least 0');
  }
  return options;
}

/** The job's data: the payload as JSON (so the dashboard shows it), the bound record's id, the identifier. */
function toData(call: QueuedCall | RecurringCall): CallData {
  return { payload: JSON.parse(call.payload) as unknown, sessionId: call.sessionId, identifier: call.identifier };
}

function toRunning(job: BullJob): RunningCall {
  const { payload, sessionId, identifier } = job.data;
  return {
    id: String(job.id),
    name: job.name,
    payload: JSON.stringify(payload ?? null),
    ...(identifier == null ? {} : { identifier }),
    ...(sessionId == null ? {} : { sessionId }),
    attempt: job.attemptsMade,
    final: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
  };
}

function toFailed(job: BullJob): FailedCall {
  const { id, attempt: _attempt, final: _final, ...call } = toRunning(job);
  return { id, ...call, attempts: job.attemptsMade, error: job.failedReason ?? '', ...(job.finishedOn ? { failedAt: job.finishedOn } : {}) };
}

/** A worker's connection errors, once per outage (BullMQ reconnects by itself). */
function warnOutage(queueName: string) {
  let last = 0;
  return (error: unknown) => {
    if (Date.now() - last < 60_000) return;
    last = Date.now();
    warn('SOJOURN_FUTURE_CALLS_QUEUE_ERROR', `future calls: BullMQ queue '${queueName}' reported an error (${reason(error)})`);
  };
}
