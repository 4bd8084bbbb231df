import Domain
import RateLimiting
import Testing

@Suite("Simulation: the shipped flash-sale trace")
struct SimulationSampleTraceTests {
    @Test(
        "flash-sale.yaml against flash-sale-spike.jsonl: calm warm-up, limits and queueing in the spike, consistent totals"
    )
    func sampleTrace() throws {
        let set = try PolicyLoader.load(path: repositoryPath("policies/flash-sale.yaml"))
        let trace = try TraceReader.load(path: repositoryPath("policies/traces/flash-sale-spike.jsonl"))
        #expect(trace.count > 40_000)
        #expect(trace.first?.time ?? -1 >= 0 && trace.last?.time ?? 99 < 60)

        let report = PolicySimulator.run(set, trace: trace)
        let totals = report.totals
        #expect(totals.offered == trace.count)
        #expect(totals.allowed + totals.limited + totals.queued == totals.offered)
        #expect(report.timeline.map(\.outcomes.offered).reduce(0, +) == totals.offered)
        #expect(report.timeline.map(\.second) == Array(0..<60))

        // Warm-up (before the bots arrive at 19.5 s) is never limited.
        #expect(report.timeline.prefix(19).allSatisfy { $0.outcomes.limited == 0 && $0.outcomes.queued == 0 })
        // The spike is.
        let spike = report.timeline[20..<30]
        #expect(spike.allSatisfy { $0.outcomes.limited > 0 })
        #expect(spike.map(\.outcomes.queued).reduce(0, +) > 0)

        let byName = Dictionary(uniqueKeysWithValues: report.policies.map { ($0.name, $0) })
        #expect(byName["global-create-order"]!.limited > 0)
        #expect(byName["per-user-create-order"]!.limited > 0)  // bot-1 hammering from one account
        #expect(byName["per-ip-writes"]!.limited > 0)  // the account farm on one address
        #expect(byName["per-deal-admission"]!.queued > 0)
        #expect(byName["trial-strict-per-ip"]!.shadow > 0)
        #expect(byName["partner-api-key"]!.matched > 0)
        for policy in report.policies where policy.action != .shadow {
            #expect(
                policy.matched == policy.allowed + policy.limited + policy.queued + policy.notCharged, "\(policy.name)")
        }

        // Same inputs, same report: nothing depends on the wall clock.
        #expect(PolicySimulator.run(set, trace: trace) == report)
    }

    @Test("no bot address gets more than one address's per-IP budget; shoppers are rarely limited")
    func botsAreLimited() throws {
        let set = try PolicyLoader.load(path: repositoryPath("policies/flash-sale.yaml"))
        let trace = try TraceReader.load(path: repositoryPath("policies/traces/flash-sale-spike.jsonl"))
        let perIP = try #require(set.policy(named: "per-ip-burst"))
        var simulator = PolicySimulator(policies: set)
        var offered: [String: Int] = [:]
        var allowed: [String: Int] = [:]
        var limited: [String: Int] = [:]
        var span: [String: (first: Double, last: Double)] = [:]
        for entry in trace {
            let decision = simulator.offer(entry.request, at: entry.time)
            let who = entry.request.clientIP.hasPrefix("203.0.113.") ? entry.request.clientIP : "shoppers"
            offered[who, default: 0] += 1
            if decision.outcome == .allowed { allowed[who, default: 0] += 1 }
            if decision.outcome == .limited { limited[who, default: 0] += 1 }
            span[who] = (span[who]?.first ?? entry.time, entry.time)
        }
        #expect(offered.count == 5)
        for bot in offered.keys where bot != "shoppers" {
            let (first, last) = span[bot]!
            let budget = Double(perIP.bucket.capacity) + perIP.bucket.refillPerSecond * (last - first)
            #expect(Double(allowed[bot] ?? 0) <= budget, "\(bot): \(allowed[bot] ?? 0) allowed, budget \(budget)")
            #expect(
                Double(allowed[bot] ?? 0) < 0.65 * Double(offered[bot]!),
                "\(bot) allowed \(allowed[bot] ?? 0) of \(offered[bot]!)")
        }
        let shoppersLimited = Double(limited["shoppers"] ?? 0) / Double(offered["shoppers"]!)
        #expect(shoppersLimited < 0.1, "shoppers limited \(shoppersLimited)")
    }
}
