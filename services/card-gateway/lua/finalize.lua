-- finalize.lua: the broker acknowledged the event of a pending answer:
-- make the stored answer final and mark that part of the swipe record
-- done, so that no sweep takes it up again.
-- @keys idem swipe
-- @argv part
-- KEYS: 1 idem, 2 swipe;  ARGV: 1 part: swipe | reversal | rating
local v = redis.call('GET', KEYS[1])
if v then
  local fp, st, rest = string.match(v, '^([^\t]*)\t(%a)\t(.*)$')
  if st == 'P' then redis.call('SET', KEYS[1], fp .. '\tF\t' .. rest, 'KEEPTTL') end
end
local field, final = 'state', 'approved'
if ARGV[1] == 'reversal' then field, final = 'rv_state', 'done' end
if ARGV[1] == 'rating' then field, final = 'rt_state', 'done' end
if redis.call('HGET', KEYS[2], field) == 'pending' then
  redis.call('HSET', KEYS[2], field, final)
end
return 1
