import Admission
import DealData
import Domain
import Foundation
import Gateway
import HTTPTypes
import RateLimiting
import Testing
import Twins

/// ShopperAPI's rules, over GraphQL and HTTP in-process, on in-memory ports (``InProcessGateway``).
/// What these show holds for the live adapters because the twins pass the same port contract tests.
@Suite("Shopper API in process (in-memory ports)")
struct ShopperAPIInProcessTests {
    typealias G = InProcessGateway

    @Test func anAdmittedShopperOrdersOnceAndTheRequestStoredIsTheRequestSent() async throws {
        try await G.with { gw in
            let deal = try gw.deal()
            let token = try await G.token(for: "ip-shopper")
            let pass = try await gw.admit(deal, token: token)
            let reply = try await gw.order(deal, token: token, pass: pass, key: "k-1", quantity: 2)
            #expect(reply.status == 200, "\(reply.text)")
            let receipt = try #require(reply.data?["createOrder"] as? [String: Any], "\(reply.text)")
            let expected = OrderID.derive(
                userId: try UserID("ip-shopper"), dealId: deal, idempotencyKey: try IdempotencyKey("k-1"))
            #expect(receipt["id"] as? String == expected.rawValue)
            #expect(receipt["status"] as? String == "PENDING")
            #expect(receipt["replayed"] as? Bool == false)

            let sent = gw.sink.sent
            #expect(sent.count == 1)
            guard case .orderRequested(let request)? = sent.first?.event else {
                Issue.record("not an OrderRequested: \(String(describing: sent.first?.event))")
                return
            }
            #expect(request.orderId == expected && request.quantity == 2 && request.dealId == deal)
            #expect(gw.room.storedRequest(expected, deal: deal) == sent.first?.bytes)
            #expect(gw.accepting.members == [deal])
            #expect(gw.room.trackedDeals.contains(deal))
        }
    }

