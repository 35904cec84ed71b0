import { Script } from '../drivers/redis.js';

/**
 * The Redis store's Lua. Keys under the prefix `p`:
 *   p s:<id>          hash: one record (fields below), PEXPIREAT at its expiresAt
 *   p u:<userId>      set of session ids of a user           p ref:u   hash id → userId
 *   p o:<orderId>     set of session ids holding an order    p ref:o   hash id → orderId
 *   p expiry          sorted set id by expiresAt: the cleanup finds expired ids without a SCAN
 * Every script keeps the record, the two indexes, their back-references and the expiry set in
 * step (ARGV 1: the prefix).
 * Index and expiry keys are derived from the prefix inside the scripts: on a Redis Cluster,
 * give the prefix a hash tag (`{sojourn}:`) so they share a slot.
 *
 * Record fields: id, secretHash, version, createdAt, updatedAt, expiresAt, absoluteExpiresAt,
 * authenticationStrategy (plain strings and numbers); userId, user, activeOrderId,
 * activeChannelId (JSON, so a numeric id stays a number); `d:<key>` per data key (JSON), so
 * two writers of different keys never overwrite each other.
 */
const PRELUDE = `
local p = ARGV[1]
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
`;

/** ARGV 2…: id, expiresAt, native expiry '1'|'0', '='userId or '', '='orderId or '', field/value pairs. */
export const CREATE = new Script(`${PRELUDE}
local id, key = ARGV[2], KEYS[1]
drop(id)
for i = 7, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
if ARGV[4] == '1' then redis.call('PEXPIREAT', key, ARGV[3]) end
redis.call('ZADD', p .. 'expiry', ARGV[3], id)
if ARGV[5] ~= '' then link('u', id, string.sub(ARGV[5], 2)) end
if ARGV[6] ~= '' then link('o', id, string.sub(ARGV[6], 2)) end
return 1`);

/**
 * ARGV 2…: id, updatedAt, expiresAt or '', native expiry '1'|'0', order op, order JSON, channel
 * op, channel JSON, n, n data key/value pairs, data keys to unset. An op is '' (keep), '-'
 * (clear) or '=' followed by the index key (set). Returns the record's fields, or nil when it is
 * gone (never recreated).
 */
export const UPDATE = new Script(`${PRELUDE}
local id, key = ARGV[2], KEYS[1]
if redis.call('EXISTS', key) == 0 then return false end
redis.call('HINCRBY', key, 'version', 1)
redis.call('HSET', key, 'updatedAt', ARGV[3])
if ARGV[4] ~= '' then
  redis.call('HSET', key, 'expiresAt', ARGV[4])
  redis.call('ZADD', p .. 'expiry', ARGV[4], id)
end
if ARGV[6] ~= '' then
  unlink('o', id)
  if ARGV[6] == '-' then
    redis.call('HDEL', key, 'activeOrderId')
  else
    redis.call('HSET', key, 'activeOrderId', ARGV[7])
    link('o', id, string.sub(ARGV[6], 2))
  end
end
if ARGV[8] == '-' then
  redis.call('HDEL', key, 'activeChannelId')
elseif ARGV[8] ~= '' then
  redis.call('HSET', key, 'activeChannelId', ARGV[9])
end
local n = tonumber(ARGV[10])
for i = 11, 10 + 2 * n, 2 do redis.call('HSET', key, 'd:' .. ARGV[i], ARGV[i + 1]) end
for i = 11 + 2 * n, #ARGV do redis.call('HDEL', key, 'd:' .. ARGV[i]) end
local record = redis.call('HGETALL', key)
if ARGV[4] ~= '' and ARGV[5] == '1' then redis.call('PEXPIREAT', key, ARGV[4]) end
return record`);

/** ARGV 2: id. Returns 1 when a record was deleted. */
export const DELETE = new Script(`${PRELUDE}
return drop(ARGV[2])`);

/** ARGV 2–3: index kind ('u' or 'o'), index key. Deletes the indexed records; returns their ids. */
export const DELETE_INDEXED = new Script(`${PRELUDE}
local deleted = {}
for _, id in ipairs(redis.call('SMEMBERS', p .. ARGV[2] .. ':' .. ARGV[3])) do
  if drop(id) == 1 then deleted[#deleted + 1] = id end
end
return deleted`);

/** ARGV 2: user index key. The user's records' fields; members whose record expired are pruned. */
export const LIST_BY_USER = new Script(`${PRELUDE}
local records = {}
for _, id in ipairs(redis.call('SMEMBERS', p .. 'u:' .. ARGV[2])) do
  local record = redis.call('HGETALL', p .. 's:' .. id)
  if #record > 0 then records[#records + 1] = record else drop(id) end
end
return records`);

/**
 * ARGV 2–3: now, limit. Deletes up to limit records with expiresAt <= now (or the leftovers of
 * those Redis expired).
 */
export const DELETE_EXPIRED = new Script(`${PRELUDE}
local ids = redis.call('ZRANGEBYSCORE', p .. 'expiry', '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(ids) do drop(id) end
return ids`);
