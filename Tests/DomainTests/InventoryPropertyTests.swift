import Domain
import PropertyBased
import Testing

/// One step of a random inventory workload. Orders are named by (shopper, key) so the same
/// order comes up again and again: replays, confirms and releases of old orders.
enum InventoryStep: Sendable, CustomStringConvertible {
    case reserve(user: Int, key: Int, quantity: Int)
    case confirm(user: Int, key: Int)
    case release(user: Int, key: Int, reason: StockReleaseReason)
    case close

    var description: String {
        switch self {
        case .reserve(let u, let k, let q): "reserve(u\(u),k\(k),q\(q))"
        case .confirm(let u, let k): "confirm(u\(u),k\(k))"
        case .release(let u, let k, let r): "release(u\(u),k\(k),\(r.rawValue))"
        case .close: "close"
        }
    }
}

let inventoryStep = zip(Gen.int(in: 0...40), Gen.int(in: 0...3), Gen.int(in: 0...4), Gen.int(in: 1...4))
    .map { (step: (Int, Int, Int, Int)) -> InventoryStep in
        let (kind, u, k, q) = step
        switch kind {
        case 0..<20: return .reserve(user: u, key: k, quantity: q)
        case 20..<28: return .confirm(user: u, key: k)
        case 28..<40: return .release(user: u, key: k, reason: StockReleaseReason.allCases[q % 3])
        default: return .close
        }
    }

@Suite("Inventory properties")
struct InventoryPropertyTests {
    @Test("stock is conserved, never oversold, limits hold, replays answer as the first time")
    func conservation() async throws {
        let dealId = try deal("deal-7")
        let users = try (0..<4).map { try user("u\($0)") }
        let keys = try (0..<5).map { try key("k\($0)") }
        func orderId(_ u: Int, _ k: Int) -> OrderID {
            OrderID.derive(userId: users[u], dealId: dealId, idempotencyKey: keys[k])
        }

        await propertyCheck(count: 300, input: Gen.int(in: 1...12), Gen.int(in: 1...4), inventoryStep.array(of: 0...60))
        {
            total, limit, steps in
            failOnThrow {
                var inv = try Inventory(dealId: dealId, totalStock: total, perCustomerLimit: limit)
                var firstAnswer: [OrderID: ReservationOutcome] = [:]

                for step in steps {
                    let before = inv
                    switch step {
                    case .reserve(let u, let k, let q):
                        let id = orderId(u, k)
                        let outcome = try inv.reserve(order: id, user: users[u], quantity: q)
                        if let first = firstAnswer[id] {
                            #expect(outcome == first, "replay of \(step)")
                            #expect(inv == before, "replay changed state: \(step)")
                            continue
                        }
                        firstAnswer[id] = outcome
                        let held = before.held(by: users[u])
                        switch outcome {
                        case .reserved:
                            #expect(!before.isClosed && held + q <= limit && q <= before.remaining)
                            #expect(inv.remaining == before.remaining - q)
                            #expect(inv.held(by: users[u]) == held + q)
                        case .dealClosed:
                            #expect(before.isClosed)
                        case .limitExceeded:
                            #expect(!before.isClosed && held + q > limit)
                        case .soldOut:
                            #expect(!before.isClosed && held + q <= limit && q > before.remaining)
                        }
                        if outcome != .reserved { #expect(inv.remaining == before.remaining) }

                    case .confirm(let u, let k):
                        let id = orderId(u, k)
                        switch (firstAnswer[id], before.reservation(for: id)?.state) {
                        case (nil, _):
                            #expect(throws: InventoryError.unknownReservation(id)) { try inv.confirm(id) }
                        case (.reserved, .released?):
                            #expect(throws: InventoryError.reservationReleased(id)) { try inv.confirm(id) }
                        case (.reserved, _):
                            #expect(try inv.confirm(id).state == .confirmed)
                            #expect(inv.remaining == before.remaining)
                        case (let rejected?, _):
                            #expect(throws: InventoryError.reservationRejected(id, rejected.rejectionReason!)) {
                                try inv.confirm(id)
                            }
                        }

                    case .release(let u, let k, let reason):
                        let id = orderId(u, k)
                        switch (firstAnswer[id], before.reservation(for: id)) {
                        case (nil, _):
                            #expect(throws: InventoryError.unknownReservation(id)) {
                                try inv.release(id, reason: reason)
                            }
                        case (.reserved, let reservation?) where reservation.state.holdsStock:
                            guard case .released = try inv.release(id, reason: reason) else {
                                Issue.record("held reservation was not released: \(step)")
                                continue
                            }
                            #expect(inv.remaining == before.remaining + reservation.quantity)
                        case (.reserved, _):
                            guard case .alreadyReleased = try inv.release(id, reason: reason) else {
                                Issue.record("second release was not a no-op: \(step)")
                                continue
                            }
                            #expect(inv == before)
                        case (let rejected?, _):
                            #expect(throws: InventoryError.reservationRejected(id, rejected.rejectionReason!)) {
                                try inv.release(id, reason: reason)
                            }
                        }

                    case .close:
                        inv.close()
                    }

                    #expect(inv.checkInvariants().isEmpty, "after \(step): \(inv.checkInvariants())")
                    #expect(inv.remaining >= 0 && inv.remaining <= total)
                    let live = inv.reservations.filter { $0.state.holdsStock }
                    #expect(live.reduce(0) { $0 + $1.quantity } == total - inv.remaining, "conservation after \(step)")
                    for u in users {
                        let units = live.filter { $0.userId == u }.reduce(0) { $0 + $1.quantity }
                        #expect(units <= limit && units == inv.held(by: u))
                    }
                }
            }
        }
    }
}
