import { randomUUID } from 'node:crypto';
import { changeFeed, changeMessage } from '../redis/changes.js';
import { assertReady, resolveRedisOptions, Script, takeLock, type RedisClient } from '../redis/client.js';
import type { CachedSession } from '../types.js';
import { deepFreeze } from '../values.js';
import type { CacheLookup, SessionCache } from './types.js';

export interface RedisCacheOptions {
  /**
   * A connected node-redis v5/v6 client; never closed by sojourn. While it is disconnected every
   * call fails at once (a miss: the next layer or the store answers), nothing queues.
   */
  client: RedisClient;
  /** Prefix of every key. @default 'sojourn:cache:' */
  prefix?: string;
  /**
   * Pub/sub channel of the change feed: every instance hears the others' writes and revokes and
   * evicts them from its in-process layers. `false` turns it off. @default `${prefix}changes`
   */
  channel?: string | false;
}

/**
 * Entries are `<version>|<JSON>` so a Lua script can compare versions without decoding JSON;
 * a remembered "no such session" (a tombstone) is `-`.
 */
const TOMBSTONE = '-';

const FEED = `
local function announce(gone)
  if ARGV[1] ~= '' then
    redis.call('PUBLISH', ARGV[1], cjson.encode({ from = ARGV[2], ids = { ARGV[3] }, gone = gone }))
  end
end
`;

/** ARGV: channel, sender, id, version, entry, ttl. Never replaces a tombstone or a newer version. */
const SET = new Script(`${FEED}
local held = redis.call('GET', KEYS[1])
local version = tonumber(ARGV[4])
local heldVersion
if held then
  if held == '${TOMBSTONE}' then return 0 end
  heldVersion = tonumber(string.match(held, '^(%d+)|'))
  if heldVersion and heldVersion > version then return 0 end
end
redis.call('SET', KEYS[1], ARGV[5], 'PX', ARGV[6])
if heldVersion ~= version then announce(false) end
return 1`);

/**
 * ARGV: channel, sender, id, ttl. Announced only when it replaced an entry: an id Redis did not
 * hold is in no instance's LRU either (their entries never outlive the shared one), and a flood
 * of unknown tokens must not fill every instance's LRU with tombstones.
 */
const SET_MISSING = new Script(`${FEED}
local held = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], '${TOMBSTONE}', 'PX', ARGV[4])
if held and held ~= '${TOMBSTONE}' then announce(true) end
return 1`);

/** ARGV: channel, sender, id. */
const DELETE = new Script(`${FEED}
redis.call('DEL', KEYS[1])
announce(false)
return 1`);

const NAME = 'redis';

/**
 * A SessionCache on Redis, shared by every instance: alone, or behind the in-process LRU
 * (`cache: [lruCache(), redisCache({ client })]`). Versioned writes and tombstones are checked
 * in one Lua script, and every change is published so other instances' LRUs drop it at once.
 */
export function redisCache(options: RedisCacheOptions): SessionCache {
  const { client, prefix, channel } = resolveRedisOptions('redisCache', options, {
    prefix: 'sojourn:cache:',
    channel: `${options?.prefix ?? 'sojourn:cache:'}changes`,
  });
  const from = randomUUID();
  const feed = [channel || '', from];
  // `c:` keeps entries apart from a store's keys even when both were given one prefix.
  const entries = `${prefix}c:`;
  const key = (id: string) => entries + id;

  function run(script: Script, id: string, args: (string | number)[]): Promise<unknown> {
    assertReady(client, 'redis cache');
    return script.run(client, [key(id)], [...feed, id, ...args]);
  }

  const cache: SessionCache = {
    name: NAME,
    async get(id): Promise<CacheLookup> {
      assertReady(client, 'redis cache');
      const held = await client.sendCommand<string | null>(['GET', key(id)]);
      if (held === null || held === undefined) return undefined;
      if (held === TOMBSTONE) return null;
      return deepFreeze(JSON.parse(String(held).slice(String(held).indexOf('|') + 1)) as CachedSession);
    },
    async set(entry, ttlMs) {
      await run(SET, entry.id, [entry.version, `${entry.version}|${JSON.stringify(entry)}`, ttl(ttlMs)]);
    },
    async setMissing(id, ttlMs) {
      await run(SET_MISSING, id, [ttl(ttlMs)]);
    },
    async delete(id) {
      await run(DELETE, id, []);
    },
    async clear() {
      assertReady(client, 'redis cache');
      await unlinkMatching(client, `${globEscape(entries)}*`);
      if (channel) await client.sendCommand(['PUBLISH', channel, changeMessage(from, 'all')]);
    },
    lock: (name, ttlMs) => takeLock(client, 'redis cache', `${prefix}lock:${name}`, ttlMs),
  };
  if (channel) cache.subscribe = changeFeed(client, channel, from, 'redis cache');
  return cache;
}

// ---------------------------------------------------------------------------------------

function ttl(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}

/** SCAN + UNLINK: `clear()` is rare (roles changed everywhere), so a keyspace walk is fine here. */
async function unlinkMatching(client: RedisClient, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.sendCommand<[string, string[]]>(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000']);
    if (keys.length > 0) await client.sendCommand(['UNLINK', ...keys]);
    cursor = String(next);
  } while (cursor !== '0');
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
