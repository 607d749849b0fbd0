-- unrate.lua: the broker did not acknowledge a rating: forget it. Only
-- while the rating is still pending and still this gateway's (see
-- release.lua).
-- @keys swipe idem
-- @argv event_id gateway_id
-- KEYS: 1 swipe, 2 idem;  ARGV: 1 event id, 2 gateway id
-- Returns 1 when forgotten, 0 when left to the gateway that owns it now.
local s = redis.call('HMGET', KEYS[1], 'rt_event', 'rt_state', 'rt_gw', 'rt_ntags')
if s[1] ~= ARGV[1] or s[2] ~= 'pending' or s[3] ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], 'rated', 'rt_state', 'rt_event', 'rt_request', 'rt_at', 'rt_score',
           'rt_gw', 'rt_ntags')
for i = 1, tonumber(s[4] or '0') do redis.call('HDEL', KEYS[1], 'rt_tag' .. i) end
redis.call('DEL', KEYS[2])
return 1
