/// Stock of one deal and every reservation taken against it.
///
/// At run time the authoritative copy lives in Redis; this type is the reference model those
/// scripts must agree with. Invariant: `totalStock == remaining + Σ held quantities`, each
/// shopper holds at most `perCustomerLimit` units, and every order id gets exactly one answer.
public struct Inventory: Hashable, Sendable {
    public let dealId: DealID
    public let totalStock: Int
    public let perCustomerLimit: Int
    public private(set) var remaining: Int
    public private(set) var isClosed: Bool
    private var reservationsByOrder: [OrderID: Reservation]
    private var rejections: [OrderID: RejectionReason]
    private var heldByCustomer: [UserID: Int]

    public init(deal: Deal) {
        self.init(uncheckedDealId: deal.id, totalStock: deal.totalStock, perCustomerLimit: deal.perCustomerLimit)
    }

    public init(dealId: DealID, totalStock: Int, perCustomerLimit: Int) throws(InventoryError) {
        guard totalStock > 0 else { throw .invalidTotalStock(totalStock) }
        guard perCustomerLimit >= 1 else { throw .invalidPerCustomerLimit(perCustomerLimit) }
        self.init(uncheckedDealId: dealId, totalStock: totalStock, perCustomerLimit: perCustomerLimit)
    }

    private init(uncheckedDealId dealId: DealID, totalStock: Int, perCustomerLimit: Int) {
        self.dealId = dealId
        self.totalStock = totalStock
        self.perCustomerLimit = perCustomerLimit
        self.remaining = totalStock
        self.isClosed = false
        self.reservationsByOrder = [:]
        self.rejections = [:]
        self.heldByCustomer = [:]
    }

    // MARK: Commands

    /// Takes `quantity` units for `order`, all or nothing.
    ///
    /// Checks run in this order: closed deal → `DEAL_CLOSED`; shopper would exceed the
    /// per-customer limit → `LIMIT_EXCEEDED`; fewer than `quantity` units left → `SOLD_OUT`.
    /// Idempotent per order id: a replay returns the first answer (rejections included) and
    /// changes nothing, even if the deal or stock has changed since.
    public mutating func reserve(order: OrderID, user: UserID, quantity: Int) throws(InventoryError) -> ReservationOutcome {
        if let first = outcome(for: order) { return first }
        guard quantity >= 1 else { throw .invalidQuantity(quantity) }
        let rejection: RejectionReason? =
            if isClosed { .dealClosed }
            else if held(by: user) + quantity > perCustomerLimit { .limitExceeded }
            else if quantity > remaining { .soldOut }
            else { nil }
        if let rejection {
            rejections[order] = rejection
            return ReservationOutcome(rejection)
        }
        remaining -= quantity
        heldByCustomer[user, default: 0] += quantity
        reservationsByOrder[order] = Reservation(orderId: order, userId: user, quantity: quantity, state: .reserved)
        return .reserved
    }

    /// Marks a reservation as confirmed (the order was accepted). Repeating it is harmless.
    @discardableResult
    public mutating func confirm(_ order: OrderID) throws(InventoryError) -> Reservation {
        var reservation = try existingReservation(order)
        switch reservation.state {
        case .confirmed: return reservation
        case .released: throw .reservationReleased(order)
        case .reserved:
            reservation.state = .confirmed
            reservationsByOrder[order] = reservation
            return reservation
        }
    }

    /// Puts a reserved or confirmed order's units back into `remaining`. Repeating it returns
    /// `.alreadyReleased` and changes nothing.
    @discardableResult
    public mutating func release(_ order: OrderID, reason: StockReleaseReason) throws(InventoryError) -> ReleaseOutcome {
        var reservation = try existingReservation(order)
        guard reservation.state.holdsStock else { return .alreadyReleased(reservation) }
        remaining += reservation.quantity
        let left = heldByCustomer[reservation.userId, default: 0] - reservation.quantity
        heldByCustomer[reservation.userId] = left == 0 ? nil : left
        reservation.state = .released(reason)
        reservationsByOrder[order] = reservation
        return .released(reservation)
    }

