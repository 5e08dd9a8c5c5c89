-- One flow-control decision for one key, atomically: Redis runs a script to its end before any
-- other command. Times are whole microseconds of Redis's own clock.
--
-- KEYS[1]  the key's admissions: a sorted set, score = admission time, member unique
-- ARGV[1]  the limit, > 0
-- ARGV[2]  tests only: the time to decide at, instead of Redis's TIME
--
-- Returns {admitted (1 or 0), the time decided at, RetryAfter when refused}.

local key, limit = KEYS[1], tonumber(ARGV[1])
-- int spells a whole number out in full; Lua's own conversion keeps 14 digits (1.752e+15).
local function int(x) return string.format('%.0f', x) end

local now
if ARGV[2] then
  now = tonumber(ARGV[2])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- A clock that went back (Redis's was stepped, or a failover reached a server whose clock is
-- behind) decides at the newest admission instead: deciding in the past could admit a call
-- that puts more than limit in the window as the key's history records it.
local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2]
if newest and tonumber(newest) > now then
  now = tonumber(newest)
end

-- Drop what has left the window (now-1s, now].
redis.call('ZREMRANGEBYSCORE', key, '-inf', int(now - 1000000))
local n = redis.call('ZCARD', key)

if n < limit then
  -- The member is "<time>-<count before it>". Admissions that share a time are made one
  -- after another at that time, with nothing leaving the window between them (what leaves
  -- depends only on the time), so each finds one more than the last: no two share a name,
  -- even when Redis's clock gives two calls the same microsecond.
  local at = int(now)
  redis.call('ZADD', key, at, at .. '-' .. n)
  newest = now
end

-- Keep the key until its newest admission has left the window, and not forever: an idle key
-- costs nothing after a second. The slack covers the millisecond rounding of Redis's expiry
-- clock; with a test's clock (ARGV[2]), which need not keep pace with Redis's, a minute, so
-- that a test slowed down by a busy machine does not see its key expire in mid-window.
local slack = 10
if ARGV[2] then slack = 60000 end
redis.call('PEXPIRE', key, int(math.ceil((tonumber(newest) + 1000000 - now) / 1000) + slack))

if n < limit then
  return {1, now, 0}
end
-- Room needs n-limit+1 admissions to leave; the (n-limit)th oldest, counting from 0, is the
-- last of them. n > limit only right after the limit was lowered.
local edge = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')[2]
return {0, now, tonumber(edge) + 1000000 - now}
