import Domain
import Foundation
import Testing

@Suite("Order")
struct OrderTests {
    @Test("request derives the id and emits OrderRequested")
    func request() throws {
        let (order, event) = try Order.request(
            dealId: deal("deal-7"), userId: user("user-42"), quantity: 2,
            idempotencyKey: key("idem-2026-0001"), at: reference)
        #expect(order.id.rawValue == "ord_f5d1b74df7a1c97ee5374ec1797a9728")
        #expect(order.status == .pending && order.version == 1)
        guard case .orderRequested(let requested) = event else {
            Issue.record("wrong event \(event)")
            return
        }
        #expect(requested.orderId == order.id && requested.quantity == 2 && requested.requestedAt == reference)
        #expect(requested.eventId == EventID.derive(type: .orderRequested, orderId: order.id))
    }

    @Test("quantity below one is rejected")
    func invalidQuantity() {
        #expect(throws: OrderValidationError.invalidQuantity(0)) { try makeOrder(quantity: 0) }
    }

    @Test("status raw values are the wire spelling")
    func rawValues() {
        #expect(OrderStatus.allCases.map(\.rawValue) == ["PENDING", "CONFIRMED", "REJECTED", "FAILED", "CANCELLED"])
    }

    @Test("PENDING → CONFIRMED emits OrderConfirmed")
    func confirm() throws {
        var order = try makeOrder()
        let events = try order.confirm(at: at(1))
        #expect(order.state == .confirmed && order.version == 2 && order.updatedAt == at(1))
        #expect(events.map(\.type) == [.orderConfirmed])
        #expect(events.first?.eventId == EventID.derive(type: .orderConfirmed, orderId: order.id))
    }

    @Test("PENDING → REJECTED emits OrderRejected with the reason", arguments: RejectionReason.allCases)
    func reject(reason: RejectionReason) throws {
        var order = try makeOrder()
        let events = try order.reject(reason, at: at(1))
        #expect(order.state == .rejected(reason))
        guard case .orderRejected(let rejected)? = events.first, events.count == 1 else {
            Issue.record("\(events)")
            return
        }
        #expect(rejected.reason == reason)
    }

    @Test("PENDING → FAILED emits OrderFailed, plus StockReleased(FAILED) when stock was held")
    func fail() throws {
        var plain = try makeOrder()
        #expect(
            try plain.fail(reason: "mongo unavailable", stockWasReserved: false, at: at(1)).map(\.type) == [
                .orderFailed
            ])
        #expect(plain.state == .failed(reason: "mongo unavailable"))

        var compensated = try makeOrder(keyRaw: "idem-2")
        let events = try compensated.fail(reason: " ", stockWasReserved: true, at: at(1))
        #expect(events.map(\.type) == [.orderFailed, .stockReleased])
        #expect(compensated.state == .failed(reason: "UNSPECIFIED"))
        guard case .stockReleased(let released)? = events.last else {
            Issue.record("no StockReleased in \(events)")
            return
        }
        #expect(released.reason == .failed && released.quantity == 1)
    }

    @Test(
        "CONFIRMED → CANCELLED releases stock as CANCELLED or EXPIRED",
        arguments: [
            (CancellationReason.shopper, StockReleaseReason.cancelled), (.expired, .expired),
        ])
    func cancel(reason: CancellationReason, released: StockReleaseReason) throws {
        var order = try makeOrder()
        _ = try order.confirm(at: at(1))
        let events = try order.cancel(reason, at: at(2))
        #expect(order.state == .cancelled(reason) && order.version == 3)
        guard case .stockReleased(let event)? = events.first, events.count == 1 else {
            Issue.record("\(events)")
            return
        }
        #expect(event.reason == released)
    }

    @Test("applying RESERVED confirms with StockReserved then OrderConfirmed; rejections reject")
    func applyOutcome() throws {
        var reserved = try makeOrder()
        #expect(try reserved.apply(.reserved, at: at(1)).map(\.type) == [.stockReserved, .orderConfirmed])
        var rejected = try makeOrder(keyRaw: "idem-2")
        #expect(try rejected.apply(.limitExceeded, at: at(1)).map(\.type) == [.orderRejected])
        #expect(rejected.state == .rejected(.limitExceeded))
    }

    @Test("illegal transitions throw with from/to and leave the order untouched")
    func illegalTransitions() throws {
        var order = try makeOrder()
        #expect(throws: OrderTransitionError(orderId: order.id, from: .pending, to: .cancelled)) {
            try order.cancel(.shopper, at: at(1))
        }
        _ = try order.reject(.soldOut, at: at(1))
        let frozen = order
        #expect(throws: OrderTransitionError(orderId: order.id, from: .rejected, to: .confirmed)) {
            try order.confirm(at: at(2))
        }
        #expect(throws: OrderTransitionError(orderId: order.id, from: .rejected, to: .failed)) {
            try order.fail(reason: "x", stockWasReserved: false, at: at(2))
        }
        #expect(order == frozen)

        var confirmed = try makeOrder(keyRaw: "idem-3")
        _ = try confirmed.confirm(at: at(1))
        #expect(throws: OrderTransitionError(orderId: confirmed.id, from: .confirmed, to: .confirmed)) {
            try confirmed.confirm(at: at(2))
        }
        #expect(throws: OrderTransitionError(orderId: confirmed.id, from: .confirmed, to: .rejected)) {
            try confirmed.apply(.soldOut, at: at(2))
        }
    }

    @Test("rehydration checks the id against its derivation")
    func rehydration() throws {
        let order = try makeOrder()
        let other = OrderID.derive(
            userId: try user("someone-else"), dealId: order.dealId, idempotencyKey: order.idempotencyKey)
        #expect(throws: OrderValidationError.orderIdMismatch(expected: order.id, actual: other)) {
            try Order(
                id: other, dealId: order.dealId, userId: order.userId, quantity: 1,
                idempotencyKey: order.idempotencyKey,
                requestedAt: reference, state: .pending, updatedAt: reference, version: 1)
        }
        #expect(throws: OrderValidationError.versionBelowOne(0)) {
            try Order(
                id: order.id, dealId: order.dealId, userId: order.userId, quantity: 1,
                idempotencyKey: order.idempotencyKey,
                requestedAt: reference, state: .pending, updatedAt: reference, version: 0)
        }
    }

    @Test("stored JSON keeps status and reason and round trips")
    func codable() throws {
        var order = try makeOrder()
        _ = try order.confirm(at: at(1))
        _ = try order.cancel(.expired, at: at(2))
        let data = try JSONEncoder().encode(order)
        let json = String(decoding: data, as: UTF8.self)
        #expect(json.contains("\"status\":\"CANCELLED\"") && json.contains("\"cancellationReason\":\"EXPIRED\""))
        #expect(try JSONDecoder().decode(Order.self, from: data) == order)
    }
}
