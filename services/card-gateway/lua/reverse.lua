-- reverse.lua: undo one swipe: only the terminal that made it, within 24
-- hours, once. Credits the wallet, records a positive hold and gives the
-- caps back. Every key belongs to the swipe's card (one slot); the gateway
-- reads the card number from the record (HGET card), builds the wallet,
-- holds and caps keys from it (common/keys.h) and passes it as card_no. A
-- record of another card than card_no is an error: nothing is changed or
-- stored, the gateway answers 503 and the retry reads the card again. No
-- record when the gateway read it: card_no is '' and the card keys are
-- the swipe key again (same slot, never touched); the answer is
-- swipe_unknown, as for any absent record, or the error should a record
-- have appeared since.
-- The swipe record keeps what producing the reversal's event needs and the
-- gateway that owns it (rv_*), so that another gateway can finish it if
-- this one dies before the broker's acknowledgement (pending.c).
-- @keys swipe idem wallet holds caps
-- @argv fingerprint terminal now event_id gateway_id request_id card_no
-- KEYS: 1 swipe, 2 idem, 3 wallet, 4 holds, 5 caps (of card_no)
-- ARGV: 1 fingerprint, 2 terminal, 3 now (ms), 4 event id, 5 gateway id,
--       6 request id, 7 card number read from the record ('' if none)
-- Returns {'conflict'} | {'replay', stored} | {'new', stored, card, wallet,
-- amount, item, fund, provider}, or an error when the record is of another
-- card; stored "F\tconflict\t<reason>" or "P\treversed\t<balance>".
local IDEM_TTL = 86400
local prev = redis.call('GET', KEYS[2])
if prev then
  local fp, rest = string.match(prev, '^([^\t]*)\t(.*)$')
  if fp ~= ARGV[1] then return {'conflict'} end
  return {'replay', rest}
end
local function refuse(reason)
  local stored = 'F\tconflict\t' .. reason
  redis.call('SET', KEYS[2], ARGV[1] .. '\t' .. stored, 'EX', IDEM_TTL)
  return {'new', stored}
end
local s = redis.call('HMGET', KEYS[1], 'card', 'terminal', 'wallet', 'amount', 'state', 'at',
                     'item', 'day', 'year', 'fund', 'provider')
if not s[1] then return refuse('swipe_unknown') end
if s[1] ~= ARGV[7] then
  return redis.error_reply('reverse: the swipe record is of another card than its keys')
end
if s[2] ~= ARGV[2] then return refuse('swipe_of_another_terminal') end
if s[5] == 'reversed' then return refuse('already_reversed') end
if tonumber(ARGV[3]) - tonumber(s[6]) > 86400000 then return refuse('too_old') end
local wkey, hkey, ckey = KEYS[3], KEYS[4], KEYS[5]
local amount = tonumber(s[4])
local newbal = redis.call('HINCRBY', wkey, s[3], amount)
redis.call('HSET', hkey, ARGV[4], amount)
-- the caps give back what the swipe used in its own day and year; what was
-- given back is kept (rv_dcap, rv_ycap) so that unreverse.lua takes back
-- exactly that
local caps = redis.call('HMGET', ckey, 'd:' .. s[7], 'y:' .. s[7])
local function release(field, used, period)
  if not used then return 0 end
  local p, v = string.match(used, '^(%d+)|(%d+)$')
  if p ~= period then return 0 end
  local left = math.max(0, tonumber(v) - amount)
  redis.call('HSET', ckey, field, p .. '|' .. left)
  return tonumber(v) - left
end
local dcap = release('d:' .. s[7], caps[1], s[8])
local ycap = release('y:' .. s[7], caps[2], s[9])
redis.call('HSET', KEYS[1], 'state', 'reversed', 'reversal_event', ARGV[4], 'rv_state', 'pending',
           'rv_request', ARGV[6], 'rv_at', ARGV[3], 'rv_balance', newbal, 'rv_gw', ARGV[5],
           'rv_dcap', dcap, 'rv_ycap', ycap)
local stored = 'P\treversed\t' .. newbal
redis.call('SET', KEYS[2], ARGV[1] .. '\t' .. stored, 'EX', IDEM_TTL)
return {'new', stored, s[1], s[3], s[4], s[7], s[10] or '', s[11] or ''}
