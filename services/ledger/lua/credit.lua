-- credit.lua: a top-up committed in the ledger reaches the hot balance,
-- once: the marker key makes a retried credit do nothing. A top-up whose
-- credit ends (credit_ends) adds its amount to the card's ends hash under
-- "<wallet>|<day>" ("<wallet>|never" when it never ends), which the
-- gateway's balance inquiry reads to say what lapses when.
-- KEYS: 1 wallet, 2 top-up marker, 3 ends
-- ARGV: 1 wallet name, 2 amount (fen), 3 marker TTL (s), 4 ends field ('' none)
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'EX', ARGV[3]) then
  if ARGV[4] ~= '' then redis.call('HINCRBY', KEYS[3], ARGV[4], ARGV[2]) end
  return redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
end
return false
