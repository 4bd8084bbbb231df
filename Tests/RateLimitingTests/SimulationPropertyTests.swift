import Domain
import Foundation
import PropertyBased
import Testing

@testable import RateLimiting

/// A random request: operation index, IP index, user index, seconds since the previous request.
private let step = zip(Gen.int(in: 0...2), Gen.int(in: 0...2), Gen.int(in: 0...2), Gen.int(in: 0...1500))
private let operations = ["createOrder", "stock", "joinWaitingRoom"]

private func trace(_ steps: [(Int, Int, Int, Int)]) -> [TraceEntry] {
    var time = 0.0
    return steps.map { op, ip, user, gapMillis in
        time += Double(gapMillis) / 1000
        return TraceEntry(time: time, request: request(operations[op], ip: "ip\(ip)", user: "u\(user)", deal: "deal-7"))
    }
}

@Suite("Simulation: properties")
struct SimulationPropertyTests {
    @Test("with one policy, every decision equals the reference TokenBucket of the request's identity")
    func matchesReferenceBucket() async {
        let input = zip(Gen.int(in: 1...5), Gen.int(in: 1...4), step.array(of: 1...80))
        await propertyCheck(count: 200, input: input) { capacity, refill, steps in
            do {
                let bucket = try RateBucket(capacity: capacity, refillPerSecond: Double(refill) / 2)
                let policy = try RatePolicy(
                    name: "p", key: .clientIP, bucket: bucket,
                    cost: .perOperation(["createOrder": capacity], default: 1))
                var simulator = PolicySimulator(
                    policies: PolicySet(version: 1, policies: [policy], source: "-", digest: "-"))
                var oracle: [String: TokenBucket] = [:]
                for entry in trace(steps) {
                    let now = Date(timeIntervalSinceReferenceDate: entry.time)
                    var reference = oracle[entry.request.clientIP] ?? TokenBucket(bucket, now: now)
                    let expected = reference.take(cost: policy.cost(of: entry.request.operation), at: now)
                    oracle[entry.request.clientIP] = reference
                    let decision = simulator.offer(entry.request, at: entry.time)
                    #expect(decision.outcome == (expected.allowed ? .allowed : .limited))
                    #expect(decision.retryAfter == expected.retryAfter)
                }
                let report = simulator.report
                #expect(report.totals.allowed + report.totals.limited == steps.count)
                #expect(report.timeline.map(\.outcomes.offered).reduce(0, +) == steps.count)
            } catch {
                Issue.record("unexpected error: \(error)")
            }
        }
    }

    @Test("removing a policy the checker calls unreachable changes no decision")
    func unreachableIsRedundant() async {
        // a: reject, any operation (or createOrder+joinWaitingRoom), per IP. b: covered by a by construction.
        let shape = zip(
            Gen.int(in: 1...4), Gen.int(in: 1...4), Gen.int(in: 0...3), Gen.int(in: 0...3), Gen.bool, Gen.bool,
            Gen.int(in: 1...4))
        await propertyCheck(count: 200, input: shape, step.array(of: 1...80)) { shape, steps in
            let (capacity, refill, extraCapacity, extraRefill, narrowA, queueB, orderCostA) = shape
            do {
                let a = try RatePolicy(
                    name: "a",
                    match: narrowA ? RateMatch(operations: ["createOrder", "joinWaitingRoom"]) : .everything,
                    key: .clientIP, bucket: RateBucket(capacity: capacity + 3, refillPerSecond: Double(refill)),
                    cost: .perOperation(["createOrder": min(orderCostA, capacity + 3)], default: 1))
                let b = try RatePolicy(
                    name: "b", match: RateMatch(operations: ["createOrder"]), key: .clientIP,
                    bucket: RateBucket(
                        capacity: capacity + 3 + extraCapacity, refillPerSecond: Double(refill + extraRefill)),
                    cost: .fixed(1), action: queueB ? .queue : .reject)
                let other = try RatePolicy(
                    name: "per-user", key: .user, bucket: RateBucket(capacity: 2, refillPerSecond: 1))
                #expect(PolicyReachability.redundant([a, b, other]).map(\.covered) == [1])

                let entries = trace(steps)
                let with = PolicySet(version: 1, policies: [a, b, other], source: "-", digest: "-")
                let without = PolicySet(version: 1, policies: [a, other], source: "-", digest: "-")
                var full = PolicySimulator(policies: with)
                var reduced = PolicySimulator(policies: without)
                for entry in entries {
                    let expected = reduced.offer(entry.request, at: entry.time)
                    let actual = full.offer(entry.request, at: entry.time)
                    #expect(actual.outcome == expected.outcome)
                }
            } catch {
                Issue.record("unexpected error: \(error)")
            }
        }
    }
}
