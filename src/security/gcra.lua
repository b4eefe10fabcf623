-- One rate-limit bucket, decided and updated atomically in one round trip (GCRA, the algorithm
-- `governor` runs in process). The bucket is the client's theoretical arrival time (TAT), in
-- microseconds on the Redis server's clock, so replicas' clocks need not agree.
--
-- KEYS[1]  the bucket
-- ARGV[1]  emission interval: microseconds for one unit to refill (window / limit)
-- ARGV[2]  burst: the limit
-- ARGV[3]  units to draw
-- ARGV[4]  0: draw if allowed; 1: only look; 2: draw even if over (a failure that happened)
-- Returns { allowed (1/0), units remaining, microseconds until allowed (0 when allowed) }.
local period = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local units = tonumber(ARGV[3])
local mode = tonumber(ARGV[4])

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now) or now
if tat < now then
  tat = now
end

local window = period * burst
local new_tat = tat + period * units
local wait = new_tat - window - now
local allowed = wait <= 0

if mode == 2 or (mode == 0 and allowed) then
  tat = new_tat
  -- The key lives exactly as long as the bucket is not full: idle clients cost nothing.
  redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000))
end

local remaining = math.floor((window - (tat - now)) / period)
if remaining < 0 then
  remaining = 0
end
if allowed then
  return { 1, remaining, 0 }
end
return { 0, remaining, math.ceil(wait) }
