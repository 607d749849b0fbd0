-- rate.lua: accept one rating for a swipe: approved and not reversed, made
-- on this terminal, within 7 days, the first one. The swipe record keeps
-- what producing the rating's event needs and the gateway that owns it
-- (rt_*), so that another gateway can finish it if this one dies before
-- the broker's acknowledgement (pending.c).
-- @keys swipe idem
-- @argv fingerprint terminal now event_id gateway_id request_id score tags...
-- KEYS: 1 swipe, 2 idem
-- ARGV: 1 fingerprint, 2 terminal, 3 now (ms), 4 event id, 5 gateway id,
--       6 request id, 7 score, 8... tags
-- Returns {'conflict'} | {'replay', stored} | {'new', stored, card,
-- provider, item}; stored "F\tconflict\t<reason>" or "P\taccepted\t<event id>"
-- (the rating_id a retry hears again).
local IDEM_TTL = 86400
local prev = redis.call('GET', KEYS[2])
if prev then
  local fp, rest = string.match(prev, '^([^\t]*)\t(.*)$')
  if fp ~= ARGV[1] then return {'conflict'} end
  return {'replay', rest}
end
local function refuse(reason)
  local stored = 'F\tconflict\t' .. reason
  redis.call('SET', KEYS[2], ARGV[1] .. '\t' .. stored, 'EX', IDEM_TTL)
  return {'new', stored}
end
local s = redis.call('HMGET', KEYS[1], 'card', 'terminal', 'state', 'at', 'rated', 'provider',
                     'item')
if not s[1] then return refuse('swipe_unknown') end
if s[2] ~= ARGV[2] then return refuse('swipe_of_another_terminal') end
if s[3] == 'reversed' then return refuse('swipe_reversed') end
if tonumber(ARGV[3]) - tonumber(s[4]) > 7 * 86400000 then return refuse('too_old') end
if s[5] then return refuse('already_rated') end
redis.call('HSET', KEYS[1], 'rated', '1', 'rt_state', 'pending', 'rt_event', ARGV[4],
           'rt_request', ARGV[6], 'rt_at', ARGV[3], 'rt_score', ARGV[7], 'rt_gw', ARGV[5],
           'rt_ntags', #ARGV - 7)
for i = 8, #ARGV do redis.call('HSET', KEYS[1], 'rt_tag' .. (i - 7), ARGV[i]) end
local stored = 'P\taccepted\t' .. ARGV[4]
redis.call('SET', KEYS[2], ARGV[1] .. '\t' .. stored, 'EX', IDEM_TTL)
return {'new', stored, s[1], s[6] or '', s[7] or ''}
