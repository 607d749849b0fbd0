-- balance.lua: a balance inquiry: the card must be usable and the PIN right
-- (a wrong PIN counts towards the lock, as on a swipe).
-- @keys card wallet
-- @argv pin_proof
-- KEYS: 1 card, 2 wallet;  ARGV: 1 PIN proof
-- Returns {'declined', reason} | {'ok', wallet, balance, wallet, balance, ...}
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
local out = {'ok'}
local w = redis.call('HGETALL', KEYS[2])
for i = 1, #w do out[#out + 1] = w[i] end
return out
