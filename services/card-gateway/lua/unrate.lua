-- unrate.lua: the broker did not acknowledge a rating: forget it.
-- KEYS: 1 swipe, 2 idem
redis.call('HDEL', KEYS[1], 'rated')
redis.call('DEL', KEYS[2])
return 1
