-- claim.lua: take over one part of a swipe record (its swipe, reversal or
-- rating) that is still pending and owned by a gateway found dead, so that
-- exactly one gateway produces its event again; the owner it had may no
-- longer undo it (release.lua, unreverse.lua, unrate.lua check the owner).
-- @keys swipe
-- @argv part owner gateway_id
-- KEYS: 1 swipe;  ARGV: 1 part s|r|t, 2 the owner expected, 3 our gateway id
-- Returns {'done'} (not pending: final, undone or gone) | {'other', owner}
-- | {'claimed', {field, value, ...}} (the whole record, now ours).
local fields = {s = {'state', 'gw'}, r = {'rv_state', 'rv_gw'}, t = {'rt_state', 'rt_gw'}}
local f = fields[ARGV[1]]
if not f then return redis.error_reply('claim: unknown part ' .. ARGV[1]) end
local v = redis.call('HMGET', KEYS[1], f[1], f[2])
if v[1] ~= 'pending' then return {'done'} end
if (v[2] or '') ~= ARGV[2] then return {'other', v[2] or ''} end
redis.call('HSET', KEYS[1], f[2], ARGV[3])
return {'claimed', redis.call('HGETALL', KEYS[1])}
