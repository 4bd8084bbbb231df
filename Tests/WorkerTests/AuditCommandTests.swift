import Admission
import DealData
import Domain
import Foundation
import Infrastructure
import OrderWorker
import TestSupport
import Testing

/// `flashdeal verify` and `flashdeal reconcile` as an operator runs them (the built CLI, real stack).
@Suite("verify and reconcile commands", .timeLimit(.minutes(2)))
struct AuditCommandTests {
    @Test func verifyListsAViolationAndExitsNonZeroAndReconcileFixRepairsIt() async throws {
        let h = try await WorkerHarness()
        let deal = try await h.deal(stock: 40, limit: 2)
        let common = ["--deal", deal.id.rawValue]
        let clean = try runCLI(["verify"] + common + ["--topic-prefix", h.prefix, "--idle", "0.5"])
        #expect(clean.status == 0, "\(clean.output)")
        #expect(clean.output.contains("invariants: PASS"))

        // Redis drifts: three units vanish from the stock.
        try await h.redis.send("DECRBY", OrderKeys(deal.id).stock, "3")
        let broken = try runCLI(["verify"] + common + ["--topic-prefix", h.prefix, "--idle", "0.5"])
        #expect(broken.status == 1, "\(broken.output)")
        #expect(broken.output.contains("invariants: FAIL"))
        #expect(broken.output.contains("conservation: Redis stock 37"), "\(broken.output)")

        let report = try runCLI(["reconcile"] + common)
        #expect(report.status == 1, "not consistent, and no --fix: \(report.output)")
        #expect(report.output.contains("expected stock : 40"), "\(report.output)")
        let fixed = try runCLI(["reconcile"] + common + ["--fix", "--settle", "0.2"])
        #expect(fixed.status == 0, "\(fixed.output)")
        #expect(try await h.reservations.stock(of: deal.id) == 40)
        let again = try runCLI(["verify"] + common + ["--topic-prefix", h.prefix, "--idle", "0.5"])
        #expect(again.status == 0, "\(again.output)")

        let unknown = try runCLI([
            "verify", "--deal", "no-such-deal-\(UUID().uuidString.prefix(8))", "--idle", "0.2",
            "--topic-prefix", h.prefix,
        ])
        #expect(unknown.status == 1)
        #expect(unknown.output.contains("has no deal"))
        await h.close()
    }
}
