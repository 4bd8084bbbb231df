import Domain
public import Infrastructure
public import Logging

/// Settings of the rate limiter.
public struct RateLimiterConfiguration: Sendable, Equatable {
    /// How long a decision waits for Redis before the fail modes apply.
    /// Env: `FLASHDEAL_RATELIMIT_BUDGET_MS`. Default 5 ms.
    public var redisBudget: Duration
    /// Redis failures within one second that open the circuit breaker, provided they are at least
    /// half of that second's calls (``CircuitBreaker``). Default 5.
    public var breakerThreshold: Int
    /// How long an open breaker skips Redis before probing again. Default 1 s.
    public var breakerOpenDuration: Duration
    /// Retry-After given with UNAVAILABLE under fail mode `closed`. Default 1 s.
    public var failClosedRetryAfter: Duration
    /// Answer known-empty buckets in-process until their next token is due. Default on.
    public var overLimitCache: Bool
    /// How long a share of a hot bucket (``BucketLeases``) may be spent locally; `nil` turns leases
    /// off, so every decision goes to Redis. Default 100 ms.
    public var leasePeriod: Duration?
    /// The largest share of a bucket's capacity one lease may take. Default 0.1.
    public var leaseShare: Double

    public init(
        redisBudget: Duration = .milliseconds(5), breakerThreshold: Int = 5,
        breakerOpenDuration: Duration = .seconds(1), failClosedRetryAfter: Duration = .seconds(1),
        overLimitCache: Bool = true, leasePeriod: Duration? = .milliseconds(100), leaseShare: Double = 0.1
    ) {
        self.redisBudget = redisBudget
        self.breakerThreshold = breakerThreshold
        self.breakerOpenDuration = breakerOpenDuration
        self.failClosedRetryAfter = failClosedRetryAfter
        self.overLimitCache = overLimitCache
        self.leasePeriod = leasePeriod
        self.leaseShare = leaseShare
    }

    /// A malformed or out-of-range value throws, naming the variable.
    public func applying(environment: [String: String]) throws(EnvironmentValues.Invalid) -> RateLimiterConfiguration {
        var copy = self
        let values = EnvironmentValues(environment)
        if let budget = try values.milliseconds("FLASHDEAL_RATELIMIT_BUDGET_MS", in: 1...60_000) {
            copy.redisBudget = budget
        }
        if let lease = try values.int("FLASHDEAL_RATELIMIT_LEASE_MS", in: 0...1_000) {
            copy.leasePeriod = lease == 0 ? nil : .milliseconds(lease)
        }
        return copy
    }
}

/// Sees every decision and every breaker change, e.g. to export metrics. Called inline: keep it cheap.
public protocol RateLimitObserver: Sendable {
    func decided(_ decision: RateLimitDecision)
    func breakerChanged(open: Bool)
}

/// Decides requests against the active rate policies with token buckets in Redis.
///
/// - Every policy matching a request is charged in one atomic function call per Redis hash tag
///   (policies keyed on the same client, user or deal share one), on Redis server time.
/// - A bucket found empty is remembered in-process until its next token is due
///   (``RateLimiterConfiguration/overLimitCache``), so a hot over-limit key stops reaching Redis.
/// - Redis gets ``RateLimiterConfiguration/redisBudget`` per decision; past it, or while the circuit
///   breaker is open, each policy's fail mode decides: `open` lets the request through, `closed`
///   answers ``RateLimitDecision/Outcome/unavailable``.
public final class RateLimiter: Sendable {
    public let configuration: RateLimiterConfiguration
    public let statistics = RateLimiterStatistics()
    private let redis: RedisClient
    private let store: PolicyStore
    let cache = OverLimitCache()
    let leases: BucketLeases?
    let breaker: CircuitBreaker
    let observer: (any RateLimitObserver)?
    let logger: Logger

    public init(
        redis: RedisClient, policies: PolicyStore, configuration: RateLimiterConfiguration = .init(),
        observer: (any RateLimitObserver)? = nil, logger: Logger = Logger(label: "flashdeal.ratelimit")
    ) {
        self.redis = redis
        self.store = policies
        self.observer = observer
        self.configuration = configuration
        self.leases = configuration.leasePeriod.map { BucketLeases(period: $0, share: configuration.leaseShare) }
        self.breaker = CircuitBreaker(
            threshold: configuration.breakerThreshold,
            openDuration: configuration.breakerOpenDuration)
        self.logger = logger
    }

    /// Loads the token-bucket functions into Redis (they are re-loaded by themselves if Redis loses
    /// them).
    public func prepare() async throws {
        try await redis.load(TokenBucketFunction.library)
        try await redis.load(LeaseFunction.library)
    }

    /// Forgets every cached empty bucket and every local share (after a policy change, buckets may
    /// have other sizes).
    public func clearCache() {
        cache.clear()
        leases?.clear()
    }

