-- posted.lua: a swipe or a reversal is in the journal: drop its hold, make
-- a still-pending stored answer final (the event is durable, so a retry of
-- the request may now be told the outcome), and mark that part of the
-- swipe record done (a pending swipe approved, a pending reversal done), so
-- that no gateway's sweep produces its event again. Idempotent: running it
-- twice changes nothing more.
-- KEYS: 1 holds, 2 idem, 3 swipe
-- ARGV: 1 event id, 2 part: swipe | reversal
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('TYPE', KEYS[2]).ok == 'string' then
  local v = redis.call('GET', KEYS[2])
  local fp, st, rest = string.match(v, '^([^\t]*)\t(%a)\t(.*)$')
  if st == 'P' then redis.call('SET', KEYS[2], fp .. '\tF\t' .. rest, 'KEEPTTL') end
end
if ARGV[2] == 'swipe' and redis.call('HGET', KEYS[3], 'state') == 'pending' then
  redis.call('HSET', KEYS[3], 'state', 'approved')
end
if ARGV[2] == 'reversal' and redis.call('HGET', KEYS[3], 'reversal_event') == ARGV[1] and
   redis.call('HGET', KEYS[3], 'rv_state') == 'pending' then
  redis.call('HSET', KEYS[3], 'rv_state', 'done')
end
return 1
