import DealAudit
import DealData
import Domain
import Foundation
import Infrastructure
import OrderWorker
import TestSupport
import Testing

/// A deal with a payment window on the real stack: unpaid confirmed orders expire, their units go
/// back on sale, paid ones keep theirs, and the oracle passes.
@Suite("Payment window", .timeLimit(.minutes(3)))
struct PaymentWindowTests {
    @Test func unpaidOrdersExpireAndTheirUnitsGoBackOnSaleWhilePaidOnesKeepTheirs() async throws {
        let h = try await WorkerHarness()
        let window: Duration = .seconds(4)
        let deal = try await h.deal(stock: 4, limit: 1, paymentWindow: window)
        let first = try ["ann", "bob", "cat", "dan"].map { try WorkerHarness.request(deal.id, user: $0, key: "k") }
        var settings = h.settings()
        settings.expiryInterval = .milliseconds(200)
        let desk = PaymentDesk(reservations: h.reservations, orders: h.orders)
        try await h.withWorker(settings: settings) {
            try await h.send(first)
            try await h.waitUntilStored(deal.id, 4)
            #expect(try await h.reservations.stock(of: deal.id) == 0)
            #expect(try await h.reservations.isFlaggedSoldOut(deal.id))

            // ann pays through the library, bob through the CLI; cat and dan never pay.
            #expect(try await desk.recordPayment(of: first[0].orderId) == .paid(first[0].orderId, alreadyPaid: false))
            let cli = try runCLI(["order", "pay", "--order", first[1].orderId.rawValue])
            #expect(cli.status == 0, "\(cli.output)")
            #expect(cli.output.contains("PAID"))

            _ = try await eventually(timeout: .seconds(30)) {
                for r in first[2...] where try await h.orders.find(r.orderId)?.status != .cancelled {
                    throw HarnessError("\(r.userId) not expired yet")
                }
            }
            for r in first[2...] {
                let stored = try await h.orders.find(r.orderId)
                #expect(stored?.status == .cancelled && stored?.reason == CancellationReason.expired.rawValue)
            }
            for r in first[..<2] {
                let stored = try await h.orders.find(r.orderId)
                #expect(stored?.status == .confirmed && stored?.paidAt != nil)
            }
            #expect(try await h.reservations.stock(of: deal.id) == 2)
            #expect(try await !h.reservations.isFlaggedSoldOut(deal.id), "expired units are back on sale")

            // Paying too late is refused (the shopper is refunded); the CLI says so and exits 1.
            let late = try await desk.recordPayment(of: first[2].orderId)
            #expect(!late.accepted)
            let lateCLI = try runCLI(["order", "pay", "--order", first[3].orderId.rawValue])
            #expect(lateCLI.status == 1, "\(lateCLI.output)")
            #expect(lateCLI.output.contains("NOT_PAYABLE") || lateCLI.output.contains("TOO_LATE"))

            // The released units sell again.
            let second = try ["eve", "fay"].map { try WorkerHarness.request(deal.id, user: $0, key: "k") }
            try await h.send(second)
            try await h.waitUntilStored(deal.id, 6)
            for r in second {
                _ = try await eventually(timeout: .seconds(10)) {
                    let stored = try await h.orders.find(r.orderId)
                    guard stored?.status == .confirmed else {
                        throw HarnessError(
                            "\(r.userId)'s order is \(stored.map { "\($0.status) \($0.reason ?? "")" } ?? "absent")")
                    }
                }
                let paid = try await desk.recordPayment(of: r.orderId)
                #expect(paid.accepted, "\(paid)")
            }
            #expect(try await h.reservations.stock(of: deal.id) == 0)
        }
        let (report, log) = try await h.audit(deal.id)
        let failures = report.violations
        #expect(report.passed, "\(failures)")
        #expect(report.statuses[.confirmed] == 4 && report.statuses[.cancelled] == 2)
        let released = log.events.filter { _, events in events.values.contains(.stockReleased) }.keys
        #expect(Set(released) == Set(first[2...].map(\.orderId)))

        // The events say why: StockReleased(EXPIRED).
        let reader = try h.reader([h.topics.events])
        let events = try await reader.catchUp(idle: .seconds(1)).compactMap { try? DomainEvent.decode(Data($0.value)) }
        await reader.close()
        let reasons = events.compactMap { event -> StockReleaseReason? in
            if case .stockReleased(let e) = event { e.reason } else { nil }
        }
        #expect(reasons.count >= 2 && reasons.allSatisfy { $0 == .expired })
        await h.close()
    }
}
