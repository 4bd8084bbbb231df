import Synchronization

/// Counters of the rate limiter's work; the gateway exports them as metrics.
public final class RateLimiterStatistics: Sendable {
    private let decisionCount = Atomic<Int>(0)
    private let redisCallCount = Atomic<Int>(0)
    private let cacheHitCount = Atomic<Int>(0)
    private let failOpenCount = Atomic<Int>(0)
    private let failClosedCount = Atomic<Int>(0)
    private let breakerOpenCount = Atomic<Int>(0)
    private let leaseHitCount = Atomic<Int>(0)
    private let leaseRequestCount = Atomic<Int>(0)

    public init() {}

    /// Requests decided (including those no policy matched).
    public var decisions: Int { decisionCount.load(ordering: .relaxed) }
    /// Function calls sent to Redis.
    public var redisCalls: Int { redisCallCount.load(ordering: .relaxed) }
    /// Requests refused from the over-limit cache without asking Redis.
    public var cacheHits: Int { cacheHitCount.load(ordering: .relaxed) }
    /// Policy verdicts decided by fail mode `open` because Redis could not answer in time.
    public var failedOpen: Int { failOpenCount.load(ordering: .relaxed) }
    /// Policy verdicts decided by fail mode `closed`.
    public var failedClosed: Int { failClosedCount.load(ordering: .relaxed) }
    /// Times the circuit breaker opened.
    public var breakerOpened: Int { breakerOpenCount.load(ordering: .relaxed) }

    /// Requests decided entirely from local shares of hot buckets, without Redis.
    public var leaseHits: Int { leaseHitCount.load(ordering: .relaxed) }
    /// Shares of hot buckets asked of Redis (each one function call inside a decision's round trip).
    public var leaseRequests: Int { leaseRequestCount.load(ordering: .relaxed) }

    func decided() { decisionCount.add(1, ordering: .relaxed) }
    func calledRedis(_ n: Int) { redisCallCount.add(n, ordering: .relaxed) }
    func cacheHit() { cacheHitCount.add(1, ordering: .relaxed) }
    func failed(open: Int, closed: Int) {
        if open > 0 { failOpenCount.add(open, ordering: .relaxed) }
        if closed > 0 { failClosedCount.add(closed, ordering: .relaxed) }
    }
    func leaseHit() { leaseHitCount.add(1, ordering: .relaxed) }
    func leaseRequested(_ n: Int) { if n > 0 { leaseRequestCount.add(n, ordering: .relaxed) } }
    func breakerOpenedOnce() { breakerOpenCount.add(1, ordering: .relaxed) }
}
