import Domain
import Foundation
import Testing

@Suite("Inventory")
struct InventoryTests {
    private func order(_ u: String, _ k: String = "k1") throws -> OrderID {
        OrderID.derive(userId: try user(u), dealId: try deal("deal-7"), idempotencyKey: try key(k))
    }

    private func inventory(stock: Int = 5, limit: Int = 2) throws -> Inventory {
        try Inventory(dealId: deal("deal-7"), totalStock: stock, perCustomerLimit: limit)
    }

    @Test("configuration is validated")
    func configuration() throws {
        #expect(throws: InventoryError.invalidTotalStock(0)) { try inventory(stock: 0) }
        #expect(throws: InventoryError.invalidPerCustomerLimit(0)) { try inventory(limit: 0) }
        let fromDeal = Inventory(deal: try makeDeal(totalStock: 3, perCustomerLimit: 1))
        #expect(fromDeal.remaining == 3 && fromDeal.perCustomerLimit == 1 && !fromDeal.isClosed)
    }

    @Test("reserving takes stock and counts it against the shopper")
    func reserve() throws {
        var inv = try inventory()
        let o = try order("alice")
        #expect(try inv.reserve(order: o, user: user("alice"), quantity: 2) == .reserved)
        #expect(inv.remaining == 3)
        #expect(inv.held(by: try user("alice")) == 2)
        #expect(inv.reservation(for: o)?.state == .reserved)
        #expect(inv.checkInvariants().isEmpty)
    }

