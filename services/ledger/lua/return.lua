-- return.lua: take credit back off one wallet (a lapse, a death, a move, a
-- recovery), never more than it holds, once per return id: the amount
-- taken is remembered under the marker, so a re-run takes nothing more and
-- answers the same amount (its event is then produced again). The card's
-- ends hash forgets the wallet's credit ended by the day (all of it when
-- the day is ''): what it still lists is what the balance inquiry shows.
-- KEYS: 1 wallet, 2 return marker, 3 ends
-- ARGV: 1 wallet name, 2 keep (fen that must stay: credit not ended),
--       3 cap (fen at most, -1 none), 4 marker TTL (s), 5 day ('' all)
-- Returns {fresh (1 taken now, 0 remembered), fen taken}.
local prev = redis.call('GET', KEYS[2])
if prev then return {0, tonumber(prev)} end
local ends = redis.call('HKEYS', KEYS[3])
local prefix = ARGV[1] .. '|'
for _, f in ipairs(ends) do
  if string.sub(f, 1, #prefix) == prefix then
    local d = string.sub(f, #prefix + 1)
    if ARGV[5] == '' or (d ~= 'never' and d <= ARGV[5]) then redis.call('HDEL', KEYS[3], f) end
  end
end
local take = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') - tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
if cap >= 0 and take > cap then take = cap end
if take <= 0 then return {1, 0} end
redis.call('HINCRBY', KEYS[1], ARGV[1], -take)
redis.call('SET', KEYS[2], take, 'EX', ARGV[4])
return {1, take}
