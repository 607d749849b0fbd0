-- unreverse.lua: the broker did not acknowledge a reversal's event: take
-- the credit back, restore the swipe, drop the pending answer. Only while
-- the reversal is still pending and still this gateway's (see release.lua).
-- @keys swipe idem
-- @argv event_id gateway_id
-- KEYS: 1 swipe, 2 idem;  ARGV: 1 event id, 2 gateway id
-- Returns 1 when undone, 0 when left to the gateway that owns it now.
local s = redis.call('HMGET', KEYS[1], 'card', 'wallet', 'amount', 'reversal_event', 'rv_state',
                     'rv_gw')
if s[4] ~= ARGV[1] or s[5] ~= 'pending' or s[6] ~= ARGV[2] then return 0 end
local tag = string.match(KEYS[1], '{c:(%x+)}')
local amount = tonumber(s[3])
if redis.call('HDEL', 'holds:{c:' .. tag .. '}:' .. s[1], ARGV[1]) == 1 then
  redis.call('HINCRBY', 'wallet:{c:' .. tag .. '}:' .. s[1], s[2], -amount)
end
redis.call('HSET', KEYS[1], 'state', 'approved')
redis.call('HDEL', KEYS[1], 'reversal_event', 'rv_state', 'rv_request', 'rv_at', 'rv_balance',
           'rv_gw')
redis.call('DEL', KEYS[2])
return 1
