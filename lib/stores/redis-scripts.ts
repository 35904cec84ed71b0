import { Script } from '../drivers/redis.js';

/**
 * The Redis store's Lua. Keys under the prefix `p` (ARGV 1):
 *   p s:<id>          hash: one record (fields below), PEXPIREAT at its expiresAt
 *   p u:<userId>      set of session ids of a user              p ref:u   hash id → userId
 *   p o:<orderId>     set of session ids holding an order       p ref:o   hash id → orderId
 *   p c:<channelId>   set of session ids on a channel           p ref:c   hash id → channelId
 *   p expiry          sorted set id by expiresAt: the cleanup finds expired ids without a SCAN
 * Every script keeps the record, the indexes, their back-references and the expiry set in step.
 *
 * Record fields: id, secretHash, authenticationStrategy, userAgent, ip (strings); version,
 * createdAt, updatedAt, expiresAt, absoluteExpiresAt, lastSeenAt, supersededUntil (numbers);
 * userId, user, activeOrderId, activeChannelId, rememberMe (JSON, so a numeric id stays a number);
 * `d:<key>` per data key (JSON), so two writers of different keys never overwrite each other.
 */
const PRELUDE = `
local p = ARGV[1]
local KINDS = { u = true, o = true, c = true }
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
  for kind in pairs(KINDS) do unlink(kind, id) end
  redis.call('ZREM', p .. 'expiry', id)
  return existed
end
`;

/** ARGV 2…: id, expiresAt, native expiry '1'|'0', '='userId or '', '='orderId or '', '='channelId or '', field/value pairs. */
export const CREATE = new Script(`${PRELUDE}
local id, key = ARGV[2], KEYS[1]
drop(id)
for i = 8, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
if ARGV[4] == '1' then redis.call('PEXPIREAT', key, ARGV[3]) end
redis.call('ZADD', p .. 'expiry', ARGV[3], id)
if ARGV[5] ~= '' then link('u', id, string.sub(ARGV[5], 2)) end
if ARGV[6] ~= '' then link('o', id, string.sub(ARGV[6], 2)) end
if ARGV[7] ~= '' then link('c', id, string.sub(ARGV[7], 2)) end
return 1`);

/**
 * ARGV 2…: id, updatedAt, expiresAt or '', native expiry '1'|'0', order op, order JSON, channel
 * op, channel JSON, then three counted lists: n fields to set (name, value pairs), n fields to
 * delete, n data keys to set (key, JSON pairs), and the data keys to unset. An op is '' (keep),
 * '-' (clear) or '=' followed by the index key (set). Returns the record's fields, or nil when it
 * is gone (never recreated).
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
local function indexed(kind, field, op, json)
  if op == '' then return end
  unlink(kind, id)
  if op == '-' then redis.call('HDEL', key, field)
  else
    redis.call('HSET', key, field, json)
    link(kind, id, string.sub(op, 2))
  end
end
indexed('o', 'activeOrderId', ARGV[6], ARGV[7])
indexed('c', 'activeChannelId', ARGV[8], ARGV[9])
local at = 10
local n = tonumber(ARGV[at])
for i = at + 1, at + 2 * n, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
at = at + 2 * n + 1
n = tonumber(ARGV[at])
for i = at + 1, at + n do redis.call('HDEL', key, ARGV[i]) end
at = at + n + 1
n = tonumber(ARGV[at])
for i = at + 1, at + 2 * n, 2 do redis.call('HSET', key, 'd:' .. ARGV[i], ARGV[i + 1]) end
for i = at + 2 * n + 1, #ARGV do redis.call('HDEL', key, 'd:' .. ARGV[i]) end
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

/** ARGV 2–3: index kind ('u' or 'c'), index key. The indexed records' fields; members whose record expired are pruned. */
export const LIST_INDEXED = new Script(`${PRELUDE}
local records = {}
for _, id in ipairs(redis.call('SMEMBERS', p .. ARGV[2] .. ':' .. ARGV[3])) do
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
