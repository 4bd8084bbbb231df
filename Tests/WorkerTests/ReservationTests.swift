import Admission
import DealAudit
import DealData
import Domain
import Foundation
import Infrastructure
import OrderWorker
import TestSupport
import Testing

/// The reservation functions against the real Redis: atomic, idempotent by order id, per-customer
/// limit in the same step, sold-out announced once, release idempotent, repair by restore.
@Suite("Stock reservations in Redis", .timeLimit(.minutes(2)))
struct ReservationTests {
    func reserve(
        _ h: WorkerHarness, _ deal: Deal, user: String, key: String, quantity: Int = 1,
        grace: Duration = .seconds(300)
    ) async throws -> ReservationReply {
        let r = try WorkerHarness.request(deal.id, user: user, key: key, quantity: quantity)
        return try await h.reservations.reserve(
            [ReservationRequest(orderId: r.orderId, dealId: deal.id, userId: r.userId, quantity: quantity)],
            grace: grace)[0]
    }

    @Test func aReplayReturnsTheFirstAnswerAndTakesNothingMore() async throws {
        let h = try await WorkerHarness()
        let deal = try await h.deal(stock: 5, limit: 3)
        let first = try await reserve(h, deal, user: "ann", key: "k1", quantity: 2)
        #expect(first.result == .decided(.reserved))
        #expect(!first.replay)
        #expect(first.remaining == 3)
        let again = try await reserve(h, deal, user: "ann", key: "k1", quantity: 2)
        #expect(again.result == .decided(.reserved))
        #expect(again.replay)
        #expect(try await h.reservations.stock(of: deal.id) == 3)
        #expect(try await h.reservations.held(in: deal.id) == ["ann": 2])
        await h.close()
    }

    @Test func thePerCustomerLimitCountsUnitsHeldAcrossOrders() async throws {
        let h = try await WorkerHarness()
        let deal = try await h.deal(stock: 10, limit: 2)
        #expect(try await reserve(h, deal, user: "bob", key: "a").result == .decided(.reserved))
        #expect(try await reserve(h, deal, user: "bob", key: "b").result == .decided(.reserved))
        #expect(try await reserve(h, deal, user: "bob", key: "c").result == .decided(.limitExceeded))
        #expect(try await reserve(h, deal, user: "cat", key: "a", quantity: 3).result == .decided(.limitExceeded))
        #expect(try await h.reservations.stock(of: deal.id) == 8)
        await h.close()
    }

    @Test func theLastUnitSetsTheSoldOutFlagOnceAndLaterOrdersAreSoldOut() async throws {
        let h = try await WorkerHarness()
        let deal = try await h.deal(stock: 2, limit: 5)
        let a = try await reserve(h, deal, user: "u1", key: "a")
        let b = try await reserve(h, deal, user: "u2", key: "a")
        let c = try await reserve(h, deal, user: "u3", key: "a")
        #expect(!a.announcedSoldOut)
        #expect(b.announcedSoldOut && b.remaining == 0)
        #expect(c.result == .decided(.soldOut) && !c.announcedSoldOut)
        #expect(try await h.reservations.isFlaggedSoldOut(deal.id))
        // More than what is left is SOLD_OUT too, without touching the stock.
        let deal2 = try await h.deal(stock: 1, limit: 5)
        #expect(try await reserve(h, deal2, user: "u1", key: "a", quantity: 2).result == .decided(.soldOut))
        #expect(try await h.reservations.stock(of: deal2.id) == 1)
        #expect(try await !h.reservations.isFlaggedSoldOut(deal2.id))
        await h.close()
    }

    @Test func afterTheEndPlusGraceOrdersAreDealClosedAndAnUnseededDealHasNoState() async throws {
        let h = try await WorkerHarness()
        let deal = try await h.deal(stock: 5, limit: 1, lasts: .seconds(1))  // started 5 s ago: ended 4 s ago
        #expect(try await reserve(h, deal, user: "u", key: "a", grace: .zero).result == .decided(.dealClosed))
        #expect(try await reserve(h, deal, user: "v", key: "a", grace: .seconds(60)).result == .decided(.reserved))
        let unknown = try DealID(TestStack.uniqueName("nowhere"))
        let r = try WorkerHarness.request(unknown, user: "u", key: "a")
        let reply = try await h.reservations.reserve(
            [ReservationRequest(orderId: r.orderId, dealId: unknown, userId: r.userId, quantity: 1)], grace: .zero)[0]
        #expect(reply.result == .noState)
        #expect(try await h.reservations.records(of: unknown).records.isEmpty)
        await h.close()
    }

