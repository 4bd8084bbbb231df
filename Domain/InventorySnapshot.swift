/// Plain-data image of an `Inventory`, e.g. read back from Redis, to be checked or compared.
public struct InventorySnapshot: Hashable, Sendable, Codable {
    public var dealId: DealID
    public var totalStock: Int
    public var perCustomerLimit: Int
    public var remaining: Int
    public var isClosed: Bool
    public var reservations: [Reservation]
    public var rejections: [OrderID: RejectionReason]
    public var heldByCustomer: [UserID: Int]

    public init(
        dealId: DealID, totalStock: Int, perCustomerLimit: Int, remaining: Int, isClosed: Bool,
        reservations: [Reservation], rejections: [OrderID: RejectionReason], heldByCustomer: [UserID: Int]
    ) {
        self.dealId = dealId
        self.totalStock = totalStock
        self.perCustomerLimit = perCustomerLimit
        self.remaining = remaining
        self.isClosed = isClosed
        self.reservations = reservations
        self.rejections = rejections
        self.heldByCustomer = heldByCustomer
    }
}

extension Inventory {
    public var snapshot: InventorySnapshot {
        InventorySnapshot(
            dealId: dealId, totalStock: totalStock, perCustomerLimit: perCustomerLimit, remaining: remaining,
            isClosed: isClosed, reservations: reservations, rejections: rejections, heldByCustomer: heldByCustomer)
    }

    /// Rebuilds an inventory from stored data as-is. Nothing is validated here so that a corrupt
    /// image can still be loaded and diagnosed with `checkInvariants()`.
    public init(restoring snapshot: InventorySnapshot) {
        dealId = snapshot.dealId
        totalStock = snapshot.totalStock
        perCustomerLimit = snapshot.perCustomerLimit
        remaining = snapshot.remaining
        isClosed = snapshot.isClosed
        reservationsByOrder = Dictionary(
            snapshot.reservations.map { ($0.orderId, $0) }, uniquingKeysWith: { a, _ in a })
        rejections = snapshot.rejections
        heldByCustomer = snapshot.heldByCustomer.filter { $0.value != 0 }
    }

    /// Every broken rule, in a stable order; empty when the inventory is consistent.
    public func checkInvariants() -> [InvariantViolation] {
        var violations: [InvariantViolation] = []
        if remaining < 0 { violations.append(.negativeRemaining(remaining)) }
        if remaining > totalStock { violations.append(.remainingExceedsTotal(remaining: remaining, total: totalStock)) }
        for reservation in reservations where reservation.quantity < 1 {
            violations.append(.nonPositiveReservationQuantity(reservation.orderId, reservation.quantity))
        }
        let held = heldQuantity
        if totalStock != remaining + held {
            violations.append(.stockNotConserved(total: totalStock, remaining: remaining, held: held))
        }
        var actualByCustomer: [UserID: Int] = [:]
        for reservation in reservationsByOrder.values where reservation.heldQuantity != 0 {
            actualByCustomer[reservation.userId, default: 0] += reservation.heldQuantity
        }
        for user in Set(actualByCustomer.keys).union(heldByCustomer.keys).sorted() {
            let recorded = heldByCustomer[user] ?? 0
            let actual = actualByCustomer[user] ?? 0
            if recorded != actual {
                violations.append(.customerCountMismatch(user, recorded: recorded, actual: actual))
            }
            if actual > perCustomerLimit {
                violations.append(.customerLimitExceeded(user, held: actual, limit: perCustomerLimit))
            }
        }
        for order in rejections.keys.sorted() where reservationsByOrder[order] != nil {
            violations.append(.orderBothReservedAndRejected(order))
        }
        return violations
    }
}
