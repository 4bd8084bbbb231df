/// Stock of one deal and every reservation taken against it.
///
/// At run time the authoritative copy lives in Redis; this type is the reference model those
/// scripts must agree with. Invariant: `totalStock == remaining + Σ held quantities`, each
/// shopper holds at most `perCustomerLimit` units, and every order id gets exactly one answer.
public struct Inventory: Hashable, Sendable {
    public let dealId: DealID
    public let totalStock: Int
    public let perCustomerLimit: Int
    public internal(set) var remaining: Int
    public internal(set) var isClosed: Bool
    var reservationsByOrder: [OrderID: Reservation]
    var rejections: [OrderID: RejectionReason]
    var heldByCustomer: [UserID: Int]

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
    public mutating func reserve(order: OrderID, user: UserID, quantity: Int) throws(InventoryError)
        -> ReservationOutcome
    {
        if let first = outcome(for: order) { return first }
        guard quantity >= 1 else { throw .invalidQuantity(quantity) }
        let rejection: RejectionReason? =
            if isClosed { .dealClosed } else if held(by: user) + quantity > perCustomerLimit {
                .limitExceeded
            } else if quantity > remaining { .soldOut } else { nil }
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
    public mutating func release(_ order: OrderID, reason: StockReleaseReason) throws(InventoryError) -> ReleaseOutcome
    {
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
