import Domain
import Infrastructure
import Logging

/// The limiter's use of ``BucketLeases``: which charges a local share pays, which need a new share
/// from Redis, and what a refused request gives back.
extension RateLimiter {
    struct LeaseRefill: Sendable {
        let charge: Charge
        let want: Int
    }

    struct LeasePlan {
        /// Paid from local shares: the charges and their verdicts, in the same order.
        var localCharges: [Charge] = []
        var local: [RateLimitDecision.Verdict] = []
        var refills: [LeaseRefill] = []
        var direct: [Charge] = []
    }

    func planLeases(_ charges: [Charge], now: ContinuousClock.Instant) -> LeasePlan {
        var plan = LeasePlan()
        guard let leases else {
            plan.direct = charges
            return plan
        }
        for charge in charges {
            switch leases.take(charge.key, cost: charge.cost, capacity: charge.policy.bucket.capacity, now: now) {
            case .local(let remaining):
                plan.localCharges.append(charge)
                plan.local.append(
                    verdict(charge, result: .allowed, remaining: remaining, retryAfter: nil, fromCache: false))
            case .lease(let want): plan.refills.append(LeaseRefill(charge: charge, want: want))
            case .direct: plan.direct.append(charge)
            }
        }
        return plan
    }

    func leaseCall(_ refill: LeaseRefill) -> (function: String, keys: [String], arguments: [String]) {
        let bucket = refill.charge.policy.bucket
        return (
            LeaseFunction.name, [refill.charge.key],
            [String(bucket.capacity), String(bucket.refillPerSecond), String(refill.want), String(refill.charge.cost)]
        )
    }

    /// The verdict for a charge that asked Redis for a new share (``LeaseFunction``'s reply).
    func leaseVerdict(_ refill: LeaseRefill, reply: RedisValue) -> RateLimitDecision.Verdict {
        let charge = refill.charge
        guard let leases, let fields = reply.arrayValue, fields.count == 3,
            let granted = fields[0].integerValue.map(Int.init), let milliTokens = fields[1].integerValue.map(Int.init),
            let waitMicros = fields[2].integerValue.map(Int.init)
        else {
            logger.error("rate limiter: unexpected lease reply", metadata: ["reply": "\(reply)"])
            return failVerdict(charge)
        }
        if breaker.recordSuccess() { observer?.breakerChanged(open: false) }
        let now = ContinuousClock.now
        let bucketRemaining = milliTokens / 1_000
        if leases.granted(charge.key, tokens: granted, cost: charge.cost, bucketRemaining: bucketRemaining, now: now) {
            return verdict(
                charge, result: .allowed, remaining: bucketRemaining + leases.held(charge.key, now: now),
                retryAfter: nil, fromCache: false)
        }
        let wait: Duration? = waitMicros > 0 ? .microseconds(waitMicros) : nil
        if configuration.overLimitCache, charge.enforcing, let wait {
            cache.block(charge.key, until: now + wait, now: now)
        }
        let result: RateLimitDecision.Verdict.Result =
            switch charge.policy.action {
            case .shadow: .shadowLimited
            case .queue: .queued
            default: .limited
            }
        return verdict(charge, result: result, remaining: bucketRemaining, retryAfter: wait, fromCache: false)
    }

    /// A refused request keeps nothing of the local shares: every enforcing charge paid from one goes
    /// back, and its verdict says it was not charged. Returns the local and refilled verdicts so.
    func returnShares(_ plan: LeasePlan, refilled: [RateLimitDecision.Verdict]) -> [RateLimitDecision.Verdict] {
        guard let leases else { return plan.local + refilled }
        let now = ContinuousClock.now
        let charges = plan.localCharges + plan.refills.map(\.charge)
        return zip(charges, plan.local + refilled).map { charge, verdict in
            guard charge.enforcing, verdict.result == .allowed else { return verdict }
            leases.giveBack(charge.key, cost: charge.cost, now: now)
            var returned = verdict
            returned.result = .notCharged
            return returned
        }
    }
}
