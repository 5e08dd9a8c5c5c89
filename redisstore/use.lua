-- Records one signature nonce for one AccessKey, atomically. Times are whole microseconds of
-- Redis's own clock.
--
-- KEYS[1]  the AccessKey's live nonces: a sorted set, member = nonce, score = its expiry
-- ARGV[1]  the nonce
-- ARGV[2]  its expiry
-- ARGV[3]  the most live nonces the AccessKey may hold; 0: no bound
-- ARGV[4]  tests only: the time now, instead of Redis's TIME
--
-- Returns 0 when recorded, 1 when the nonce is live already, 2 when the AccessKey is full.

local key, nonce, expires, maxLive = KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
-- int spells a whole number out in full; Lua's own conversion keeps 14 digits (1.752e+15).
local function int(x) return string.format('%.0f', x) end

local now
if ARGV[4] then
  now = tonumber(ARGV[4])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- A nonce is live until its expiry: drop those whose expiry has come.
redis.call('ZREMRANGEBYSCORE', key, '-inf', int(now))
if redis.call('ZSCORE', key, nonce) then
  return 1
end
if maxLive > 0 and redis.call('ZCARD', key) >= maxLive then
  return 2
end
if expires <= now then
  return 0 -- expired as it is recorded: nothing to keep
end
redis.call('ZADD', key, int(expires), nonce)

-- Keep the key until its last nonce expires, and no longer.
local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2]
redis.call('PEXPIRE', key, int(math.ceil((tonumber(last) - now) / 1000) + 10))
return 0
