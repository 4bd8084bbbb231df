public import Infrastructure

/// The Redis function that decides token buckets, atomically, on Redis server time.
///
/// `FCALL flashdeal_rl_take N key1..keyN  cap1 rate1 cost1 enforcing1 … capN rateN costN enforcingN`
///
/// Every key is a hash of `t` (tokens, fractional) and `u` (server time of the last update, µs).
/// Buckets start full and refill continuously at `rate` tokens per second up to `cap`. The call
/// first refills every bucket, then charges them all only if every *enforcing* bucket holds its
/// cost; a non-enforcing (shadow) bucket is charged whenever it holds its cost, so shadow counts are
/// what the policy would have done. Keys expire once a bucket would be full again.
///
/// Reply: one `[flag, milliTokens, waitMicros]` per key — flag 1 charged, 0 this bucket lacked
/// tokens, 2 not charged because another enforcing bucket lacked tokens; `waitMicros` is the time
/// until this bucket holds its cost again.
///
/// `FCALL flashdeal_rl_refund N key1..keyN  cap1 cost1 … capN costN` gives charged tokens back (up to
/// the capacity). The limiter uses it when a request spans several hash tags and one of them
/// refused it: the others' charges are returned, so a request is charged to every enforcing policy
/// or to none.
public enum TokenBucketFunction {
    public static let name = "flashdeal_rl_take"
    public static let refund = "flashdeal_rl_refund"

    public static let library = RedisFunctionLibrary(
        name: "flashdeal_ratelimit",
        source: #"""
            #!lua name=flashdeal_ratelimit
            local function now_micros()
              local t = redis.call('TIME')
              return tonumber(t[1]) * 1000000 + tonumber(t[2])
            end

            redis.register_function('flashdeal_rl_take', function(keys, args)
              local now = now_micros()
              local n = #keys
              local buckets = {}
              local enforcing_ok = true
              for i = 1, n do
                local base = (i - 1) * 4
                local cap = tonumber(args[base + 1])
                local rate = tonumber(args[base + 2])
                local cost = tonumber(args[base + 3])
                local enforcing = args[base + 4] == '1'
                local state = redis.call('HMGET', keys[i], 't', 'u')
                local tokens = tonumber(state[1])
                local updated = tonumber(state[2])
                if tokens == nil or updated == nil then
                  tokens = cap
                  updated = now
                end
                if now > updated then
                  tokens = math.min(cap, tokens + (now - updated) * rate / 1000000)
                end
                buckets[i] = {tokens, cap, rate, cost, enforcing}
                if enforcing and tokens < cost then enforcing_ok = false end
              end
              local reply = {}
              for i = 1, n do
                local b = buckets[i]
                local tokens, cap, rate, cost, enforcing = b[1], b[2], b[3], b[4], b[5]
                local flag = 0
                if tokens >= cost then
                  if enforcing and not enforcing_ok then
                    flag = 2
                  else
                    tokens = tokens - cost
                    flag = 1
                  end
                end
                redis.call('HSET', keys[i], 't', string.format('%.6f', tokens), 'u', now)
                redis.call('PEXPIRE', keys[i], math.ceil((cap - tokens) / rate * 1000) + 1000)
                local wait = 0
                if tokens < cost then wait = math.ceil((cost - tokens) * 1000000 / rate) end
                reply[i] = {flag, math.floor(tokens * 1000), wait}
              end
              return reply
            end)

            redis.register_function('flashdeal_rl_refund', function(keys, args)
              for i = 1, #keys do
                local cap = tonumber(args[(i - 1) * 2 + 1])
                local cost = tonumber(args[(i - 1) * 2 + 2])
                local tokens = tonumber(redis.call('HGET', keys[i], 't'))
                if tokens ~= nil then
                  redis.call('HSET', keys[i], 't', string.format('%.6f', math.min(cap, tokens + cost)))
                end
              end
              return #keys
            end)
            """#)
}
