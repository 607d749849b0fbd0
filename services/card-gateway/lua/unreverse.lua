-- unreverse.lua: the broker did not acknowledge a reversal's event: take
-- the credit back and the caps reverse.lua gave back (rv_dcap, rv_ycap,
-- while the swipe's day and year are still the caps' periods), restore
-- the swipe, drop the pending answer. Only while
-- the reversal is still pending and still this gateway's (see release.lua).
-- The wallet, holds and caps keys are the card's, built by the gateway from
-- card_no, the card it reversed (reverse.lua); a record of another card is
-- an error, and nothing is changed.
-- @keys swipe idem wallet holds caps
-- @argv event_id gateway_id card_no
-- KEYS: 1 swipe, 2 idem, 3 wallet, 4 holds, 5 caps (of card_no)
-- ARGV: 1 event id, 2 gateway id, 3 card number
-- Returns 1 when undone, 0 when left to the gateway that owns it now.
local s = redis.call('HMGET', KEYS[1], 'card', 'wallet', 'amount', 'reversal_event', 'rv_state',
                     'rv_gw', 'item', 'day', 'year', 'rv_dcap', 'rv_ycap')
if s[4] ~= ARGV[1] or s[5] ~= 'pending' or s[6] ~= ARGV[2] then return 0 end
if s[1] ~= ARGV[3] then
  return redis.error_reply('unreverse: the swipe record is of another card than its keys')
end
local amount = tonumber(s[3])
if redis.call('HDEL', KEYS[4], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[3], s[2], -amount)
end
local function retake(field, period, given)
  local n = tonumber(given or '0') or 0
  if n <= 0 then return end
  local used = redis.call('HGET', KEYS[5], field)
  local p, v = string.match(used or '', '^(%d+)|(%d+)$')
  if p == period then redis.call('HSET', KEYS[5], field, p .. '|' .. (tonumber(v) + n)) end
end
retake('d:' .. (s[7] or ''), s[8], s[10])
retake('y:' .. (s[7] or ''), s[9], s[11])
redis.call('HSET', KEYS[1], 'state', 'approved')
redis.call('HDEL', KEYS[1], 'reversal_event', 'rv_state', 'rv_request', 'rv_at', 'rv_balance',
           'rv_gw', 'rv_dcap', 'rv_ycap')
redis.call('DEL', KEYS[2])
return 1
