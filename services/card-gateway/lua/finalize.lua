-- finalize.lua: the broker acknowledged the event of a pending answer:
-- make the stored answer final and mark the swipe's state.
-- KEYS: 1 idem, 2 swipe;  ARGV: 1 swipe state to set ('' to leave it)
local v = redis.call('GET', KEYS[1])
if v then
  local fp, st, rest = string.match(v, '^([^\t]*)\t(%a)\t(.*)$')
  if st == 'P' then redis.call('SET', KEYS[1], fp .. '\tF\t' .. rest, 'KEEPTTL') end
end
if ARGV[1] ~= '' and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HSET', KEYS[2], 'state', ARGV[1])
end
return 1
