-- reverse.lua: undo one swipe: only the terminal that made it, within 24
-- hours, once. Credits the wallet, records a positive hold and gives the
-- caps back. Every key belongs to the swipe's card (one slot); the wallet,
-- holds and caps keys are derived from the swipe's tag and card number.
-- The swipe record keeps what producing the reversal's event needs and the
-- gateway that owns it (rv_*), so that another gateway can finish it if
-- this one dies before the broker's acknowledgement (pending.c).
-- @keys swipe idem
-- @argv fingerprint terminal now event_id gateway_id request_id
-- KEYS: 1 swipe, 2 idem
-- ARGV: 1 fingerprint, 2 terminal, 3 now (ms), 4 event id, 5 gateway id,
--       6 request id
-- Returns {'conflict'} | {'replay', stored} | {'new', stored, card, wallet,
-- amount, item, fund, provider}; stored "F\tconflict\t<reason>" or
-- "P\treversed\t<balance>".
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
if s[2] ~= ARGV[2] then return refuse('swipe_of_another_terminal') end
if s[5] == 'reversed' then return refuse('already_reversed') end
if tonumber(ARGV[3]) - tonumber(s[6]) > 86400000 then return refuse('too_old') end
local tag = string.match(KEYS[1], '{c:(%x+)}')
local wkey = 'wallet:{c:' .. tag .. '}:' .. s[1]
local hkey = 'holds:{c:' .. tag .. '}:' .. s[1]
local ckey = 'caps:{c:' .. tag .. '}:' .. s[1]
local amount = tonumber(s[4])
local newbal = redis.call('HINCRBY', wkey, s[3], amount)
redis.call('HSET', hkey, ARGV[4], amount)
local caps = redis.call('HMGET', ckey, 'd:' .. s[7], 'y:' .. s[7])
if caps[1] then
  local d, v = string.match(caps[1], '^(%d+)|(%d+)$')
  if d == s[8] then redis.call('HSET', ckey, 'd:' .. s[7], d .. '|' .. math.max(0, tonumber(v) - amount)) end
end
if caps[2] then
  local y, v = string.match(caps[2], '^(%d+)|(%d+)$')
  if y == s[9] then redis.call('HSET', ckey, 'y:' .. s[7], y .. '|' .. math.max(0, tonumber(v) - amount)) end
end
redis.call('HSET', KEYS[1], 'state', 'reversed', 'reversal_event', ARGV[4], 'rv_state', 'pending',
           'rv_request', ARGV[6], 'rv_at', ARGV[3], 'rv_balance', newbal, 'rv_gw', ARGV[5])
local stored = 'P\treversed\t' .. newbal
redis.call('SET', KEYS[2], ARGV[1] .. '\t' .. stored, 'EX', IDEM_TTL)
return {'new', stored, s[1], s[3], s[4], s[7], s[10] or '', s[11] or ''}
