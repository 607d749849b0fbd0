-- unreverse.lua: the broker did not acknowledge a reversal's event: take
-- the credit back, restore the swipe, drop the pending answer. Only while
-- the reversal is still pending and still this gateway's (see release.lua).
-- The wallet and holds keys are the card's, built by the gateway from
-- card_no, the card it reversed (reverse.lua); a record of another card is
-- an error, and nothing is changed.
-- @keys swipe idem wallet holds
-- @argv event_id gateway_id card_no
-- KEYS: 1 swipe, 2 idem, 3 wallet, 4 holds (of card_no)
-- ARGV: 1 event id, 2 gateway id, 3 card number
-- Returns 1 when undone, 0 when left to the gateway that owns it now.
local s = redis.call('HMGET', KEYS[1], 'card', 'wallet', 'amount', 'reversal_event', 'rv_state',
                     'rv_gw')
if s[4] ~= ARGV[1] or s[5] ~= 'pending' or s[6] ~= ARGV[2] then return 0 end
if s[1] ~= ARGV[3] then
  return redis.error_reply('unreverse: the swipe record is of another card than its keys')
end
local amount = tonumber(s[3])
if redis.call('HDEL', KEYS[4], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[3], s[2], -amount)
end
redis.call('HSET', KEYS[1], 'state', 'approved')
redis.call('HDEL', KEYS[1], 'reversal_event', 'rv_state', 'rv_request', 'rv_at', 'rv_balance',
           'rv_gw')
redis.call('DEL', KEYS[2])
return 1
