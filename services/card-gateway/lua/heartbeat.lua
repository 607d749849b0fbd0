-- heartbeat.lua: this gateway is alive; which others are not. Records our
-- heartbeat (Redis's clock, so the gateways' clocks never matter), and
-- leases to us every gateway silent for longer than the dead time: its
-- heartbeat is set to now, so nobody else takes it for another dead time,
-- and we finish what it left in flight (pending.c), then forget it.
-- @keys heartbeats
-- @argv gateway_id dead_ms
-- KEYS: 1 heartbeats;  ARGV: 1 our gateway id, 2 dead after (ms)
-- Returns {{dead ids leased to us}, {ids alive}, now}: now is the lease's
-- value (forget.lua forgets a gateway only while it still holds it).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], now)
local all = redis.call('HGETALL', KEYS[1])
local dead, alive = {}, {}
for i = 1, #all, 2 do
  if all[i] ~= ARGV[1] then
    if now - tonumber(all[i + 1]) > tonumber(ARGV[2]) then
      redis.call('HSET', KEYS[1], all[i], now)
      dead[#dead + 1] = all[i]
    else
      alive[#alive + 1] = all[i]
    end
  end
end
return {dead, alive, now}
