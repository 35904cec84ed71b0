import { redisDriver, Script, type RedisClient } from '../drivers/redis.js';
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
}

/**
 * Entries are `<version>|<JSON>` so a Lua script can compare versions without decoding JSON; a
 * remembered "no such session" is `-`, in the entry's own key: it takes no more room than the
 * entry it replaced, and only ids of real tokens (their tag verified) ever get one.
 */
const TOMBSTONE = '-';

/** ARGV: version, entry, ttl. Never replaces a tombstone or a newer version. */
const SET = new Script(`
local held = redis.call('GET', KEYS[1])
if held then
  if held == '${TOMBSTONE}' then return 0 end
  local version = tonumber(string.match(held, '^(%d+)|'))
  if version and version > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`);

/**
 * A SessionCache on Redis, shared by every instance: alone, or behind the in-process LRU
 * (`cache: [lruCache(), redisCache({ client })]`, with a fleet). Versioned writes and tombstones
 * are checked in one Lua script.
 */
export function redisCache(options: RedisCacheOptions): SessionCache {
  const { driver, prefix } = redisDriver('redisCache', options, { prefix: 'sojourn:cache:' });
  // `c:` keeps entries apart from a store's keys even when both were given one prefix.
  const entries = `${prefix}c:`;
  const key = (id: string) => entries + id;

  return {
    name: 'redis',
    shared: true,
    async get(id): Promise<CacheLookup> {
      const held = await driver.send<string | null>(['GET', key(id)]);
      if (held === null || held === undefined) return undefined;
      if (held === TOMBSTONE) return null;
      const text = String(held);
      return deepFreeze(JSON.parse(text.slice(text.indexOf('|') + 1)) as CachedSession);
    },
    async set(entry, now) {
      await driver.run(SET, [key(entry.id)], [entry.version, `${entry.version}|${JSON.stringify(entry)}`, ttl(entry.cacheExpiry - now)]);
    },
    async setMissing(id, until, now) {
      await driver.send(['SET', key(id), TOMBSTONE, 'PX', ttl(until - now)]);
    },
    async delete(id) {
      await driver.send(['DEL', key(id)]);
    },
    async clear() {
      // SCAN + UNLINK: `clear()` is rare (roles changed everywhere), so a keyspace walk is fine here.
      let cursor = '0';
      do {
        const [next, keys] = await driver.send<[string, string[]]>(['SCAN', cursor, 'MATCH', `${globEscape(entries)}*`, 'COUNT', 1000]);
        if (keys.length > 0) await driver.send(['UNLINK', ...keys]);
        cursor = String(next);
      } while (cursor !== '0');
    },
  };
}

// ---------------------------------------------------------------------------------------

function ttl(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
