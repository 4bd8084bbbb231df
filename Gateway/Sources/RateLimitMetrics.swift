import Operations
import Prometheus
import RateLimiting
import Synchronization

/// Exports the rate limiter's decisions and the active policy version to Prometheus.
final class RateLimitMetrics: RateLimitObserver {
    private let registry: PrometheusCollectorRegistry
    private let verdicts = Mutex<[String: Counter]>([:])
    private let outcomes: [RateLimitDecision.Outcome: Counter]
    private let cacheHits: Counter
    private let breakerOpen: Gauge
    private let leaseHits: Counter
    private let leaseRequests: Counter
    private let leaseSeen = Mutex((hits: 0, requests: 0))
    private let reloads: [String: Counter]
    private let activeVersion = Mutex<(String, Gauge)?>(nil)

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        outcomes = Dictionary(
            uniqueKeysWithValues: [RateLimitDecision.Outcome.allowed, .limited, .queued, .unavailable].map {
                (
                    $0,
                    registry.counter(
                        "flashdeal_ratelimit_requests_total", labels: [("outcome", $0.rawValue)],
                        help: "Requests decided by the rate limiter, by overall outcome.")
                )
            })
        cacheHits = registry.counter(
            "flashdeal_ratelimit_cache_hits_total",
            help: "Requests refused from the in-process over-limit cache without a Redis call.")
        leaseHits = registry.counter(
            "flashdeal_ratelimit_lease_hits_total",
            help: "Requests decided entirely from local shares of hot buckets, without a Redis call.")
        leaseRequests = registry.counter(
            "flashdeal_ratelimit_lease_requests_total",
            help: "Shares of hot buckets taken from Redis (docs/policies.md, hot buckets).")
        breakerOpen = registry.gauge(
            "flashdeal_ratelimit_breaker_open",
            help: "1 while the rate limiter's Redis circuit breaker is open.")
        reloads = Dictionary(
            uniqueKeysWithValues: ["applied", "unchanged", "rejected", "unreadable"].map {
                (
                    $0,
                    registry.counter(
                        "flashdeal_ratelimit_policy_reloads_total", labels: [("result", $0)],
                        help: "Policy file reload attempts, by result.")
                )
            })
    }

    func decided(_ decision: RateLimitDecision) {
        outcomes[decision.outcome]?.increment()
        if decision.verdicts.contains(where: \.fromCache) { cacheHits.increment() }
        for verdict in decision.verdicts {
            counter(policy: verdict.policy, result: verdict.result.rawValue).increment()
        }
    }

    /// Brings the lease counters up to date with the limiter's statistics (called by a sampler).
    func sample(_ statistics: RateLimiterStatistics) {
        let (hits, requests) = (statistics.leaseHits, statistics.leaseRequests)
        let (newHits, newRequests) = leaseSeen.withLock { seen in
            defer { seen = (hits, requests) }
            return (hits - seen.hits, requests - seen.requests)
        }
        if newHits > 0 { leaseHits.increment(by: Int64(newHits)) }
        if newRequests > 0 { leaseRequests.increment(by: Int64(newRequests)) }
    }

    func breakerChanged(open: Bool) { breakerOpen.set(to: open ? 1.0 : 0.0) }

    /// Marks `version` as the active policy version: an info metric, always 1, with only the version
    /// in force exposed (the previous version's series is removed, not set to 0).
    func activate(version: String) {
        let gauge = registry.gauge(
            "flashdeal_ratelimit_policy_version_info", labels: [("version", version)],
            help: "Always 1; the version label is the digest of the policy file in force.")
        activeVersion.withLock { current in
            gauge.set(to: 1.0)
            if let (old, oldGauge) = current, old != version { registry.unregisterGauge(oldGauge) }
            current = (version, gauge)
        }
    }

    func reloaded(_ outcome: PolicyReloader.Outcome) {
        switch outcome {
        case .applied(let version):
            reloads["applied"]?.increment()
            activate(version: version)
        case .unchanged: reloads["unchanged"]?.increment()
        case .rejected: reloads["rejected"]?.increment()
        case .unreadable: reloads["unreadable"]?.increment()
        }
    }

    private func counter(policy: String, result: String) -> Counter {
        let key = policy + "\u{0}" + result
        if let existing = verdicts.withLock({ $0[key] }) { return existing }
        let made = registry.counter(
            "flashdeal_ratelimit_decisions_total",
            labels: [("policy", policy), ("result", result)],
            help: "Rate-limit verdicts per policy and result.")
        verdicts.withLock { $0[key] = made }
        return made
    }
}
