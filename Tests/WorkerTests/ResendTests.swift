import Admission
import Credentials
import DealAudit
import DealData
import Domain
import Foundation
import Infrastructure
import OrderWorker
import TestSupport
import Testing

/// "Accepted" means "decided", end to end, even when the broker loses a write it acknowledged: the
/// worker's re-sender sends an accepted but undecided order's request again, and publishes a decided
/// order's outcome events again when they are not read back from the log — and the oracle fails
/// for as long as either is missing.
@Suite("Re-sending what the log lost", .timeLimit(.minutes(4)))
struct ResendTests {
    /// The gateway's round trip 2 for `users` (each joins, is admitted and binds its pass to its
    /// order, the request stored beside the binding), and the deal registered for the re-sender:
    /// everything the gateway does before it publishes.
    static func accept(_ users: [String], deal: DealID, h: WorkerHarness) async throws -> [OrderRequested] {
        let keyring = try PassKeyring(
            keys: [try SigningKeyID("resend-k1"): Array("resend-test-key-0123456789abcdef".utf8)],
            current: try SigningKeyID("resend-k1"))
        let room = WaitingRoom(
            redis: h.redis, settings: WaitingRoomSettings(abandonAfter: .seconds(600)), keyring: keyring)
        var requests: [OrderRequested] = []
        for user in users {
            guard case .joined(let ticket) = try await room.join(deal: deal, user: try UserID(user)) else {
                throw HarnessError("\(user) could not join")
            }
            _ = try await room.drawIfDue(deal: deal)
            _ = try await room.advance(deal: deal, lagFactor: 1)
            guard
                case .admitted(let issued) = try await room.status(
                    ticket: ticket.ticketId, deal: deal, user: ticket.userId)
            else { throw HarnessError("\(user) was not admitted") }
            let request = try WorkerHarness.request(deal, user: user, key: "key-\(user)")
            let consumption = try await room.consume(
                pass: issued.pass, order: request.orderId, quantity: 1,
                request: Array(DomainEvent.orderRequested(request).jsonData()),
                budget: nil)
            #expect(consumption == .accepted)
            requests.append(request)
        }
        await AcceptingDeals(redis: h.redis, requestsTopic: h.topics.requests).register(deal)
        return requests
    }

    @Test func aRequestTheLogNeverGotAndAnOutcomeEventItLostAreSentAgainAndVerifyFailsUntilThen() async throws {
        let h = try await WorkerHarness()
        let deal = try await h.deal(stock: 10, limit: 2)
        let accepted = try await Self.accept(["alice", "bob", "carol"], deal: deal.id, h: h)
        let (alice, bob, carol) = (accepted[0], accepted[1], accepted[2])

        // Alice's request is published. Bob's is acknowledged and lost: it never reaches the log.
        // Carol's is published and decided, and her outcome event is lost after its acknowledgement:
        // reserved, persisted and marked published exactly as the worker does, but never in the log.
        try await h.send([alice, carol])
        let reply = try #require(
            try await h.reservations.reserve(
                [ReservationRequest(orderId: carol.orderId, dealId: deal.id, userId: carol.userId, quantity: 1)],
                grace: .seconds(300)
            ).first)
        #expect(reply.result == .decided(.reserved))
        #expect(reply.decidedAtMs > 0)
        var order = try Order(
            id: carol.orderId, dealId: deal.id, userId: carol.userId, quantity: 1,
            idempotencyKey: carol.idempotencyKey, requestedAt: carol.requestedAt, state: .pending,
            updatedAt: carol.requestedAt, version: 1)
        _ = try order.apply(.reserved, at: Timestamp.date(epochMilliseconds: reply.decidedAtMs))
        let carolDocument = OrderDocument(order)
        _ = try await h.orders.insertNew([carolDocument])
        try await h.reservations.markPublished([carol.orderId], deal: deal.id)

        // The oracle fails while they are missing, and names them.
        let (before, _) = try await h.audit(deal.id, timeout: .zero)
        #expect(!before.passed)
        #expect(before.accepted == 3)
        #expect(
            before.violations.contains { $0.contains("order \(bob.orderId) was accepted") },
            "\(before.violations)")
        #expect(
            before.violations.contains { $0.contains("order \(carol.orderId) has 0 outcome events") },
            "\(before.violations)")

        // A worker with a short bound completes both.
        var settings = h.settings()
        settings.resendAfter = .seconds(2)
        settings.resendInterval = .milliseconds(200)
        try await h.withWorker(settings: settings) {
            let (after, log) = try await h.audit(deal.id, timeout: .seconds(120))
            #expect(after.passed, "\(after.text)")
            #expect(after.sold == 3)
            #expect(after.undecided == 0)

            // Bob's order was decided from his re-sent request, the very bytes the gateway stored.
            let stored = try await h.reservations.acceptedRequests(of: deal.id)
            #expect(stored[bob.orderId.rawValue] == DomainEvent.orderRequested(bob).jsonString())
            #expect(log.requests[deal.id]?[bob.orderId] == bob)
            #expect(try await h.orders.find(bob.orderId)?.status == .confirmed)

            // Carol's outcome event is in the log now, identical to what the worker would have
            // published: occurredAt is the decision's time, not the re-publication's.
            let expected = carolDocument.outcomeEvents(stockWasReserved: true)
            #expect(expected.map(\.type) == [.orderConfirmed])
            let contents = log.contents[expected[0].eventId.rawValue] ?? []
            #expect(contents == [Array(expected[0].jsonData())])

            // Read back by the event watcher: nothing is left to re-send.
            _ = try await eventually(timeout: .seconds(30)) {
                let unseen = try await h.reservations.unseen(in: deal.id)
                guard unseen.isEmpty else { throw HarnessError("still unseen: \(unseen)") }
            }
        }
        await h.close()
    }

    @Test func aReplayedReservationKeepsItsDecisionTimeSoTheOutcomeIsTheSameBytes() async throws {
        let h = try await WorkerHarness()
        let deal = try await h.deal(stock: 5, limit: 1)
        let request = try WorkerHarness.request(deal.id, user: "dave", key: "k")
        let call = ReservationRequest(orderId: request.orderId, dealId: deal.id, userId: request.userId, quantity: 1)
        let first = try #require(try await h.reservations.reserve([call], grace: .seconds(300)).first)
        try await Task.sleep(for: .milliseconds(20))
        let again = try #require(try await h.reservations.reserve([call], grace: .seconds(300)).first)
        #expect(!first.replay && again.replay)
        #expect(first.decidedAtMs > 0 && again.decidedAtMs == first.decidedAtMs)
        let record = try #require(try await h.reservations.records(of: deal.id).records[request.orderId.rawValue])
        #expect(record.decidedAtMs == first.decidedAtMs)
        #expect(ReservationRecord(packed: record.packed) == record)
        await h.close()
    }
}
