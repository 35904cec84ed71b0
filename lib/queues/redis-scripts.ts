import { Script } from '../drivers/redis.js';

/**
 * The Redis queue's Lua. Keys under the prefix `p` (ARGV 1):
 *   p fc:c:<id>          hash: one call (name, payload, dueAt, attempt, identifier, sessionId,
 *                        every; `claim` while leased, `cancelled` when cancelled while running)
 *   p fc:due             sorted set id by dueAt: the pending calls
 *   p fc:leased          sorted set id by lease expiry: the running calls
 *   p fc:i:<identifier>  set of the ids carrying an identifier, for cancel
 * A call is in exactly one of the two sorted sets. Each script runs atomically, so two instances
 * never lease the same call. On a Redis Cluster give the prefix a hash tag (`{sojourn}:`).
 */
const PRELUDE = `
local p = ARGV[1]
local DUE, LEASED = p .. 'fc:due', p .. 'fc:leased'
local function key(id) return p .. 'fc:c:' .. id end
local function drop(id)
  local ident = redis.call('HGET', key(id), 'identifier')
  if ident then redis.call('SREM', p .. 'fc:i:' .. ident, id) end
  redis.call('DEL', key(id))
  redis.call('ZREM', DUE, id)
  redis.call('ZREM', LEASED, id)
end
`;

/** ARGV: p, id, dueAt, field/value pairs… → 1 added, 0 when the id exists. */
export const SCHEDULE = new Script(`${PRELUDE}
local id = ARGV[2]
if redis.call('EXISTS', key(id)) == 1 then return 0 end
redis.call('HSET', key(id), unpack(ARGV, 4))
redis.call('ZADD', DUE, ARGV[3], id)
local ident = redis.call('HGET', key(id), 'identifier')
if ident then redis.call('SADD', p .. 'fc:i:' .. ident, id) end
return 1`);

/**
 * ARGV: p, now, limit, leaseUntil, claim, names… → the claimed calls as flat field lists.
 * Expired leases go back to pending first (their holder died); then the earliest due calls with
 * a known name are leased. At most 1000 due calls are looked at per claim.
 */
export const CLAIM = new Script(`${PRELUDE}
local now, limit, lease, claim = ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local names = {}
for i = 6, #ARGV do names[ARGV[i]] = true end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', LEASED, '-inf', now)) do
  redis.call('ZREM', LEASED, id)
  local due = redis.call('HGET', key(id), 'dueAt')
  if not due or redis.call('HGET', key(id), 'cancelled') then drop(id)
  else
    redis.call('HDEL', key(id), 'claim')
    redis.call('ZADD', DUE, due, id)
  end
end
local out, offset, looked = {}, 0, 0
while #out < limit and looked < 1000 do
  local ids = redis.call('ZRANGEBYSCORE', DUE, '-inf', now, 'LIMIT', offset, 100)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    looked = looked + 1
    local name = redis.call('HGET', key(id), 'name')
    if not name then
      redis.call('ZREM', DUE, id)
    elseif names[name] and #out < limit then
      redis.call('ZREM', DUE, id)
      redis.call('ZADD', LEASED, lease, id)
      redis.call('HSET', key(id), 'claim', claim)
      out[#out + 1] = redis.call('HGETALL', key(id))
    else
      offset = offset + 1
    end
  end
end
return out`);

/** ARGV: p, id, claim, leaseUntil → 1 extended, 0 lost. */
export const EXTEND = new Script(`${PRELUDE}
if redis.call('HGET', key(ARGV[2]), 'claim') ~= ARGV[3] or not redis.call('ZSCORE', LEASED, ARGV[2]) then return 0 end
redis.call('ZADD', LEASED, ARGV[4], ARGV[2])
return 1`);

/** ARGV: p, id, claim, nextDue ('' deletes), nextAttempt → 1 done, 0 lost. */
export const FINISH = new Script(`${PRELUDE}
local id = ARGV[2]
if redis.call('HGET', key(id), 'claim') ~= ARGV[3] then return 0 end
if ARGV[4] == '' or redis.call('HGET', key(id), 'cancelled') then
  drop(id)
  return 1
end
redis.call('ZREM', LEASED, id)
redis.call('HDEL', key(id), 'claim')
redis.call('HSET', key(id), 'dueAt', ARGV[4], 'attempt', ARGV[5])
redis.call('ZADD', DUE, ARGV[4], id)
return 1`);

/** ARGV: p, identifier, now → how many calls were deleted or marked cancelled. */
export const CANCEL = new Script(`${PRELUDE}
local set = p .. 'fc:i:' .. ARGV[2]
local count = 0
for _, id in ipairs(redis.call('SMEMBERS', set)) do
  local lease = redis.call('ZSCORE', LEASED, id)
  if redis.call('EXISTS', key(id)) == 0 then
    redis.call('SREM', set, id)
  elseif lease and tonumber(lease) > tonumber(ARGV[3]) then
    if not redis.call('HGET', key(id), 'cancelled') then
      redis.call('HSET', key(id), 'cancelled', '1')
      count = count + 1
    end
  else
    drop(id)
    count = count + 1
  end
end
return count`);
