import { randomUUID } from 'node:crypto';
import type { ClaimedCall, FutureCallQueue, QueuedCall } from './types.js';
import { redisDriver, type RedisClient, type Script } from '../drivers/redis.js';
import { CANCEL, CLAIM, EXTEND, FINISH, SCHEDULE } from './redis-scripts.js';

export interface RedisQueueOptions {
  /** A connected node-redis v5/v6 client; never closed by sojourn. */
  client: RedisClient;
  /** Prefix of every key (calls live under `<prefix>fc:`). On a Redis Cluster use a hash tag: `'{sojourn}:'`. @default 'sojourn:' */
  prefix?: string;
}

/**
 * Future calls in Redis: a sorted set of pending calls by due time, a sorted set of running
 * calls by lease expiry, one hash per call. Claims are Lua scripts, so each due call is leased
 * to one instance; a call whose instance died is due again once its lease expires. Durable as
 * far as your Redis persistence is (AOF or RDB); with none, a Redis restart loses the calls.
 */
export function redisQueue(options: RedisQueueOptions): FutureCallQueue {
  const { driver, prefix } = redisDriver('redisQueue', options, { prefix: 'sojourn:' });
  const run = <T>(script: Script, args: (string | number)[]) => driver.run<T>(script, [], [prefix, ...args]);

  return {
    name: 'redis',
    async schedule(call) {
      return (await run<number>(SCHEDULE, [call.id, call.dueAt, ...toFields(call)])) === 1;
    },
    async claim(now, limit, leaseMs, names) {
      if (limit < 1 || names.length === 0) return [];
      const claim = randomUUID();
      const rows = await run<string[][]>(CLAIM, [now, limit, now + leaseMs, claim, ...names]);
      return rows.map(toCall);
    },
    async extend(call, now, leaseMs) {
      return (await run<number>(EXTEND, [call.id, call.claim, now + leaseMs])) === 1;
    },
    async finish(call, next) {
      return (await run<number>(FINISH, [call.id, call.claim, next?.dueAt ?? '', next?.attempt ?? ''])) === 1;
    },
    async cancel(identifier, now) {
      return run<number>(CANCEL, [identifier, now]);
    },
    async size() {
      const [due, leased] = await Promise.all([driver.send<number>(['ZCARD', `${prefix}fc:due`]), driver.send<number>(['ZCARD', `${prefix}fc:leased`])]);
      return Number(due) + Number(leased);
    },
  };
}

// ---------------------------------------------------------------------------------------

function toFields(call: QueuedCall): string[] {
  const fields = ['id', call.id, 'name', call.name, 'payload', call.payload, 'dueAt', String(call.dueAt), 'attempt', String(call.attempt)];
  if (call.identifier !== undefined) fields.push('identifier', call.identifier);
  if (call.sessionId !== undefined) fields.push('sessionId', call.sessionId);
  if (call.every !== undefined) fields.push('every', String(call.every));
  return fields;
}

function toCall(flat: string[]): ClaimedCall {
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) fields.set(String(flat[i]), String(flat[i + 1]));
  const optional = (name: string) => fields.get(name);
  const every = optional('every');
  return {
    id: fields.get('id')!,
    name: fields.get('name')!,
    payload: fields.get('payload')!,
    dueAt: Number(fields.get('dueAt')),
    attempt: Number(fields.get('attempt')),
    claim: fields.get('claim')!,
    ...(optional('identifier') === undefined ? {} : { identifier: optional('identifier')! }),
    ...(optional('sessionId') === undefined ? {} : { sessionId: optional('sessionId')! }),
    ...(every === undefined ? {} : { every: Number(every) }),
  };
}