    /// Stops new reservations (`DEAL_CLOSED` from now on); confirm and release keep working.
    /// Returns `false` if it was already closed.
    @discardableResult
    public mutating func close() -> Bool {
        defer { isClosed = true }
        return !isClosed
    }

    // MARK: Queries

    public func outcome(for order: OrderID) -> ReservationOutcome? {
        if reservationsByOrder[order] != nil { return .reserved }
        return rejections[order].map(ReservationOutcome.init)
    }

    public func reservation(for order: OrderID) -> Reservation? { reservationsByOrder[order] }

    /// All reservations, ordered by order id.
    public var reservations: [Reservation] { reservationsByOrder.values.sorted { $0.orderId < $1.orderId } }

    /// Units `user` currently holds (reserved or confirmed).
    public func held(by user: UserID) -> Int { heldByCustomer[user] ?? 0 }

    /// Units held across all shoppers.
    public var heldQuantity: Int { reservationsByOrder.values.reduce(0) { $0 + $1.heldQuantity } }

    public var isSoldOut: Bool { remaining == 0 }

    private func existingReservation(_ order: OrderID) throws(InventoryError) -> Reservation {
        if let reservation = reservationsByOrder[order] { return reservation }
        if let reason = rejections[order] { throw .reservationRejected(order, reason) }
        throw .unknownReservation(order)
    }
}

// MARK: - Snapshots and invariants

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
        reservationsByOrder = Dictionary(snapshot.reservations.map { ($0.orderId, $0) }, uniquingKeysWith: { a, _ in a })
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
            if recorded != actual { violations.append(.customerCountMismatch(user, recorded: recorded, actual: actual)) }
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

public enum InvariantViolation: Hashable, Sendable, CustomStringConvertible {
    case negativeRemaining(Int)
    case remainingExceedsTotal(remaining: Int, total: Int)
    case stockNotConserved(total: Int, remaining: Int, held: Int)
    case nonPositiveReservationQuantity(OrderID, Int)
    case customerCountMismatch(UserID, recorded: Int, actual: Int)
    case customerLimitExceeded(UserID, held: Int, limit: Int)
    case orderBothReservedAndRejected(OrderID)

    public var description: String {
        switch self {
        case .negativeRemaining(let remaining): "remaining stock is negative (\(remaining))"
        case .remainingExceedsTotal(let remaining, let total): "remaining \(remaining) exceeds total stock \(total)"
        case .stockNotConserved(let total, let remaining, let held):
            "stock not conserved: total \(total) != remaining \(remaining) + held \(held)"
        case .nonPositiveReservationQuantity(let order, let quantity):
            "reservation \(order) has non-positive quantity \(quantity)"
        case .customerCountMismatch(let user, let recorded, let actual):
            "customer \(user) is recorded as holding \(recorded) but reservations add up to \(actual)"
        case .customerLimitExceeded(let user, let held, let limit):
            "customer \(user) holds \(held), above the per-customer limit \(limit)"
        case .orderBothReservedAndRejected(let order): "order \(order) is both reserved and rejected"
        }
    }
}

public enum InventoryError: DomainError {
    case invalidTotalStock(Int)
    case invalidPerCustomerLimit(Int)
    case invalidQuantity(Int)
    /// No reservation attempt was ever recorded for this order.
    case unknownReservation(OrderID)
    /// The order was turned away, so there is no stock to confirm or release.
    case reservationRejected(OrderID, RejectionReason)
    /// Confirming after release would resurrect returned stock.
    case reservationReleased(OrderID)

    public var description: String {
        switch self {
        case .invalidTotalStock(let stock): "total stock must be at least 1, got \(stock)"
        case .invalidPerCustomerLimit(let limit): "per-customer limit must be at least 1, got \(limit)"
        case .invalidQuantity(let quantity): "quantity must be at least 1, got \(quantity)"
        case .unknownReservation(let order): "no reservation exists for order \(order)"
        case .reservationRejected(let order, let reason): "order \(order) was rejected (\(reason.rawValue)) and holds no stock"
        case .reservationReleased(let order): "reservation for order \(order) was already released"
        }
    }
}
