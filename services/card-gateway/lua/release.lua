-- release.lua: the broker did not acknowledge a swipe's event in time:
-- give the money and the caps back, drop the hold, the swipe and the
-- pending answer, so that a retry with the same request id starts afresh.
-- KEYS: 1 idem, 2 wallet, 3 holds, 4 caps, 5 swipe
-- ARGV: 1 event id, 2 wallet, 3 amount, 4 item, 5 day, 6 year
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
