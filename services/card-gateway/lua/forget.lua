-- forget.lua: a dead gateway whose in-flight set is empty is forgotten,
-- unless it beat again since we leased it (it was only slow).
-- @keys heartbeats inflight
-- @argv gateway_id lease
-- KEYS: 1 heartbeats, 2 its in-flight set;  ARGV: 1 its id, 2 our lease's value
-- Returns 1 when forgotten, 0 when something is left in its set or it is back.
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
if redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
