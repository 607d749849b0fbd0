-- credit.lua: a top-up committed in the ledger reaches the hot balance,
-- once: the marker key makes a retried credit do nothing.
-- KEYS: 1 wallet, 2 top-up marker
-- ARGV: 1 wallet name, 2 amount (fen), 3 marker TTL (s)
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'EX', ARGV[3]) then
  return redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
end
return false
