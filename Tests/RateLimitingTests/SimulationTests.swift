import Domain
import Foundation
import RateLimiting
import Testing

@Suite("Simulation: charging semantics")
struct SimulationTests {
    @Test("one reject policy: the bucket's burst passes, then refills with trace time, capped at capacity")
    func singleBucket() throws {
        var simulator = PolicySimulator(
            policies: try policies("{name: per-ip, key: clientIP, bucket: {capacity: 3, refillPerSecond: 1}}"))
        let burst = (0..<5).map { _ in simulator.offer(request(), at: 0) }
        #expect(burst.map(\.outcome) == [.allowed, .allowed, .allowed, .limited, .limited])
        #expect(burst[3].limitedBy == ["per-ip"])
        #expect(burst[3].retryAfter == .seconds(1))
        #expect(burst[0].retryAfter == nil)
        #expect(simulator.offer(request(), at: 1.0).outcome == .allowed)
        #expect(simulator.offer(request(), at: 1.0).outcome == .limited)
        #expect(simulator.offer(request(ip: "10.0.0.2"), at: 1.0).outcome == .allowed)  // another identity
        let later = (0..<4).map { _ in simulator.offer(request(), at: 100) }
        #expect(later.map(\.outcome) == [.allowed, .allowed, .allowed, .limited])
        let counts = simulator.report.policies[0]
        #expect((counts.matched, counts.allowed, counts.limited, counts.identities) == (12, 8, 4, 2))
    }

    @Test("a request limited by one policy consumes no tokens of the others")
    func atomicCharging() throws {
        var simulator = PolicySimulator(
            policies: try policies(
                "{name: per-ip, key: clientIP, bucket: {capacity: 1, refillPerSecond: 0.001}}",
                "{name: per-user, key: user, bucket: {capacity: 2, refillPerSecond: 0.001}}"))
        #expect(simulator.offer(request(ip: "ip1", user: "u1"), at: 0).outcome == .allowed)
        let second = simulator.offer(request(ip: "ip1", user: "u1"), at: 0)
        #expect(second.outcome == .limited && second.limitedBy == ["per-ip"])
        // per-user was not charged for the limited request, so u1 still has one token.
        #expect(simulator.offer(request(ip: "ip2", user: "u1"), at: 0).outcome == .allowed)
        let fourth = simulator.offer(request(ip: "ip3", user: "u1"), at: 0)
        #expect(fourth.limitedBy == ["per-user"])
        let perUser = simulator.report.policies[1]
        #expect((perUser.allowed, perUser.notCharged, perUser.limited) == (2, 1, 1))
    }

    @Test("shadow policies never change the outcome, and are charged even when others limit")
    func shadow() throws {
        var simulator = PolicySimulator(
            policies: try policies(
                "{name: per-user, key: user, bucket: {capacity: 1, refillPerSecond: 0.001}}",
                "{name: trial, key: clientIP, bucket: {capacity: 2, refillPerSecond: 0.001}, action: shadow}"))
        #expect(simulator.offer(request(user: "u1"), at: 0).outcome == .allowed)
        let limited = simulator.offer(request(user: "u1"), at: 0)
        #expect(limited.outcome == .limited && limited.shadowLimitedBy.isEmpty)  // trial paid its 2nd token
        let third = simulator.offer(request(user: "u2"), at: 0)
        #expect(third.outcome == .allowed)
        #expect(third.shadowLimitedBy == ["trial"])
        #expect(simulator.report.policies[1].allowed == 2 && simulator.report.policies[1].shadow == 1)
        #expect(simulator.report.totals.shadow == 1 && simulator.report.totals.allowed == 2)
    }