    @Test("quantity must be at least one")
    func invalidQuantity() throws {
        var inv = try inventory()
        #expect(throws: InventoryError.invalidQuantity(0)) {
            try inv.reserve(order: order("a"), user: user("a"), quantity: 0)
        }
        #expect(inv.remaining == 5)
    }

    @Test("all or nothing: asking for more than remains is SOLD_OUT and takes nothing")
    func soldOut() throws {
        var inv = try inventory(stock: 3, limit: 3)
        #expect(try inv.reserve(order: order("a"), user: user("a"), quantity: 2) == .reserved)
        #expect(try inv.reserve(order: order("b"), user: user("b"), quantity: 2) == .soldOut)
        #expect(inv.remaining == 1)
        #expect(try inv.reserve(order: order("c"), user: user("c"), quantity: 1) == .reserved)
        #expect(inv.isSoldOut)
        #expect(try inv.reserve(order: order("d"), user: user("d"), quantity: 1) == .soldOut)
    }

    @Test("per-customer limit counts units across orders")
    func limitExceeded() throws {
        var inv = try inventory(stock: 10, limit: 2)
        #expect(try inv.reserve(order: order("a", "k1"), user: user("a"), quantity: 1) == .reserved)
        #expect(try inv.reserve(order: order("a", "k2"), user: user("a"), quantity: 2) == .limitExceeded)
        #expect(try inv.reserve(order: order("a", "k3"), user: user("a"), quantity: 1) == .reserved)
        #expect(inv.held(by: try user("a")) == 2)
    }

    @Test("limit is checked before stock, closure before both")
    func checkOrder() throws {
        var inv = try inventory(stock: 1, limit: 1)
        #expect(try inv.reserve(order: order("a"), user: user("a"), quantity: 2) == .limitExceeded)
        inv.close()
        #expect(try inv.reserve(order: order("b"), user: user("b"), quantity: 1) == .dealClosed)
    }

    @Test("a replay returns the first answer, including a rejection, and changes nothing")
    func idempotentReplay() throws {
        var inv = try inventory(stock: 1, limit: 1)
        let late = try order("late")
        #expect(try inv.reserve(order: order("a"), user: user("a"), quantity: 1) == .reserved)
        #expect(try inv.reserve(order: late, user: user("late"), quantity: 1) == .soldOut)
        try inv.release(order("a"), reason: .cancelled)
        let before = inv
        #expect(try inv.reserve(order: late, user: user("late"), quantity: 1) == .soldOut)
        #expect(inv == before)
        #expect(try inv.reserve(order: order("a"), user: user("a"), quantity: 1) == .reserved)
        #expect(inv == before, "replaying a released reservation must not take stock again")
        #expect(inv.outcome(for: late) == .soldOut)
    }

    @Test("confirm marks the reservation and is repeatable")
    func confirm() throws {
        var inv = try inventory()
        let o = try order("a")
        _ = try inv.reserve(order: o, user: user("a"), quantity: 1)
        #expect(try inv.confirm(o).state == .confirmed)
        #expect(try inv.confirm(o).state == .confirmed)
        #expect(inv.remaining == 4)
    }

    @Test("confirm refuses unknown, rejected and released orders")
    func confirmErrors() throws {
        var inv = try inventory(stock: 1, limit: 1)
        let a = try order("a")
        let b = try order("b")
        let ghost = try order("ghost")
        _ = try inv.reserve(order: a, user: user("a"), quantity: 1)
        _ = try inv.reserve(order: b, user: user("b"), quantity: 1)
        try inv.release(a, reason: .failed)
        #expect(throws: InventoryError.unknownReservation(ghost)) { try inv.confirm(ghost) }
        #expect(throws: InventoryError.reservationRejected(b, .soldOut)) { try inv.confirm(b) }
        #expect(throws: InventoryError.reservationReleased(a)) { try inv.confirm(a) }
    }

    @Test("release returns stock once, for reserved and confirmed orders")
    func release() throws {
        var inv = try inventory()
        let a = try order("a")
        let b = try order("b")
        _ = try inv.reserve(order: a, user: user("a"), quantity: 2)
        _ = try inv.reserve(order: b, user: user("b"), quantity: 1)
        try inv.confirm(b)
        guard case .released(let released) = try inv.release(a, reason: .failed) else {
            Issue.record("not released")
            return
        }
        #expect(released.state == .released(.failed))
        guard case .released = try inv.release(b, reason: .expired) else {
            Issue.record("not released")
            return
        }
        #expect(inv.remaining == 5)
        let again = try inv.release(a, reason: .cancelled)
        #expect(
            again
                == .alreadyReleased(
                    Reservation(orderId: a, userId: try user("a"), quantity: 2, state: .released(.failed))))
        #expect(inv.remaining == 5)
        #expect(inv.held(by: try user("a")) == 0)
        #expect(inv.checkInvariants().isEmpty)
    }

    @Test("release refuses orders that never held stock")
    func releaseErrors() throws {
        var inv = try inventory(stock: 1, limit: 1)
        let b = try order("b")
        let ghost = try order("ghost")
        _ = try inv.reserve(order: order("a"), user: user("a"), quantity: 1)
        _ = try inv.reserve(order: b, user: user("b"), quantity: 1)
        #expect(throws: InventoryError.unknownReservation(ghost)) { try inv.release(ghost, reason: .failed) }
        #expect(throws: InventoryError.reservationRejected(b, .soldOut)) { try inv.release(b, reason: .failed) }
    }

    @Test("close stops new reservations but not confirm or release")
    func close() throws {
        var inv = try inventory()
        let a = try order("a")
        _ = try inv.reserve(order: a, user: user("a"), quantity: 1)
        let closedNow = inv.close()
        let closedAgain = inv.close()
        #expect(closedNow && !closedAgain)
        #expect(try inv.reserve(order: order("b"), user: user("b"), quantity: 1) == .dealClosed)
        try inv.confirm(a)
        try inv.release(a, reason: .cancelled)
        #expect(inv.remaining == 5)
    }

    @Test("snapshot round trips through JSON and restores the same inventory")
    func snapshot() throws {
        var inv = try inventory(stock: 5, limit: 3)
        _ = try inv.reserve(order: order("a"), user: user("a"), quantity: 2)
        _ = try inv.reserve(order: order("b"), user: user("b"), quantity: 3)
        try inv.confirm(order("b"))
        try inv.release(order("a"), reason: .expired)
        let data = try JSONEncoder().encode(inv.snapshot)
        let restored = Inventory(restoring: try JSONDecoder().decode(InventorySnapshot.self, from: data))
        #expect(restored == inv)
    }

    @Test("checkInvariants reports each kind of corruption")
    func invariantViolations() throws {
        var inv = try inventory(stock: 5, limit: 2)
        let a = try order("a")
        let alice = try user("a")
        _ = try inv.reserve(order: a, user: alice, quantity: 2)
        var snap = inv.snapshot
        snap.remaining = 4
        #expect(Inventory(restoring: snap).checkInvariants() == [.stockNotConserved(total: 5, remaining: 4, held: 2)])

        snap = inv.snapshot
        snap.remaining = -1
        snap.totalStock = 1
        #expect(Inventory(restoring: snap).checkInvariants().contains(.negativeRemaining(-1)))

        snap = inv.snapshot
        snap.remaining = 9
        #expect(Inventory(restoring: snap).checkInvariants().contains(.remainingExceedsTotal(remaining: 9, total: 5)))

        snap = inv.snapshot
        snap.heldByCustomer[alice] = 1
        #expect(Inventory(restoring: snap).checkInvariants() == [.customerCountMismatch(alice, recorded: 1, actual: 2)])

        snap = inv.snapshot
        snap.perCustomerLimit = 1
        #expect(Inventory(restoring: snap).checkInvariants() == [.customerLimitExceeded(alice, held: 2, limit: 1)])

        snap = inv.snapshot
        snap.rejections[a] = .soldOut
        #expect(Inventory(restoring: snap).checkInvariants() == [.orderBothReservedAndRejected(a)])

        snap = inv.snapshot
        snap.reservations = [Reservation(orderId: a, userId: alice, quantity: 0, state: .reserved)]
        snap.remaining = 5
        snap.heldByCustomer = [:]
        #expect(Inventory(restoring: snap).checkInvariants() == [.nonPositiveReservationQuantity(a, 0)])
        #expect(!InvariantViolation.negativeRemaining(-1).description.isEmpty)
    }
}