    @Test func aRetryWithTheSameKeyIsReplayedByteForByteAndADifferentQuantityConflicts() async throws {
        try await G.with { gw in
            let deal = try gw.deal()
            let token = try await G.token(for: "ip-retry")
            let pass = try await gw.admit(deal, token: token)
            let first = try await gw.order(deal, token: token, pass: pass, key: "same")
            gw.clock.advance(.seconds(3))
            let second = try await gw.order(deal, token: token, pass: pass, key: "same")
            let a = try #require(first.data?["createOrder"] as? [String: Any], "\(first.text)")
            let b = try #require(second.data?["createOrder"] as? [String: Any], "\(second.text)")
            #expect(a["id"] as? String == b["id"] as? String)
            #expect(b["replayed"] as? Bool == true)
            let sent = gw.sink.sent
            #expect(sent.count == 2)
            #expect(
                sent.count == 2 && sent[0].bytes == sent[1].bytes, "a replay publishes the first request, not a new one"
            )

            let conflicting = try await gw.order(deal, token: token, pass: pass, key: "same", quantity: 2)
            #expect(conflicting.codes == ["IDEMPOTENCY_CONFLICT"], "\(conflicting.text)")
            let other = try await gw.order(deal, token: token, pass: pass, key: "another")
            #expect(other.codes == ["PASS_USED"], "\(other.text)")
            #expect(other.firstExtensions["orderId"] as? String == a["id"] as? String)
            #expect(gw.sink.sent.count == 2)
        }
    }

    @Test func passesAreRequiredSignedForThisShopperAndExpire() async throws {
        try await G.with { gw in
            let deal = try gw.deal()
            let token = try await G.token(for: "ip-pass")
            let none = try await gw.order(deal, token: token, pass: nil, key: "k")
            #expect(none.codes == ["PASS_REQUIRED"], "\(none.text)")
            let forged = try await gw.order(deal, token: token, pass: "fdp1.bm90.YQ", key: "k")
            #expect(forged.codes == ["PASS_INVALID"], "\(forged.text)")

            let pass = try await gw.admit(deal, token: token)
            let someoneElse = try await G.token(for: "ip-other")
            let stolen = try await gw.order(deal, token: someoneElse, pass: pass, key: "k")
            #expect(stolen.codes == ["PASS_INVALID"], "\(stolen.text)")

            gw.clock.advance(gw.configuration.waitingRoom.passLifetime + .seconds(5))
            let late = try await gw.order(deal, token: token, pass: pass, key: "k")
            #expect(late.codes == ["PASS_EXPIRED"], "\(late.text)")
            #expect(gw.sink.sent.isEmpty)
        }
    }

    @Test func theDealsWindowStockAndLimitAreCheckedBeforeThePass() async throws {
        try await G.with { gw in
            let token = try await G.token(for: "ip-window")
            let later = try gw.deal(opensIn: .seconds(3_600))
            let notOpen = try await gw.order(later, token: token, pass: "x", key: "k")
            #expect(notOpen.codes == ["DEAL_NOT_OPEN"], "\(notOpen.text)")
            #expect(notOpen.firstExtensions["opensAt"] as? String != nil)

            let over = try gw.deal(opensIn: .seconds(-7_200), lasts: .seconds(3_600))
            #expect(try await gw.order(over, token: token, pass: "x", key: "k").codes == ["DEAL_ENDED"])

            let gone = try gw.deal()
            gw.deals.setRemaining(gone, 0)
            #expect(try await gw.order(gone, token: token, pass: "x", key: "k").codes == ["SOLD_OUT"])

            let open = try gw.deal(limit: 2)
            #expect(
                try await gw.order(open, token: token, pass: "x", key: "k", quantity: 3).codes == ["LIMIT_EXCEEDED"])
            #expect(try await gw.order(open, token: token, pass: "x", key: "k", quantity: 0).codes == ["BAD_REQUEST"])
            let unknown = try DealID("ip-no-such-deal")
            #expect(try await gw.order(unknown, token: token, pass: "x", key: "k").codes == ["NOT_FOUND"])
            #expect(gw.sink.sent.isEmpty)
        }
    }

    @Test func rateRefusalsAre429WithRetryAfterAndAQueuePolicySendsTheShopperToTheRoom() async throws {
        try await G.with { gw in
            let deal = try gw.deal()
            let token = try await G.token(for: "ip-rate")
            gw.limiter.answer("createOrder", .limited, policy: "orders-per-user", retryAfter: .seconds(3))
            let limited = try await gw.order(deal, token: token, pass: "x", key: "k")
            #expect(limited.status == 429, "\(limited.text)")
            #expect(limited.codes == ["RATE_LIMITED"])
            #expect(limited.firstExtensions["policy"] as? String == "orders-per-user")
            #expect(limited.headers[.retryAfter] == "3")

            gw.limiter.answer("createOrder", .queued)
            let queued = try await gw.order(deal, token: token, pass: "x", key: "k")
            #expect(queued.codes == ["QUEUED"], "\(queued.text)")
            let ticket = try #require(queued.firstExtensions["ticket"] as? String)
            let joined = try await gw.post(G.join, ["d": deal.rawValue], token: token)
            #expect((joined.data?["joinWaitingRoom"] as? [String: Any])?["ticket"] as? String == ticket)

            gw.limiter.answer("createOrder", .unavailable)
            let down = try await gw.order(deal, token: token, pass: "x", key: "k")
            #expect(down.codes == ["UNAVAILABLE"] && down.status == 503, "\(down.text)")
            #expect(gw.sink.sent.isEmpty)
        }
    }

    @Test func aShedOrderKeepsItsPassAndAnUnconfirmedOneIsSafeToRetry() async throws {
        try await G.with { gw in
            let deal = try gw.deal()
            let token = try await G.token(for: "ip-shed")
            let pass = try await gw.admit(deal, token: token)
            gw.sink.setOverloaded(.overloaded(inFlight: 9, queued: 0))
            let shed = try await gw.order(deal, token: token, pass: pass, key: "k")
            #expect(shed.codes == ["UNAVAILABLE"], "\(shed.text)")
            #expect(shed.firstExtensions["outcome"] as? String == "NOT_ACCEPTED")
            gw.sink.setOverloaded(nil)

            // Bound, then not confirmed by the log: the order is kept, and a retry is the same order.
            gw.sink.setFailure(.outcomeUnknown("timed out"))
            let unknown = try await gw.order(deal, token: token, pass: pass, key: "k")
            #expect(unknown.codes == ["UNAVAILABLE"], "\(unknown.text)")
            #expect(unknown.firstExtensions["outcome"] as? String == "UNKNOWN")
            #expect(gw.kept.pending == 1)
            gw.sink.setFailure(nil)
            let retry = try await gw.order(deal, token: token, pass: pass, key: "k")
            #expect((retry.data?["createOrder"] as? [String: Any])?["replayed"] as? Bool == true, "\(retry.text)")
            #expect(gw.sink.sent.count == 1)
            // The retry's acknowledgement ends the gateway's own redelivery: no second copy.
            #expect(gw.kept.pending == 0)
            await gw.kept.attempt(dueBy: .now + .seconds(10))
            #expect(gw.sink.sent.count == 1)
        }
    }

    @Test func aKeptOrderWhoseShopperNeverRetriesIsSentByTheGatewayOnceTheBrokerIsBack() async throws {
        try await G.with { gw in
            let deal = try gw.deal()
            let token = try await G.token(for: "ip-kept")
            let pass = try await gw.admit(deal, token: token)
            gw.sink.setFailure(.outcomeUnknown("timed out"))
            let unknown = try await gw.order(deal, token: token, pass: pass, key: "k")
            #expect(unknown.firstExtensions["outcome"] as? String == "UNKNOWN", "\(unknown.text)")
            let orderId = try #require(unknown.firstExtensions["orderId"] as? String)
            await gw.kept.attempt(dueBy: .now + .seconds(10))
            #expect(gw.sink.sent.isEmpty && gw.kept.pending == 1)

            // Even if Redis has lost the binding and the stored request, the gateway still sends it.
            gw.sink.setFailure(nil)
            await gw.kept.attempt(dueBy: .now + .seconds(10))
            let sent = try #require(gw.sink.sent.first)
            #expect(gw.sink.sent.count == 1 && sent.event.orderId?.rawValue == orderId && gw.kept.pending == 0)
            let stored = try #require(gw.room.storedRequest(try OrderID(orderId), deal: deal))
            #expect(sent.bytes == stored)
            #expect(gw.metric("flashdeal_gateway_kept_requests_total{result=\"delivered\"}") == 1)
        }
    }

    @Test func aDependencyThatIsDownIsUnavailableAndNoInternalTextReachesTheShopper() async throws {
        try await G.with { gw in
            let deal = try gw.deal()
            let token = try await G.token(for: "ip-down")
            gw.room.setDown(true)
            let join = try await gw.post(G.join, ["d": deal.rawValue], token: token)
            #expect(join.codes == ["UNAVAILABLE"], "\(join.text)")
            #expect(join.status == 503)
            #expect(!join.text.contains("twin") && !join.text.contains("down ("), "\(join.text)")
            gw.room.setDown(false)

            gw.deals.setDown(true)
            let order = try await gw.order(deal, token: token, pass: "x", key: "k")
            #expect(order.codes == ["UNAVAILABLE"], "\(order.text)")
            #expect(!order.text.contains("twin"), "\(order.text)")
        }
    }

    @Test func ordersAreReadForTheirOwnerOnlyAndAnUnreadableOneIsAnInternalError() async throws {
        try await G.with { gw in
            let deal = try gw.deal()
            let user = try UserID("ip-reader")
            let key = try IdempotencyKey("k")
            let id = OrderID.derive(userId: user, dealId: deal, idempotencyKey: key)
            gw.orders.store(
                OrderDocument(
                    orderId: id, dealId: deal, userId: user, quantity: 1, idempotencyKey: key,
                    status: .confirmed, reason: nil, createdAt: gw.clock.now, updatedAt: gw.clock.now))
            let mine = try await gw.post(G.order, ["id": id.rawValue], token: try await G.token(for: "ip-reader"))
            let order = try #require(mine.data?["order"] as? [String: Any], "\(mine.text)")
            #expect(order["status"] as? String == "CONFIRMED" && order["quantity"] as? Int == 1)
            let theirs = try await gw.post(G.order, ["id": id.rawValue], token: try await G.token(for: "ip-someone"))
            #expect(theirs.data?["order"] is NSNull, "\(theirs.text)")

            // Cancelling a confirmed order asks the worker (the log); a rejected one cannot be cancelled.
            let cancel = try await gw.post(G.cancel, ["id": id.rawValue], token: try await G.token(for: "ip-reader"))
            #expect((cancel.data?["cancelOrder"] as? [String: Any])?["id"] as? String == id.rawValue, "\(cancel.text)")
            guard case .orderCancellationRequested(let asked)? = gw.sink.sent.last?.event else {
                Issue.record("no cancellation request sent: \(gw.sink.sent.map(\.event))")
                return
            }
            #expect(asked.orderId == id && asked.userId == user)

            let rejectedId = OrderID.derive(userId: user, dealId: deal, idempotencyKey: try IdempotencyKey("r"))
            gw.orders.store(
                OrderDocument(
                    orderId: rejectedId, dealId: deal, userId: user, quantity: 1,
                    idempotencyKey: try IdempotencyKey("r"), status: .rejected, reason: "SOLD_OUT",
                    createdAt: gw.clock.now, updatedAt: gw.clock.now))
            let refused = try await gw.post(
                G.cancel, ["id": rejectedId.rawValue], token: try await G.token(for: "ip-reader"))
            #expect(refused.codes == ["BAD_REQUEST"], "\(refused.text)")

            let broken = OrderID.derive(userId: user, dealId: deal, idempotencyKey: try IdempotencyKey("b"))
            gw.orders.storeUnreadable(broken)
            let unreadable = try await gw.post(
                G.order, ["id": broken.rawValue], token: try await G.token(for: "ip-reader"))
            #expect(unreadable.codes == ["INTERNAL"], "\(unreadable.text)")
            #expect(!unreadable.text.contains("contract field"), "\(unreadable.text)")
        }
    }

    @Test func joiningTwiceKeepsOnePlaceAndTheRoomAnswersForEveryPhase() async throws {
        try await G.with { gw in
            let token = try await G.token(for: "ip-joiner")
            let deal = try gw.deal()
            let first = try await gw.post(G.join, ["d": deal.rawValue], token: token)
            let again = try await gw.post(G.join, ["d": deal.rawValue], token: token)
            let a = try #require(first.data?["joinWaitingRoom"] as? [String: Any], "\(first.text)")
            let b = try #require(again.data?["joinWaitingRoom"] as? [String: Any], "\(again.text)")
            #expect(a["ticket"] as? String == b["ticket"] as? String)
            #expect(a["alreadyJoined"] as? Bool == false && b["alreadyJoined"] as? Bool == true)

            let far = try gw.deal(opensIn: .seconds(7_200))
            #expect(try await gw.post(G.join, ["d": far.rawValue], token: token).codes == ["DEAL_NOT_OPEN"])
            let ended = try gw.deal(opensIn: .seconds(-7_200), lasts: .seconds(3_600))
            #expect(try await gw.post(G.join, ["d": ended.rawValue], token: token).codes == ["DEAL_ENDED"])
            let unknown = try await gw.post(G.join, ["d": "ip-unknown-deal"], token: token)
            #expect(unknown.codes == ["NOT_FOUND"], "\(unknown.text)")
            let anonymous = try await gw.post(G.join, ["d": deal.rawValue], token: nil)
            #expect(anonymous.codes == ["UNAUTHENTICATED"], "\(anonymous.text)")
        }
    }
}