    @Test("queue policies queue the excess; a reject in the same request wins")
    func queueAndReject() throws {
        var simulator = PolicySimulator(
            policies: try policies(
                "{name: admission, match: {operations: [joinWaitingRoom]}, key: deal, bucket: {capacity: 1, refillPerSecond: 0.001}, action: queue}",
                "{name: per-ip, key: clientIP, bucket: {capacity: 1, refillPerSecond: 0.001}}"))
        #expect(simulator.offer(request("joinWaitingRoom", ip: "ip1", deal: "deal-7"), at: 0).outcome == .allowed)
        let queued = simulator.offer(request("joinWaitingRoom", ip: "ip2", deal: "deal-7"), at: 0)
        #expect(queued.outcome == .queued && queued.queuedBy == ["admission"])
        let both = simulator.offer(request("joinWaitingRoom", ip: "ip1", deal: "deal-7"), at: 0)
        #expect(both.outcome == .limited && both.limitedBy == ["per-ip"] && both.queuedBy == ["admission"])
        // ip2's token was not spent by the queued request.
        #expect(simulator.offer(request("deal", ip: "ip2", deal: "deal-7"), at: 0).outcome == .allowed)
        #expect(
            simulator.report.totals
                == {
                    var totals = SimulationReport.Outcomes()
                    (totals.offered, totals.allowed, totals.limited, totals.queued) = (4, 2, 1, 1)
                    return totals
                }())
    }

    @Test("a request without what a policy keys on is not counted by it")
    func missingIdentity() throws {
        var simulator = PolicySimulator(
            policies: try policies("{name: per-user, key: user, bucket: {capacity: 1, refillPerSecond: 0.001}}"))
        for _ in 0..<3 { #expect(simulator.offer(request(user: nil), at: 0).outcome == .allowed) }
        #expect(simulator.report.policies[0].matched == 0)
        #expect(simulator.report.unmatched == 3)
    }

    @Test("the timeline groups outcomes by whole second of trace time")
    func timeline() throws {
        let set = try policies("{name: per-ip, key: clientIP, bucket: {capacity: 2, refillPerSecond: 0.001}}")
        let trace = [0.1, 0.5, 0.9, 1.2, 3.9].map { TraceEntry(time: $0, request: request()) }
        let report = PolicySimulator.run(set, trace: trace)
        #expect(report.timeline.map(\.second) == [0, 1, 3])
        #expect(report.timeline.map(\.outcomes.offered) == [3, 1, 1])
        #expect(report.timeline.map(\.outcomes.allowed) == [2, 0, 0])
        #expect(report.timeline.map(\.outcomes.limited) == [1, 1, 1])
        #expect(report.firstTime == 0.1 && report.lastTime == 3.9)
    }

    @Test("the text report has a row per policy, the outcomes, and the timeline only when asked")
    func rendering() throws {
        let set = try policies(
            "{name: per-ip, key: clientIP, bucket: {capacity: 2, refillPerSecond: 0.001}}",
            "{name: trial, key: global, bucket: {capacity: 1, refillPerSecond: 0.001}, action: shadow}")
        let report = PolicySimulator.run(set, trace: [0.0, 0.5, 1.5].map { TraceEntry(time: $0, request: request()) })
        let text = report.rendered(policySet: set, traceName: "t.jsonl")
        let lines = text.components(separatedBy: "\n")
        #expect(lines[0] == "Simulated 3 requests over 1.5 s from t.jsonl")
        #expect(lines.contains("POLICY  KEY       ACTION  MATCHED  IDS  ALLOWED  LIMITED  QUEUED  SHADOW  NOT CHARGED"))
        #expect(lines.contains("per-ip  clientIP  reject        3    1        2        1       0       0            0"))
        #expect(lines.contains("trial   global    shadow        3    1        1        0       0       2            0"))
        #expect(lines.contains("limited (429)         1   33.3%"))
        #expect(!text.contains("SECOND"))
        let withTimeline = report.rendered(policySet: set, traceName: "t.jsonl", timeline: true)
        #expect(
            withTimeline.hasSuffix(
                "SECOND  OFFERED  ALLOWED  LIMITED  QUEUED  SHADOW\n0             2        2        0       0       1\n1             1        0        1       0       1"
            ))
    }
}