    @Test func releaseGivesUnitsBackOnceClearsSoldOutAndChecksTheShopper() async throws {
        let h = try await WorkerHarness()
        let deal = try await h.deal(stock: 1, limit: 1)
        let request = try WorkerHarness.request(deal.id, user: "dan", key: "k")
        #expect(try await reserve(h, deal, user: "dan", key: "k").announcedSoldOut)
        let wrong = try await h.reservations.release(
            order: request.orderId, deal: deal.id, user: try UserID("eve"),
            reason: .cancelled)
        #expect(wrong.result == .wrongUser)
        let released = try await h.reservations.release(
            order: request.orderId, deal: deal.id, user: request.userId,
            reason: .cancelled)
        #expect(released.result == .released && released.quantity == 1 && released.remaining == 1)
        let twice = try await h.reservations.release(
            order: request.orderId, deal: deal.id, user: nil, reason: .cancelled)
        #expect(twice.result == .alreadyReleased)
        #expect(try await h.reservations.stock(of: deal.id) == 1)
        #expect(try await !h.reservations.isFlaggedSoldOut(deal.id))
        #expect(try await h.reservations.held(in: deal.id).isEmpty)
        // A replay of the released order is still its first answer: no second reservation.
        let replay = try await reserve(h, deal, user: "dan", key: "k")
        #expect(replay.replay && replay.released == .cancelled)
        #expect(try await h.reservations.stock(of: deal.id) == 1)
        // Turned-away orders hold nothing to release.
        _ = try await reserve(h, deal, user: "fay", key: "k", quantity: 2)
        let fay = try WorkerHarness.request(deal.id, user: "fay", key: "k", quantity: 2)
        #expect(
            try await h.reservations.release(order: fay.orderId, deal: deal.id, user: nil, reason: .failed).result
                == .notHeld)
        await h.close()
    }

    @Test func paymentAndTheDeadlineSweepNeverBothWin() async throws {
        let h = try await WorkerHarness()
        // A window long enough that reserving and the first checks finish inside it on a busy machine.
        let deal = try await h.deal(stock: 3, limit: 1, paymentWindow: .seconds(4))
        let paid = try WorkerHarness.request(deal.id, user: "pam", key: "k")
        let late = try WorkerHarness.request(deal.id, user: "leo", key: "k")
        let unpublished = try WorkerHarness.request(deal.id, user: "uma", key: "k")
        var deadline: Int64 = 0
        for r in [paid, late, unpublished] {
            let reply = try await reserve(h, deal, user: r.userId.rawValue, key: "k")
            #expect(reply.result == .decided(.reserved))
            #expect(reply.paymentDueMs > Int64(Date().timeIntervalSince1970 * 1_000))
            deadline = max(deadline, reply.paymentDueMs)
        }
        #expect(try await h.reservations.isFlaggedSoldOut(deal.id))
        try await h.reservations.markPublished([paid.orderId, late.orderId], deal: deal.id)
        // Before the deadline nothing expires.
        let early = try await h.reservations.expire(deal: deal.id, limit: 100, endGrace: .seconds(300))
        #expect(early.expired.isEmpty && early.unpaid == 3 && !early.finished)
        #expect(try await h.reservations.pay(order: paid.orderId, deal: deal.id, user: paid.userId).result == .paid)
        #expect(try await h.reservations.pay(order: paid.orderId, deal: deal.id, user: nil).result == .notDue)
        #expect(
            try await h.reservations.pay(order: paid.orderId, deal: deal.id, user: try UserID("eve")).result
                == .wrongUser)
        try await h.redis.waitForServerTime(Timestamp.date(epochMilliseconds: deadline + 1))
        // Past it: the published unpaid order is released and parked; the unpublished one waits.
        let sweep = try await h.reservations.expire(deal: deal.id, limit: 100, endGrace: .seconds(300))
        #expect(sweep.expired.map(\.orderId) == [late.orderId])
        #expect(sweep.expired.first?.quantity == 1 && sweep.expired.first?.userId == late.userId)
        #expect(sweep.unpaid == 1)
        #expect(try await h.reservations.stock(of: deal.id) == 1)
        #expect(try await !h.reservations.isFlaggedSoldOut(deal.id), "released units clear the sold-out flag")
        #expect(try await h.reservations.held(in: deal.id)["leo"] == nil)
        let tooLate = try await h.reservations.pay(order: late.orderId, deal: deal.id, user: late.userId)
        #expect(tooLate.result == .released && tooLate.released == .expired)
        // Parked until recorded: a second sweep returns it again without releasing twice.
        let again = try await h.reservations.expire(deal: deal.id, limit: 100, endGrace: .seconds(300))
        #expect(again.expired.map(\.orderId) == [late.orderId])
        #expect(try await h.reservations.stock(of: deal.id) == 1)
        try await h.reservations.expiredDone([late.orderId], deal: deal.id)
        try await h.reservations.markPublished([unpublished.orderId], deal: deal.id)
        let last = try await h.reservations.expire(deal: deal.id, limit: 100, endGrace: .seconds(300))
        #expect(last.expired.map(\.orderId) == [unpublished.orderId])
        #expect(last.unpaid == 0)
        #expect(try await h.reservations.stock(of: deal.id) == 2)
        // A replay of an expired order is its first answer, released: never a second reservation.
        let replay = try await reserve(h, deal, user: "leo", key: "k")
        #expect(replay.replay && replay.released == .expired && replay.paymentDueMs == 0)
        #expect(try await h.reservations.stock(of: deal.id) == 2)
        await h.close()
    }

    @Test func reconcileRestoresThePaymentDeadlinesOfUnpaidOrdersRedisLost() async throws {
        let h = try await WorkerHarness()
        let deal = try await h.deal(stock: 5, limit: 1, paymentWindow: .seconds(600))
        let unpaid = try WorkerHarness.request(deal.id, user: "una", key: "k")
        let paid = try WorkerHarness.request(deal.id, user: "pia", key: "k")
        var documents: [OrderDocument] = []
        for r in [unpaid, paid] {
            #expect(try await reserve(h, deal, user: r.userId.rawValue, key: "k").result == .decided(.reserved))
            let order = try Order(
                id: r.orderId, dealId: deal.id, userId: r.userId, quantity: 1,
                idempotencyKey: r.idempotencyKey, requestedAt: r.requestedAt, state: .confirmed,
                updatedAt: Date(), version: 2)
            documents.append(OrderDocument(order))
        }
        _ = try await h.orders.insertNew(documents)
        #expect(
            try await PaymentDesk(reservations: h.reservations, orders: h.orders).recordPayment(of: paid.orderId)
                .accepted)

        try await h.wipeRedis(deal.id)
        let reconciler = StockReconciler(reservations: h.reservations, orders: h.orders, catalog: h.catalog)
        let plan = try await reconciler.plan(deal.id)
        #expect(Set(plan.unpaid.keys) == [unpaid.orderId.rawValue], "only the unpaid order gets a deadline back")
        _ = try await reconciler.fix(deal.id, settle: .milliseconds(50))
        let deadlines = try await h.reservations.unpaid(in: deal.id)
        let due = try #require(deadlines[unpaid.orderId.rawValue])
        let expected = Timestamp.epochMilliseconds(documents[0].updatedAt) + 600_000
        #expect(abs(due - expected) <= 1, "confirmation time + the window")
        #expect(deadlines.count == 1)
        #expect(try await h.reservations.stock(of: deal.id) == 3)
        #expect(try await reconciler.plan(deal.id).isConsistent)
        let sweeping = try await h.redis.send(["SISMEMBER", OrderKeys.expiringDeals, deal.id.rawValue]).integerValue
        #expect(sweeping == 1, "the deal is swept again")
        try await h.redis.send(["SREM", OrderKeys.expiringDeals, deal.id.rawValue])
        await h.close()
    }

    @Test func reservationsArePipelinedInOrderAndNeverOversell() async throws {
        let h = try await WorkerHarness()
        let deal = try await h.deal(stock: 100, limit: 1)
        let requests = try (0..<300).map { i in
            let r = try WorkerHarness.request(deal.id, user: "p\(i % 250)", key: "k\(i)")
            return ReservationRequest(orderId: r.orderId, dealId: deal.id, userId: r.userId, quantity: 1)
        }
        let replies = try await h.reservations.reserve(requests + requests.prefix(20), grace: .seconds(60))
        let reserved = replies.prefix(300).filter { $0.result == .decided(.reserved) }.count
        #expect(reserved == 100)
        #expect(replies.suffix(20).allSatisfy { $0.replay })
        #expect(try await h.reservations.stock(of: deal.id) == 0)
        // The first 100 distinct shoppers got the units, in order.
        #expect(replies.prefix(100).allSatisfy { $0.result == .decided(.reserved) })
        await h.close()
    }
}
