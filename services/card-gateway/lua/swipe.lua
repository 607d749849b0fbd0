-- swipe.lua: authorize one swipe atomically (idempotency, card, PIN,
-- the item's kind, eligibility, designation, the quoting provider, the
-- standard amount or price, daily and annual caps, balance), then debit
-- the wallet and record the hold and the swipe.
-- Every key belongs to one card (one Redis Cluster slot).
--
-- @keys card wallet holds caps idem swipe
-- @argv fingerprint pin_proof item_code item_info provider_state amount day year swipe_id terminal provider now card_no approval event_id request_id gateway_id
-- KEYS: 1 card, 2 wallet, 3 holds, 4 caps, 5 idem, 6 swipe
-- ARGV: 1 request fingerprint, 2 PIN proof, 3 item code,
--       4 item "wallet|standard|daily_cap|annual_cap|category|kind" ('' if unknown;
--         kind credit: at most the standard per swipe; priced: a whole number
--         of sessions at the standard price; quote: only at the provider of
--         the card's approved quote (q:<item>); reimburse and cash are paid
--         into the person's own account, never swiped; an item the 在训 check
--         paused, card field p:<item>, is declined as item_paused),
--       5 provider state (ok | suspended | not_designated), 6 amount (fen),
--       7 day yyyymmdd, 8 year yyyy, 9 swipe id, 10 terminal, 11 provider,
--       12 now (ms), 13 card number, 14 approval code, 15 event id, 16 request id,
--       17 gateway id
-- The swipe record keeps what producing its event needs, and the gateway
-- that owns it ('gw'), so that a gateway can finish a swipe another one
-- approved and died before seeing acknowledged (pending.c).
-- Returns {'conflict'} | {'replay', stored} | {'new', stored}; stored is
-- "STATE\tdecision\t..." with STATE P (pending broker ack) or F (final).
local IDEM_TTL = 86400
local prev = redis.call('GET', KEYS[5])
if prev then
  local fp, rest = string.match(prev, '^([^\t]*)\t(.*)$')
  if fp ~= ARGV[1] then return {'conflict'} end
  return {'replay', rest}
end
local function decline(reason)
  local stored = 'F\tdeclined\t' .. reason
  redis.call('SET', KEYS[5], ARGV[1] .. '\t' .. stored, 'EX', IDEM_TTL)
  return {'new', stored}
end
local item = ARGV[3]
local card = redis.call('HMGET', KEYS[1], 'status', 'pin_salt', 'pin_hash', 'pin_fails',
                        'pin_locked', 'person', 'e:' .. item, 'q:' .. item, 'p:' .. item)
if not card[1] then return decline('card_unknown') end
if card[1] == 'lost' or card[1] == 'replaced' then return decline('card_lost') end
if card[1] ~= 'active' then return decline('card_frozen') end
if card[5] == '1' then return decline('pin_locked') end
if redis.sha1hex((card[2] or '') .. ARGV[2]) ~= card[3] then
  local fails = redis.call('HINCRBY', KEYS[1], 'pin_fails', 1)
  if fails >= 5 then
    redis.call('HSET', KEYS[1], 'pin_locked', '1')
    return decline('pin_locked')
  end
  return decline('pin_invalid')
end
if card[4] and card[4] ~= '0' then redis.call('HSET', KEYS[1], 'pin_fails', '0') end
if ARGV[4] == '' then return decline('item_unknown') end
local wallet, standard, dcap, acap, kind =
  string.match(ARGV[4], '^([^|]+)|(%d+)|(%d+)|(%d+)|[^|]*|?([a-z]*)$')
if not wallet then return decline('item_unknown') end
if kind == 'reimburse' or kind == 'cash' then return decline('item_paid_to_person') end
if ARGV[5] == 'suspended' then return decline('provider_suspended') end
if ARGV[5] ~= 'ok' then return decline('provider_not_designated') end
if not card[7] then return decline('person_ineligible') end
if card[9] then return decline('item_paused') end
if kind == 'quote' and card[8] ~= ARGV[11] then return decline('provider_not_quoted') end
local eacap, edcap, fund = string.match(card[7], '^(%d+)|(%d+)|(.*)$')
local bal = redis.call('HGET', KEYS[2], wallet)
if not bal then return decline('item_not_allowed') end
local amount = tonumber(ARGV[6])
if kind == 'priced' then
  if amount % tonumber(standard) ~= 0 then return decline('amount_not_priced') end
elseif kind ~= 'quote' and amount > tonumber(standard) then
  return decline('amount_over_standard')
end
dcap = tonumber(edcap) > 0 and tonumber(edcap) or tonumber(dcap)
acap = tonumber(eacap) > 0 and tonumber(eacap) or tonumber(acap)
local caps = redis.call('HMGET', KEYS[4], 'd:' .. item, 'y:' .. item)
local dused, yused = 0, 0
if caps[1] then
  local d, v = string.match(caps[1], '^(%d+)|(%d+)$')
  if d == ARGV[7] then dused = tonumber(v) end
end
if caps[2] then
  local y, v = string.match(caps[2], '^(%d+)|(%d+)$')
  if y == ARGV[8] then yused = tonumber(v) end
end
if dcap > 0 and dused + amount > dcap then return decline('daily_cap_exceeded') end
if acap > 0 and yused + amount > acap then return decline('annual_cap_exceeded') end
if tonumber(bal) < amount then return decline('insufficient_funds') end
local newbal = redis.call('HINCRBY', KEYS[2], wallet, -amount)
redis.call('HSET', KEYS[4], 'd:' .. item, ARGV[7] .. '|' .. (dused + amount),
           'y:' .. item, ARGV[8] .. '|' .. (yused + amount))
redis.call('HSET', KEYS[3], ARGV[15], -amount)
redis.call('HSET', KEYS[6], 'card', ARGV[13], 'terminal', ARGV[10], 'provider', ARGV[11],
           'item', item, 'wallet', wallet, 'amount', amount, 'fund', fund, 'at', ARGV[12],
           'day', ARGV[7], 'year', ARGV[8], 'event', ARGV[15], 'state', 'pending',
           'person', card[6] or '', 'request', ARGV[16], 'approval', ARGV[14],
           'balance', newbal, 'gw', ARGV[17])
redis.call('PEXPIRE', KEYS[6], 8 * 86400 * 1000)
local stored = 'P\tapproved\t' .. ARGV[9] .. '\t' .. ARGV[14] .. '\t' .. wallet .. '\t' ..
               newbal .. '\t' .. fund .. '\t' .. (card[6] or '')
redis.call('SET', KEYS[5], ARGV[1] .. '\t' .. stored, 'EX', IDEM_TTL)
return {'new', stored}
