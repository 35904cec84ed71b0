import { Script } from './client.js';

/**
 * The Redis store's Lua. Keys under the prefix `p`:
 *   p s:<id>          hash: one record (fields below), PEXPIREAT at its expiresAt
 *   p u:<userId>      set of session ids of a user           p ref:u   hash id → userId
 *   p o:<orderId>     set of session ids holding an order    p ref:o   hash id → orderId
 *   p expiry          sorted set id by expiresAt: the cleanup finds expired ids without a SCAN
 * Every script keeps the record, the two indexes, their back-references and the expiry set in
 * step, and publishes the change on the feed channel (ARGV 1–3: prefix, channel or '', sender).
 * Index and expiry keys are derived from the prefix inside the scripts: on a Redis Cluster,
 * give the prefix a hash tag (`{sojourn}:`) so they share a slot.
 *
 * Record fields: id, secretHash, version, createdAt, updatedAt, expiresAt, absoluteExpiresAt,
 * authenticationStrategy (plain strings and numbers); userId, user, activeOrderId,
 * activeChannelId (JSON, so a numeric id stays a number); `d:<key>` per data key (JSON), so
 * two writers of different keys never overwrite each other.
 */
const PRELUDE = `
local p, channel, from = ARGV[1], ARGV[2], ARGV[3]
local function unlink(kind, id)
  local refs = p .. 'ref:' .. kind
  local ref = redis.call('HGET', refs, id)
  if ref then
    redis.call('SREM', p .. kind .. ':' .. ref, id)
    redis.call('HDEL', refs, id)
  end
end
local function link(kind, id, ref)
  redis.call('SADD', p .. kind .. ':' .. ref, id)
  redis.call('HSET', p .. 'ref:' .. kind, id, ref)
end
local function drop(id)
  local existed = redis.call('DEL', p .. 's:' .. id)
  unlink('u', id)
  unlink('o', id)
  redis.call('ZREM', p .. 'expiry', id)
  return existed
end
local function announce(ids, gone)
  if channel ~= '' and #ids > 0 then
    redis.call('PUBLISH', channel, cjson.encode({ from = from, ids = ids, gone = gone }))
  end
end
`;

/** ARGV 4…: id, expiresAt, native expiry '1'|'0', '='userId or '', '='orderId or '', field/value pairs. */
export const CREATE = new Script(`${PRELUDE}
local id, key = ARGV[4], KEYS[1]
drop(id)
for i = 9, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
if ARGV[6] == '1' then redis.call('PEXPIREAT', key, ARGV[5]) end
redis.call('ZADD', p .. 'expiry', ARGV[5], id)
if ARGV[7] ~= '' then link('u', id, string.sub(ARGV[7], 2)) end
if ARGV[8] ~= '' then link('o', id, string.sub(ARGV[8], 2)) end
return 1`);

/**
 * ARGV 4…: id, updatedAt, expiresAt or '', native expiry '1'|'0', order op, order JSON, channel
 * op, channel JSON, n, n data key/value pairs, data keys to unset. An op is '' (keep), '-'
 * (clear) or '=' followed by the index key (set). Returns the record's fields, or nil when it is
 * gone (never recreated).
 */
export const UPDATE = new Script(`${PRELUDE}
local id, key = ARGV[4], KEYS[1]
if redis.call('EXISTS', key) == 0 then return false end
redis.call('HINCRBY', key, 'version', 1)
redis.call('HSET', key, 'updatedAt', ARGV[5])
if ARGV[6] ~= '' then
  redis.call('HSET', key, 'expiresAt', ARGV[6])
  redis.call('ZADD', p .. 'expiry', ARGV[6], id)
end
if ARGV[8] ~= '' then
  unlink('o', id)
  if ARGV[8] == '-' then
    redis.call('HDEL', key, 'activeOrderId')
  else
    redis.call('HSET', key, 'activeOrderId', ARGV[9])
    link('o', id, string.sub(ARGV[8], 2))
  end
end
if ARGV[10] == '-' then
  redis.call('HDEL', key, 'activeChannelId')
elseif ARGV[10] ~= '' then
  redis.call('HSET', key, 'activeChannelId', ARGV[11])
end
local n = tonumber(ARGV[12])
for i = 13, 12 + 2 * n, 2 do redis.call('HSET', key, 'd:' .. ARGV[i], ARGV[i + 1]) end
for i = 13 + 2 * n, #ARGV do redis.call('HDEL', key, 'd:' .. ARGV[i]) end
local record = redis.call('HGETALL', key)
if ARGV[6] ~= '' and ARGV[7] == '1' then redis.call('PEXPIREAT', key, ARGV[6]) end
announce({ id }, false)
return record`);

/** ARGV 4: id. Returns 1 when a record was deleted. */
export const DELETE = new Script(`${PRELUDE}
local existed = drop(ARGV[4])
if existed == 1 then announce({ ARGV[4] }, true) end
return existed`);

/** ARGV 4–5: index kind ('u' or 'o'), index key. Deletes the indexed records; returns their ids. */
export const DELETE_INDEXED = new Script(`${PRELUDE}
local deleted = {}
for _, id in ipairs(redis.call('SMEMBERS', p .. ARGV[4] .. ':' .. ARGV[5])) do
  if drop(id) == 1 then deleted[#deleted + 1] = id end
end
announce(deleted, true)
return deleted`);

/** ARGV 4: user index key. The user's records' fields; members whose record expired are pruned. */
export const LIST_BY_USER = new Script(`${PRELUDE}
local records = {}
for _, id in ipairs(redis.call('SMEMBERS', p .. 'u:' .. ARGV[4])) do
  local record = redis.call('HGETALL', p .. 's:' .. id)
  if #record > 0 then records[#records + 1] = record else drop(id) end
end
return records`);

/**
 * ARGV 4–5: now, limit. Deletes up to limit records with expiresAt <= now (or the leftovers of
 * those Redis expired). Not announced: an expired entry is refused everywhere already, and a
 * thousand tombstones per batch would push live sessions out of every instance's LRU.
 */
export const DELETE_EXPIRED = new Script(`${PRELUDE}
local ids = redis.call('ZRANGEBYSCORE', p .. 'expiry', '-inf', ARGV[4], 'LIMIT', 0, ARGV[5])
for _, id in ipairs(ids) do drop(id) end
return ids`);
