import Domain
import Foundation

/// The limiter's answer to one request.
public enum SimulatedOutcome: String, Sendable, Hashable {
    /// Admitted (possibly noted by shadow policies).
    case allowed
    /// Refused by a `reject` policy: 429 with `Retry-After`.
    case limited
    /// Sent to the waiting room by a `queue` policy.
    case queued
}

public struct SimulatedDecision: Sendable, Hashable {
    public let outcome: SimulatedOutcome
    /// Enforcing policies whose bucket was empty, in file order.
    public let limitedBy: [String]
    public let queuedBy: [String]
    /// Shadow policies that would have limited the request.
    public let shadowLimitedBy: [String]
    /// When the request would pass the policies that stopped it (the `Retry-After`), if it was stopped.
    public let retryAfter: Duration?
}

/// Replays requests against a policy set offline, with the reference `TokenBucket` per
/// (policy, identity). Time comes from the requests, never from the clock.
///
/// Charging rule, the same as the gateway's: for each request every matching policy that can key
/// it is consulted. If every enforcing policy (`reject`, `queue`) has enough tokens, all of them
/// are charged together; if any is short, none of them is charged and the request is limited
/// (any `reject` short) or else queued. Shadow policies are charged on every matching request
/// they have tokens for, whatever the others decide, and never change the outcome.
public struct PolicySimulator: Sendable {
    public let policySet: PolicySet
    public private(set) var report: SimulationReport
    private var buckets: [BucketKey: TokenBucket] = [:]

    private struct BucketKey: Hashable, Sendable {
        let policy: Int
        let identity: String
    }

    public init(policies: PolicySet) {
        self.policySet = policies
        self.report = SimulationReport(policies: policies.policies)
    }

    /// Replays a whole trace.
    public static func run(_ policies: PolicySet, trace: [TraceEntry]) -> SimulationReport {
        var simulator = PolicySimulator(policies: policies)
        for entry in trace { simulator.offer(entry.request, at: entry.time) }
        return simulator.report
    }

    /// Decides one request arriving `seconds` after the start of the trace.
    @discardableResult
    /// Times before 0 (and NaN) count as 0.
    public mutating func offer(_ request: RateLimitRequest, at seconds: Double) -> SimulatedDecision {
        let seconds = seconds.isNaN ? 0 : min(max(seconds, 0), 1e12)
        let now = Date(timeIntervalSinceReferenceDate: seconds)
        var enforcing: [(index: Int, key: BucketKey, cost: Int)] = []
        var shadows: [(index: Int, key: BucketKey, cost: Int)] = []
        for (index, policy) in policySet.policies.enumerated() where policy.applies(to: request) {
            guard let identity = policy.identity(for: request) else { continue }
            let key = BucketKey(policy: index, identity: identity)
            report.policies[index].matched += 1
            if buckets[key] == nil {
                buckets[key] = TokenBucket(policy.bucket, now: now)
                report.policies[index].identities += 1
            }
            let charge = (index, key, policy.cost(of: request.operation))
            if policy.action == .shadow { shadows.append(charge) } else { enforcing.append(charge) }
        }

        // Like the gateway: first bring every bucket up to `now`, then charge all enforcing ones or none.
        for (_, key, _) in enforcing { _ = buckets[key]!.take(cost: 0, at: now) }
        var limitedBy: [String] = []
        var queuedBy: [String] = []
        var retryAfter: Duration?
        for (index, key, cost) in enforcing where buckets[key]!.tokens < Double(cost) {
            var probe = buckets[key]!
            if let wait = probe.take(cost: cost, at: now).retryAfter { retryAfter = max(retryAfter ?? .zero, wait) }
            let policy = policySet.policies[index]
            if policy.action == .reject {
                limitedBy.append(policy.name)
                report.policies[index].limited += 1
            } else {
                queuedBy.append(policy.name)
                report.policies[index].queued += 1
            }
        }
        let admitted = limitedBy.isEmpty && queuedBy.isEmpty
        for (index, key, cost) in enforcing {
            if admitted {
                _ = buckets[key]!.take(cost: cost, at: now)
                report.policies[index].allowed += 1
            } else if !limitedBy.contains(policySet.policies[index].name),
                !queuedBy.contains(policySet.policies[index].name)
            {
                report.policies[index].notCharged += 1
            }
        }
        var shadowLimitedBy: [String] = []
        for (index, key, cost) in shadows {
            if buckets[key]!.take(cost: cost, at: now).allowed {
                report.policies[index].allowed += 1
            } else {
                report.policies[index].shadow += 1
                shadowLimitedBy.append(policySet.policies[index].name)
            }
        }

        let outcome: SimulatedOutcome = !limitedBy.isEmpty ? .limited : !queuedBy.isEmpty ? .queued : .allowed
        let decision = SimulatedDecision(
            outcome: outcome, limitedBy: limitedBy, queuedBy: queuedBy,
            shadowLimitedBy: shadowLimitedBy, retryAfter: admitted ? nil : retryAfter)
        record(decision, at: seconds, counted: !enforcing.isEmpty || !shadows.isEmpty)
        return decision
    }

    private mutating func record(_ decision: SimulatedDecision, at seconds: Double, counted: Bool) {
        report.totals.record(decision)
        if !counted { report.unmatched += 1 }
        report.firstTime = min(report.firstTime ?? seconds, seconds)
        report.lastTime = max(report.lastTime ?? seconds, seconds)
        let second = Int(seconds.rounded(.down))
        if report.timeline.last?.second != second {
            // Traces are sorted; an out-of-order request from `offer` is slotted in place.
            let position = report.timeline.firstIndex { $0.second >= second } ?? report.timeline.endIndex
            if position == report.timeline.endIndex || report.timeline[position].second != second {
                report.timeline.insert(SimulationReport.Second(second: second), at: position)
            }
            let index = report.timeline.firstIndex { $0.second == second }!
            report.timeline[index].outcomes.record(decision)
        } else {
            report.timeline[report.timeline.count - 1].outcomes.record(decision)
        }
    }
}
