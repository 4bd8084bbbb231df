public import Foundation

/// Reference token bucket, the oracle the Redis limiter is tested against.
///
/// The bucket starts full, refills continuously at `refillPerSecond` up to `capacity`, and only
/// moves forward in time: a request stamped earlier than the last one refills nothing. Hence over
/// any run the admitted cost never exceeds `capacity + refillPerSecond × elapsed`.
public struct TokenBucket: Hashable, Sendable {
    public struct Decision: Hashable, Sendable {
        public let allowed: Bool
        /// Whole tokens left after this request.
        public let remaining: Int
        /// How long until the same request could pass; `nil` when allowed, or when the cost is
        /// above capacity and it never can.
        public let retryAfter: Duration?

        public init(allowed: Bool, remaining: Int, retryAfter: Duration?) {
            self.allowed = allowed
            self.remaining = remaining
            self.retryAfter = retryAfter
        }
    }

    public let bucket: RateBucket
    public private(set) var tokens: Double
    public private(set) var updatedAt: Date

    public init(_ bucket: RateBucket, now: Date) {
        self.bucket = bucket
        self.tokens = Double(bucket.capacity)
        self.updatedAt = now
    }

    /// Restores stored state; `tokens` is clamped to `0...capacity`.
    public init(_ bucket: RateBucket, tokens: Double, updatedAt: Date) {
        self.bucket = bucket
        self.tokens = tokens.isNaN ? 0 : min(max(tokens, 0), Double(bucket.capacity))
        self.updatedAt = updatedAt
    }

    /// Takes `cost` tokens if available. A cost of zero or less takes nothing and is allowed.
    public mutating func take(cost: Int, at now: Date) -> Decision {
        refill(to: now)
        let cost = max(cost, 0)
        if Double(cost) <= tokens {
            tokens -= Double(cost)
            return Decision(allowed: true, remaining: wholeTokens, retryAfter: nil)
        }
        guard cost <= bucket.capacity else { return Decision(allowed: false, remaining: wholeTokens, retryAfter: nil) }
        let seconds = (Double(cost) - tokens) / bucket.refillPerSecond
        let millis = Int64((seconds * 1000).rounded(.up))
        return Decision(allowed: false, remaining: wholeTokens, retryAfter: .milliseconds(max(millis, 1)))
    }

    /// Tokens that would be available at `now`, without taking any.
    public func available(at now: Date) -> Double {
        var copy = self
        copy.refill(to: now)
        return copy.tokens
    }

    private var wholeTokens: Int { Int(tokens.rounded(.down)) }

    private mutating func refill(to now: Date) {
        let elapsed = now.timeIntervalSince(updatedAt)
        guard elapsed > 0 else { return }
        tokens = min(Double(bucket.capacity), tokens + elapsed * bucket.refillPerSecond)
        updatedAt = now
    }
}
