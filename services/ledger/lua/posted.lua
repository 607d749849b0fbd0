-- posted.lua: a swipe or a reversal is in the journal: drop its hold, make
-- a still-pending stored answer final (the event is durable, so a retry of
-- the request may now be told the outcome), and mark a pending swipe
-- approved. Idempotent: running it twice changes nothing more.
-- KEYS: 1 holds, 2 idem, 3 swipe
-- ARGV: 1 event id, 2 swipe state to set when pending ('' to leave it)
redis.call('HDEL', KEYS[1], ARGV[1])
local v = redis.call('GET', KEYS[2])
if v then
  local fp, st, rest = string.match(v, '^([^\t]*)\t(%a)\t(.*)$')
  if st == 'P' then redis.call('SET', KEYS[2], fp .. '\tF\t' .. rest, 'KEEPTTL') end
end
if ARGV[2] ~= '' and redis.call('HGET', KEYS[3], 'state') == 'pending' then
  redis.call('HSET', KEYS[3], 'state', ARGV[2])
end
return 1
