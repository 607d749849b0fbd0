-- unreverse.lua: the broker did not acknowledge a reversal's event: take
-- the credit back, restore the swipe, drop the pending answer.
-- KEYS: 1 swipe, 2 idem;  ARGV: 1 event id
local s = redis.call('HMGET', KEYS[1], 'card', 'wallet', 'amount', 'reversal_event')
if s[4] == ARGV[1] then
  local tag = string.match(KEYS[1], '{c:(%x+)}')
  local amount = tonumber(s[3])
  if redis.call('HDEL', 'holds:{c:' .. tag .. '}:' .. s[1], ARGV[1]) == 1 then
    redis.call('HINCRBY', 'wallet:{c:' .. tag .. '}:' .. s[1], s[2], -amount)
  end
  redis.call('HSET', KEYS[1], 'state', 'approved')
  redis.call('HDEL', KEYS[1], 'reversal_event')
end
redis.call('DEL', KEYS[2])
return 1
