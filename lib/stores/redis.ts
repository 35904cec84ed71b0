import { SessionConfigError } from '../errors.js';
import { redisDriver, type RedisClient, type Script } from '../drivers/redis.js';
import { CREATE, DELETE, DELETE_EXPIRED, DELETE_INDEXED, LIST_INDEXED, UPDATE } from './redis-scripts.js';
import type { Id, SessionRecord } from '../types.js';
import type { SessionPatch, SessionStore } from './types.js';

export interface RedisStoreOptions {
  /** A connected node-redis v5/v6 client (`await createClient({ url }).connect()`); never closed by sojourn. */
  client: RedisClient;
  /** Prefix of every key. @default 'sojourn:' */
  prefix?: string;
  /**
   * Let Redis expire each record at its `expiresAt` (PEXPIREAT). Turn it off only when the
   * manager's `clock` is not the wall clock (tests with an injected clock): records then stay
   * until the cleanup job deletes them. @default true
   */
  nativeExpiry?: boolean;
}

const NAME = 'redis';

/**
 * The SessionStore on Redis: one hash per session that Redis expires at its `expiresAt`, index
 * sets by user and by active order kept in step by Lua scripts (revokes and listings never
 * SCAN), and an expiry sorted set for the cleanup job.
 */
export function redisStore(options: RedisStoreOptions): SessionStore {
  const { driver, prefix } = redisDriver('redisStore', options, { prefix: 'sojourn:' });
  const nativeExpiry = options.nativeExpiry ?? true;
  if (typeof nativeExpiry !== 'boolean') throw new SessionConfigError('redisStore.nativeExpiry', 'must be a boolean');
  const expire = nativeExpiry ? '1' : '0';
  const key = (id: string) => `${prefix}s:${id}`;
  const run = <T>(script: Script, keys: string[], args: (string | number)[]) => driver.run<T>(script, keys, [prefix, ...args]);

  return {
    name: NAME,
    shared: true,
    async get(id) {
      return toRecord(await driver.send<string[] | Record<string, string>>(['HGETALL', key(id)]));
    },
    async create(record) {
      const refs = [ref(record.userId), ref(record.activeOrderId), ref(record.activeChannelId)];
      await run(CREATE, [key(record.id)], [record.id, record.expiresAt, expire, ...refs, ...toFields(record)]);
    },
    async update(id, patch) {
      const fields = await run<string[] | null>(UPDATE, [key(id)], [id, ...patchArgs(patch, expire)]);
      return toRecord(fields);
    },
    async delete(id) {
      return (await run<number>(DELETE, [key(id)], [id])) === 1;
    },
    async deleteByUser(userId) {
      return run<string[]>(DELETE_INDEXED, [], ['u', String(userId)]);
    },
    async deleteByActiveOrderId(orderId) {
      return run<string[]>(DELETE_INDEXED, [], ['o', String(orderId)]);
    },
    async listByUser(userId) {
      return (await run<string[][]>(LIST_INDEXED, [], ['u', String(userId)])).map((fields) => toRecord(fields)!);
    },
    async listByActiveChannelId(channelId) {
      return (await run<string[][]>(LIST_INDEXED, [], ['c', String(channelId)])).map((fields) => toRecord(fields)!);
    },
    async deleteExpired(now, limit) {
      return run<string[]>(DELETE_EXPIRED, [], [now, limit]);
    },
  };
}

// ---------------------------------------------------------------------------------------

const NUMBERS = new Set(['version', 'createdAt', 'updatedAt', 'expiresAt', 'absoluteExpiresAt', 'lastSeenAt', 'supersededUntil']);
const STRINGS = new Set(['authenticationStrategy', 'userAgent', 'ip']);
const JSONS = new Set(['userId', 'user', 'activeOrderId', 'activeChannelId', 'rememberMe']);

/** '=' + the index key of an id (7 and '7' share one), or '' for none. */
function ref(id: Id | undefined): string {
  return id === undefined ? '' : `=${String(id)}`;
}

function toFields(record: SessionRecord): string[] {
  const fields: string[] = ['id', record.id, 'secretHash', record.secretHash];
  for (const [name, value] of Object.entries(record)) {
    if (value === undefined) continue;
    if (NUMBERS.has(name) || STRINGS.has(name)) fields.push(name, String(value));
    else if (JSONS.has(name)) fields.push(name, JSON.stringify(value));
  }
  for (const [name, value] of Object.entries(record.data)) {
    if (value !== undefined) fields.push(`d:${name}`, JSON.stringify(value));
  }
  return fields;
}

function patchArgs(patch: SessionPatch, expire: string): (string | number)[] {
  const set = Object.entries(patch.set ?? {}).filter(([, value]) => value !== undefined);
  // A key set to undefined is gone, as JSON would have it.
  const unset = [...(patch.unset ?? []), ...Object.entries(patch.set ?? {}).filter(([, v]) => v === undefined).map(([k]) => k)];
  const fields: [string, string][] = [];
  const cleared: string[] = [];
  for (const name of ['user', 'lastSeenAt', 'userAgent', 'ip', 'supersededUntil'] as const) {
    const value = patch[name];
    if (value === null) cleared.push(name);
    else if (value !== undefined) fields.push([name, JSONS.has(name) ? JSON.stringify(value) : String(value)]);
  }
  return [
    patch.updatedAt,
    patch.expiresAt ?? '',
    expire,
    ...fieldOp(patch.activeOrderId),
    ...fieldOp(patch.activeChannelId),
    fields.length,
    ...fields.flat(),
    cleared.length,
    ...cleared,
    set.length,
    ...set.flatMap(([name, value]) => [name, JSON.stringify(value)]),
    ...unset,
  ];
}

/** [op, JSON]: keep (''), clear ('-') or set ('=' + index key). */
function fieldOp(value: Id | null | undefined): [string, string] {
  if (value === undefined) return ['', ''];
  if (value === null) return ['-', ''];
  return [ref(value), JSON.stringify(value)];
}

/** HGETALL's answer (a flat RESP2 array, or a RESP3 map) as a record, `undefined` when empty. */
function toRecord(reply: string[] | Record<string, string> | null): SessionRecord | undefined {
  if (!reply) return undefined;
  const entries = Array.isArray(reply) ? pairs(reply) : Object.entries(reply);
  if (entries.length === 0) return undefined;
  const record: Record<string, unknown> = {};
  // Data keys come from the application: no key (`__proto__`) may reach a prototype.
  const data: Record<string, unknown> = Object.create(null);
  for (const [name, value] of entries) {
    if (name.startsWith('d:')) data[name.slice(2)] = JSON.parse(value);
    else if (NUMBERS.has(name)) record[name] = Number(value);
    else if (JSONS.has(name)) record[name] = JSON.parse(value);
    else record[name] = value;
  }
  record.data = data;
  return record as unknown as SessionRecord;
}

function pairs(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([String(flat[i]), String(flat[i + 1])]);
  return out;
}