    public var breakerIsOpen: Bool { breaker.isOpen }

    public func decide(_ request: RateLimitRequest) async -> RateLimitDecision {
        let decision = await decideUnobserved(request)
        observer?.decided(decision)
        return decision
    }

    private func decideUnobserved(_ request: RateLimitRequest) async -> RateLimitDecision {
        statistics.decided()
        let charges: [Charge] = store.current.policies.compactMap { policy in
            guard policy.applies(to: request), let identity = policy.identity(for: request) else { return nil }
            return Charge(policy: policy, identity: identity, cost: policy.cost(of: request.operation))
        }
        guard !charges.isEmpty else { return .noPolicy }
        let now = ContinuousClock.now

        if configuration.overLimitCache, let cached = cachedRefusal(charges, now: now) {
            statistics.cacheHit()
            return cached
        }
        let plan = planLeases(charges, now: now)
        if plan.direct.isEmpty && plan.refills.isEmpty {
            statistics.leaseHit()
            return combine(plan.local)
        }
        guard breaker.allowsCall(at: now) else {
            let failed = (plan.direct + plan.refills.map(\.charge)).map { failVerdict($0) }
            var decision = combine(plan.local + failed)
            if decision.outcome != .allowed { decision.verdicts = returnShares(plan, refilled: []) + failed }
            return decision
        }

        // One bucket group per hash tag (Redis Cluster slot), plus one call per hot bucket whose
        // local share ran out; all go out in one pipelined write: one round trip per decision.
        let groups = Dictionary(grouping: plan.direct, by: \.hashTag).values.map(Array.init)
        let (verdicts, refilled) = await decideGroups(groups, refills: plan.refills)
        let sources = groups.count + plan.local.count + plan.refills.count
        if sources == 1 && groups.count == 1 { return combine(verdicts[0]) }
        var decision = combine(plan.local + refilled + verdicts.flatMap { $0 })
        guard decision.outcome != .allowed else { return decision }
        var rest = verdicts.flatMap { $0 }
        if decision.outcome == .limited || decision.outcome == .queued {
            rest = await refundCharges(Array(zip(groups, verdicts)))
        }
        decision.verdicts = returnShares(plan, refilled: refilled) + rest
        return decision
    }

    /// A request spanning several hash tags was refused by one of them: give back what the others
    /// charged, so it is charged to every enforcing policy or to none.
    private func refundCharges(_ results: [([Charge], [RateLimitDecision.Verdict])]) async -> [RateLimitDecision
        .Verdict]
    {
        var verdicts: [RateLimitDecision.Verdict] = []
        for (group, groupVerdicts) in results {
            var refund: [Charge] = []
            for (charge, verdict) in zip(group, groupVerdicts) {
                if charge.enforcing && verdict.result == .allowed {
                    refund.append(charge)
                    var returned = verdict
                    returned.result = .notCharged
                    returned.remaining = min(charge.policy.bucket.capacity, verdict.remaining + charge.cost)
                    verdicts.append(returned)
                } else {
                    verdicts.append(verdict)
                }
            }
            guard !refund.isEmpty else { continue }
            statistics.calledRedis(1)
            do {
                _ = try await redis.fcall(
                    TokenBucketFunction.refund, keys: refund.map(\.key),
                    arguments: refund.flatMap { [String($0.policy.bucket.capacity), String($0.cost)] },
                    budget: configuration.redisBudget)
            } catch {
                logger.debug("rate limiter: refund failed", metadata: ["error": "\(error)"])
            }
        }
        return verdicts
    }

    // MARK: Steps

    struct Charge: Sendable {
        let policy: RatePolicy
        let identity: String
        let cost: Int
        var key: String { RateLimitKeys.bucket(policy: policy, identity: identity) }
        var hashTag: String { RateLimitKeys.hashTag(policy: policy, identity: identity) }
        var enforcing: Bool { policy.action != .shadow }
    }

    private func cachedRefusal(_ charges: [Charge], now: ContinuousClock.Instant) -> RateLimitDecision? {
        var verdicts: [RateLimitDecision.Verdict] = []
        for charge in charges where charge.enforcing {
            guard let wait = cache.wait(for: charge.key, at: now) else { continue }
            verdicts.append(
                verdict(
                    charge, result: charge.policy.action == .queue ? .queued : .limited,
                    remaining: 0, retryAfter: wait, fromCache: true))
        }
        return verdicts.isEmpty ? nil : combine(verdicts)
    }

