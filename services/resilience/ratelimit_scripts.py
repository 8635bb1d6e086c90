"""The rate limiter's Lua: every decision is one atomic call on Redis's own clock.

Per provider, under `greenhouse:throttle:<provider>:`
- `paused_until`: epoch ms until which nobody calls (a 429's Retry-After), expiring then;
- `tat`: GCRA's theoretical arrival time, epoch µs (the next call's slot without a burst);
- `day`: a hash of `period` (days since the epoch, shifted to the provider's reset time), `used`
  (calls admitted in that period, or the provider's own count once it reports one) and `limit`
  (the daily limit the provider reported; the plan's when absent).
Numbers reach Redis through string.format('%d'): Lua 5.1 prints large numbers as 1.7e+15.
"""

from __future__ import annotations

# KEYS: paused_until, tat, day. ARGV: wait µs, interval µs (0: no rate), burst, plan's daily
# limit (0: none), share of the limit to keep unspent, day start µs after UTC midnight.
# Returns {code, µs, remaining}: 0 admitted (µs = its slot, from now), 1 paused, 2 spent (µs to
# the reset), 3 rate (µs to the first free slot); remaining is -1 when no limit is known.
ACQUIRE = """
local function int(x) return string.format('%d', x) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = tonumber(ARGV[1])
local start = now
local paused = redis.call('GET', KEYS[1])
if paused then
  start = math.max(now, tonumber(paused) * 1000)
  if start - now > wait then return {1, start - now, -1} end
end
local day = 86400000000
local offset = tonumber(ARGV[6])
local period = math.floor((now - offset) / day)
local h = redis.call('HMGET', KEYS[3], 'period', 'used', 'limit')
local used = 0
if tonumber(h[1]) == period then used = tonumber(h[2]) or 0 end
local limit = tonumber(h[3]) or tonumber(ARGV[4])
local remaining = -1
if limit > 0 then
  remaining = limit - used
  local keep = math.ceil(limit * tonumber(ARGV[5]) - 1e-9)
  if remaining <= keep then return {2, (period + 1) * day + offset - now, remaining} end
end
local interval = tonumber(ARGV[2])
if interval > 0 then
  local tat = tonumber(redis.call('GET', KEYS[2]) or '0')
  local tolerance = (tonumber(ARGV[3]) - 1) * interval
  start = math.max(start, tat - tolerance)
  if start - now > wait then return {3, start - now, remaining} end
  tat = math.max(tat, start) + interval
  -- Kept until a whole burst is due again: gone, it reads as 0, a full burst.
  redis.call('SET', KEYS[2], int(tat), 'PX', int(math.ceil((tat - now + tolerance) / 1000) + 1000))
end
redis.call('HSET', KEYS[3], 'period', int(period), 'used', int(used + 1))
redis.call('PEXPIRE', KEYS[3], int(2 * day / 1000))
if remaining > 0 then remaining = remaining - 1 end
return {0, start - now, remaining}
"""

# KEYS: paused_until. ARGV: pause ms. A longer pause already set stays. Returns the end (epoch ms).
PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ms = math.ceil(tonumber(ARGV[1]))
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current >= now + ms then return current end
redis.call('SET', KEYS[1], string.format('%d', now + ms), 'PX', string.format('%d', ms))
return now + ms
"""

# KEYS: day. ARGV: remaining, reported limit (0: none), plan's daily limit (0: none), day start
# µs after UTC midnight. The provider's count wins; without any known limit it is not kept
# (a share of an unknown limit means nothing). Returns the limit used (0: none known).
SYNC = """
local function int(x) return string.format('%d', x) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local day = 86400000000
local period = math.floor((now - tonumber(ARGV[4])) / day)
local limit = tonumber(ARGV[2])
if limit > 0 then
  redis.call('HSET', KEYS[1], 'limit', int(limit))
else
  limit = tonumber(redis.call('HGET', KEYS[1], 'limit') or ARGV[3])
end
if limit <= 0 then return 0 end
local used = math.max(0, limit - tonumber(ARGV[1]))
redis.call('HSET', KEYS[1], 'period', int(period), 'used', int(used))
redis.call('PEXPIRE', KEYS[1], int(2 * day / 1000))
return limit
"""

# KEYS: day. ARGV: day start µs after UTC midnight. Gives back one call of the current period.
REFUND = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local period = math.floor((now - tonumber(ARGV[1])) / 86400000000)
local h = redis.call('HMGET', KEYS[1], 'period', 'used')
if tonumber(h[1]) == period and tonumber(h[2] or '0') > 0 then
  return redis.call('HINCRBY', KEYS[1], 'used', -1)
end
return 0
"""
