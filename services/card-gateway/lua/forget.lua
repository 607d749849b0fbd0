-- forget.lua: a dead gateway whose in-flight set is empty is forgotten.
-- KEYS: 1 heartbeats, 2 its in-flight set;  ARGV: 1 its id
-- Returns 1 when forgotten, 0 when something is left in its set.
if redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
