public import Infrastructure

/// The Redis function that hands out a share of a token bucket at once (``BucketLeases``).
///
/// `FCALL flashdeal_rl_lease 1 key  cap rate want cost`
///
/// The bucket is the same hash as ``TokenBucketFunction``'s (`t` tokens, `u` server time in µs),
/// refilled the same way. When it holds at least `cost` tokens it gives `min(want, ⌊tokens⌋)` and
/// keeps the rest; otherwise it gives nothing. Reply: `[granted, milliTokensLeft, waitMicros]`,
/// `waitMicros` being the time until the bucket holds `cost` again.
///
/// A library of its own, so that gateways of the previous release (which load only
/// `flashdeal_ratelimit`) and of this one can share a Redis during a rolling deploy without
/// replacing each other's functions.
public enum LeaseFunction {
    public static let name = "flashdeal_rl_lease"

    public static let library = RedisFunctionLibrary(
        name: "flashdeal_ratelimit_lease",
        source: #"""
            #!lua name=flashdeal_ratelimit_lease
            redis.register_function('flashdeal_rl_lease', function(keys, args)
              local t = redis.call('TIME')
              local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
              local cap = tonumber(args[1])
              local rate = tonumber(args[2])
              local want = tonumber(args[3])
              local cost = tonumber(args[4])
              local state = redis.call('HMGET', keys[1], 't', 'u')
              local tokens = tonumber(state[1])
              local updated = tonumber(state[2])
              if tokens == nil or updated == nil then
                tokens = cap
                updated = now
              end
              if now > updated then
                tokens = math.min(cap, tokens + (now - updated) * rate / 1000000)
              end
              local granted = 0
              if tokens >= cost then
                granted = math.min(want, math.floor(tokens))
                tokens = tokens - granted
              end
              redis.call('HSET', keys[1], 't', string.format('%.6f', tokens), 'u', now)
              redis.call('PEXPIRE', keys[1], math.ceil((cap - tokens) / rate * 1000) + 1000)
              local wait = 0
              if tokens < cost then wait = math.ceil((cost - tokens) * 1000000 / rate) end
              return {granted, math.floor(tokens * 1000), wait}
            end)
            """#)
}