    private func decideGroups(_ groups: [[Charge]], refills: [LeaseRefill]) async -> (
        [[RateLimitDecision.Verdict]], [RateLimitDecision.Verdict]
    ) {
        var calls = groups.map { group -> (function: String, keys: [String], arguments: [String]) in
            var arguments: [String] = []
            arguments.reserveCapacity(group.count * 4)
            for charge in group {
                arguments += [
                    String(charge.policy.bucket.capacity), String(charge.policy.bucket.refillPerSecond),
                    String(charge.cost), charge.enforcing ? "1" : "0",
                ]
            }
            return (TokenBucketFunction.name, group.map(\.key), arguments)
        }
        calls += refills.map(leaseCall)
        statistics.calledRedis(1)
        statistics.leaseRequested(refills.count)
        let replies = await redis.fcallPipeline(calls, budget: configuration.redisBudget)
        let decided = zip(groups, replies).map { group, reply in
            switch reply {
            case .success(let value): verdicts(group, reply: value)
            case .failure(let error): failedGroup(group, error: error)
            }
        }
        let leased = zip(refills, replies.dropFirst(groups.count)).map { refill, reply in
            switch reply {
            case .success(let value): leaseVerdict(refill, reply: value)
            case .failure(let error): failedGroup([refill.charge], error: error)[0]
            }
        }
        return (decided, leased)
    }

    func failedGroup(_ group: [Charge], error: RedisError) -> [RateLimitDecision.Verdict] {
        if breaker.recordFailure(at: .now) {
            statistics.breakerOpenedOnce()
            observer?.breakerChanged(open: true)
            logger.warning(
                "rate limiter: Redis failing, circuit breaker open",
                metadata: ["error": "\(error)", "for": "\(configuration.breakerOpenDuration)"])
        }
        return group.map { failVerdict($0) }
    }

    private func verdicts(_ group: [Charge], reply: RedisValue) -> [RateLimitDecision.Verdict] {
        if breaker.recordSuccess() { observer?.breakerChanged(open: false) }
        guard let rows = reply.arrayValue, rows.count == group.count else {
            logger.error("rate limiter: unexpected reply", metadata: ["reply": "\(reply)"])
            return group.map { failVerdict($0) }
        }
        let now = ContinuousClock.now
        return zip(group, rows).map { charge, row in
            let fields = row.arrayValue ?? []
            let flag = fields.first?.integerValue ?? -1
            let milliTokens = fields.count > 1 ? fields[1].integerValue ?? 0 : 0
            let waitMicros = fields.count > 2 ? fields[2].integerValue ?? 0 : 0
            let wait: Duration? = waitMicros > 0 ? .microseconds(waitMicros) : nil
            let remaining = Int(milliTokens / 1_000)
            if configuration.overLimitCache, charge.enforcing, let wait {
                // Empty now (or after this charge): nothing can pass before the next token is due.
                cache.block(charge.key, until: now + wait, now: now)
            }
            let result: RateLimitDecision.Verdict.Result =
                switch (flag, charge.policy.action) {
                case (1, _): .allowed
                case (2, _): .notCharged
                case (_, .shadow): .shadowLimited
                case (_, .queue): .queued
                default: .limited
                }
            return verdict(
                charge, result: result, remaining: remaining,
                retryAfter: result == .allowed || result == .notCharged ? nil : wait, fromCache: false)
        }
    }

    func failVerdict(_ charge: Charge) -> RateLimitDecision.Verdict {
        let closed = charge.policy.failMode == .closed && charge.enforcing
        return verdict(
            charge, result: closed ? .failedClosed : .failedOpen, remaining: 0,
            retryAfter: closed ? configuration.failClosedRetryAfter : nil, fromCache: false)
    }

    func verdict(
        _ charge: Charge, result: RateLimitDecision.Verdict.Result, remaining: Int,
        retryAfter: Duration?, fromCache: Bool
    ) -> RateLimitDecision.Verdict {
        .init(
            policy: charge.policy.name, result: result, capacity: charge.policy.bucket.capacity,
            refillPerSecond: charge.policy.bucket.refillPerSecond, remaining: remaining,
            retryAfter: retryAfter, fromCache: fromCache)
    }

    func combine(_ verdicts: [RateLimitDecision.Verdict]) -> RateLimitDecision {
        let failedOpen = verdicts.count { $0.result == .failedOpen }
        let failedClosed = verdicts.count { $0.result == .failedClosed }
        statistics.failed(open: failedOpen, closed: failedClosed)
        let outcome: RateLimitDecision.Outcome =
            if failedClosed > 0 { .unavailable } else if verdicts.contains(where: { $0.result == .limited }) {
                .limited
            } else if verdicts.contains(where: { $0.result == .queued }) { .queued } else { .allowed }
        let refusing = verdicts.filter {
            switch outcome {
            case .unavailable: $0.result == .failedClosed
            case .limited: $0.result == .limited
            case .queued: $0.result == .queued
            case .allowed: false
            }
        }
        return RateLimitDecision(
            outcome: outcome, verdicts: verdicts,
            retryAfter: refusing.compactMap(\.retryAfter).max())
    }
}
