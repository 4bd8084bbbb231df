import DealAudit
import Domain
import Foundation
import Infrastructure
import Testing

/// The oracle's "never oversold at any moment": the order-events log replayed in decision order.
@Suite("event log replay")
struct EventLogReplayTests {
    let deal = try! DealID("replay-deal")
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func confirmed(_ n: Int, units: Int, at seconds: Double) throws -> KafkaMessage {
        let order = try OrderID("order-\(n)")
        let event = DomainEvent.orderConfirmed(
            OrderConfirmed(
                eventId: try EventID("c-\(n)"), occurredAt: t0.addingTimeInterval(seconds), orderId: order,
                dealId: deal, userId: try UserID("u\(n)"), quantity: units))
        return message(event, key: order.rawValue)
    }

    func released(_ n: Int, units: Int, at seconds: Double) throws -> KafkaMessage {
        let order = try OrderID("order-\(n)")
        let event = DomainEvent.stockReleased(
            StockReleased(
                eventId: try EventID("r-\(n)"), occurredAt: t0.addingTimeInterval(seconds), orderId: order,
                dealId: deal, quantity: units, reason: .cancelled))
        return message(event, key: order.rawValue)
    }

    func message(_ event: DomainEvent, key: String) -> KafkaMessage {
        KafkaMessage(
            topic: "run.flashdeal.order-events", partition: 0, offset: 0, key: Array(key.utf8),
            value: Array(event.jsonData()))
    }

    @Test func thePeakIsTheMostHeldAtOneMomentNotTheFinalCount() throws {
        var log = DealAudit.Log()
        // Delivered out of order (different partitions): 2 + 3 held, 2 back, then 4 more.
        log.add([
            try confirmed(3, units: 4, at: 5), try released(1, units: 2, at: 3), try confirmed(1, units: 2, at: 1),
            try confirmed(2, units: 3, at: 2),
        ])
        let peak = log.peakHeld(deal)
        #expect(peak.units == 7, "held 5 at t=2, 3 at t=3, 7 at t=5")
        #expect(peak.at == t0.addingTimeInterval(5))
    }

    @Test func aTransientOversellShowsEvenWhenTheFinalCountFits() throws {
        var log = DealAudit.Log()
        // Stock 5: 3 + 3 held at once before one order's units went back — 6 > 5 for a second.
        log.add([
            try confirmed(1, units: 3, at: 1), try confirmed(2, units: 3, at: 2), try released(1, units: 3, at: 3),
        ])
        #expect(log.peakHeld(deal).units == 6)
    }

    @Test func atEqualTimesReleasesCountFirstAndUnconfirmedReleasesCountNothing() throws {
        var log = DealAudit.Log()
        log.add([
            try confirmed(1, units: 2, at: 1), try released(1, units: 2, at: 2), try confirmed(2, units: 2, at: 2),
            // A compensation of an order never confirmed (FAILED after its reservation) holds nothing here.
            try released(9, units: 5, at: 0.5),
        ])
        #expect(log.peakHeld(deal).units == 2)
        #expect(log.peakHeld(try DealID("other-deal")).units == 0)
    }
}
