-- balance.lua: a balance inquiry: the card must be usable and the PIN right
-- (a wrong PIN counts towards the lock, as on a swipe). Each wallet comes
-- with what of it lapses when: its credit per end day (the ends hash the
-- ledger keeps, keys.h) drawn oldest first, as spending draws it: the
-- balance beyond the credit ending later lapses at a day (lapse.h).
-- @keys card wallet ends
-- @argv pin_proof
-- KEYS: 1 card, 2 wallet, 3 ends;  ARGV: 1 PIN proof
-- Returns {'declined', reason} |
--         {'ok', wallet, balance, lapses, wallet, balance, lapses, ...},
--         lapses "YYYY-MM-DD:fen,..." ('' none), earliest first
local card = redis.call('HMGET', KEYS[1], 'status', 'pin_salt', 'pin_hash', 'pin_fails',
                        'pin_locked')
if not card[1] then return {'declined', 'card_unknown'} end
if card[1] == 'lost' or card[1] == 'replaced' then return {'declined', 'card_lost'} end
if card[1] ~= 'active' then return {'declined', 'card_frozen'} end
if card[5] == '1' then return {'declined', 'pin_locked'} end
if redis.sha1hex((card[2] or '') .. ARGV[1]) ~= card[3] then
  local fails = redis.call('HINCRBY', KEYS[1], 'pin_fails', 1)
  if fails >= 5 then
    redis.call('HSET', KEYS[1], 'pin_locked', '1')
    return {'declined', 'pin_locked'}
  end
  return {'declined', 'pin_invalid'}
end
if card[4] and card[4] ~= '0' then redis.call('HSET', KEYS[1], 'pin_fails', '0') end
local ends = {}
local e = redis.call('HGETALL', KEYS[3])
for i = 1, #e, 2 do
  local wallet, day = string.match(e[i], '^(.*)|([%d-]+)$')
  if not wallet then wallet, day = string.match(e[i], '^(.*)|(never)$') end
  local fen = tonumber(e[i + 1]) or 0
  if wallet and fen > 0 then
    ends[wallet] = ends[wallet] or {}
    table.insert(ends[wallet], {day, fen})
  end
end
local function lapses(wallet, balance)
  local list = ends[wallet]
  if not list then return '' end
  table.sort(list, function(a, b) return a[1] < b[1] end) -- 'never' sorts after digits
  local later, out = 0, {}
  for _, x in ipairs(list) do later = later + x[2] end
  local left = balance
  for _, x in ipairs(list) do
    later = later - x[2]
    if x[1] ~= 'never' then
      local lapse = math.min(x[2], left - later)
      if lapse > 0 then
        out[#out + 1] = x[1] .. ':' .. string.format('%d', lapse)
        left = left - lapse
      end
    end
  end
  return table.concat(out, ',')
end
local out = {'ok'}
local w = redis.call('HGETALL', KEYS[2])
for i = 1, #w, 2 do
  out[#out + 1] = w[i]
  out[#out + 1] = w[i + 1]
  out[#out + 1] = lapses(w[i], tonumber(w[i + 1]) or 0)
end
return out
