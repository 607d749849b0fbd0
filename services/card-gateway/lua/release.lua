-- release.lua: the broker did not acknowledge a swipe's event in time:
-- give the money and the caps back, drop the hold, the swipe and the
-- pending answer, so that a retry with the same request id starts afresh.
-- Only while the swipe is still pending and still this gateway's: a
-- gateway that took it over (pending.c) is producing its event, and the
-- money must then stay where it is.
-- @keys idem wallet holds caps swipe
-- @argv event_id wallet amount item day year gateway_id
-- KEYS: 1 idem, 2 wallet, 3 holds, 4 caps, 5 swipe
-- ARGV: 1 event id, 2 wallet, 3 amount, 4 item, 5 day, 6 year, 7 gateway id
-- Returns 1 when released, 0 when left to the gateway that owns it now.
local own = redis.call('HMGET', KEYS[5], 'state', 'gw')
if own[1] and (own[1] ~= 'pending' or (own[2] or '') ~= ARGV[7]) then return 0 end
local amount = tonumber(ARGV[3])
if redis.call('HDEL', KEYS[3], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[2], ARGV[2], amount)
  local caps = redis.call('HMGET', KEYS[4], 'd:' .. ARGV[4], 'y:' .. ARGV[4])
  if caps[1] then
    local d, v = string.match(caps[1], '^(%d+)|(%d+)$')
    if d == ARGV[5] then redis.call('HSET', KEYS[4], 'd:' .. ARGV[4], d .. '|' .. math.max(0, tonumber(v) - amount)) end
  end
  if caps[2] then
    local y, v = string.match(caps[2], '^(%d+)|(%d+)$')
    if y == ARGV[6] then redis.call('HSET', KEYS[4], 'y:' .. ARGV[4], y .. '|' .. math.max(0, tonumber(v) - amount)) end
  end
end
redis.call('DEL', KEYS[5])
redis.call('DEL', KEYS[1])
return 1
