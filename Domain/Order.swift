public import Foundation

/// One shopper's request to buy `quantity` units of a deal, and what became of it.
///
/// Authoritative copy: MongoDB. Every successful transition bumps `version` (for optimistic
/// concurrency) and returns the events it causes; an illegal one throws `OrderTransitionError`
/// and leaves the order untouched.
public struct Order: Hashable, Sendable {
    public static var maximumFailureReasonLength: Int { 500 }

    public let id: OrderID
    public let dealId: DealID
    public let userId: UserID
    public let quantity: Int
    public let idempotencyKey: IdempotencyKey
    public let requestedAt: Date
    public private(set) var state: OrderState
    public private(set) var updatedAt: Date
    public private(set) var version: Int

    public var status: OrderStatus { state.status }

    /// A new pending order and its `OrderRequested` event. The id is derived, so the same
    /// request made twice yields the same order and the same event id.
    public static func request(
        dealId: DealID, userId: UserID, quantity: Int, idempotencyKey: IdempotencyKey, at now: Date
    ) throws(OrderValidationError) -> (order: Order, event: DomainEvent) {
        let id = OrderID.derive(userId: userId, dealId: dealId, idempotencyKey: idempotencyKey)
        let order = try Order(
            id: id, dealId: dealId, userId: userId, quantity: quantity, idempotencyKey: idempotencyKey,
            requestedAt: now, state: .pending, updatedAt: now, version: 1)
        let event = OrderRequested(
            eventId: .derive(type: .orderRequested, orderId: id), occurredAt: now, orderId: id, dealId: dealId,
            userId: userId, quantity: quantity, idempotencyKey: idempotencyKey, requestedAt: now)
        return (order, .orderRequested(event))
    }

    /// Rehydrates a stored order, checking that its id matches its derivation.
    public init(
        id: OrderID, dealId: DealID, userId: UserID, quantity: Int, idempotencyKey: IdempotencyKey,
        requestedAt: Date, state: OrderState, updatedAt: Date, version: Int
    ) throws(OrderValidationError) {
        guard quantity >= 1 else { throw .invalidQuantity(quantity) }
        guard version >= 1 else { throw .versionBelowOne(version) }
        let expected = OrderID.derive(userId: userId, dealId: dealId, idempotencyKey: idempotencyKey)
        guard expected == id else { throw .orderIdMismatch(expected: expected, actual: id) }
        self.id = id
        self.dealId = dealId
        self.userId = userId
        self.quantity = quantity
        self.idempotencyKey = idempotencyKey
        self.requestedAt = Timestamp.normalized(requestedAt)
        self.state = state
        self.updatedAt = Timestamp.normalized(updatedAt)
        self.version = version
    }

    // MARK: Transitions

    /// PENDING → CONFIRMED. Emits `OrderConfirmed`.
    public mutating func confirm(at now: Date) throws(OrderTransitionError) -> [DomainEvent] {
        try move(to: .confirmed, at: now)
        return [
            .orderConfirmed(
                OrderConfirmed(
                    eventId: .derive(type: .orderConfirmed, orderId: id), occurredAt: now,
                    orderId: id, dealId: dealId, userId: userId, quantity: quantity))
        ]
    }

    /// PENDING → REJECTED. Emits `OrderRejected`. No stock was taken, so none is released.
    public mutating func reject(_ reason: RejectionReason, at now: Date) throws(OrderTransitionError) -> [DomainEvent] {
        try move(to: .rejected(reason), at: now)
        return [
            .orderRejected(
                OrderRejected(
                    eventId: .derive(type: .orderRejected, orderId: id), occurredAt: now,
                    orderId: id, dealId: dealId, userId: userId, quantity: quantity, reason: reason))
        ]
    }

    /// PENDING → FAILED. Emits `OrderFailed`, followed by `StockReleased(FAILED)` when stock had
    /// already been reserved for this order and must be given back (compensation).
    /// A blank reason is recorded as `"UNSPECIFIED"`; long reasons are cut to 500 characters.
    public mutating func fail(reason: String, stockWasReserved: Bool, at now: Date) throws(OrderTransitionError)
        -> [DomainEvent]
    {
        let trimmed = reason.trimmingWhitespace()
        let recorded = trimmed.isEmpty ? "UNSPECIFIED" : String(trimmed.prefix(Self.maximumFailureReasonLength))
        try move(to: .failed(reason: recorded), at: now)
        var events: [DomainEvent] = [
            .orderFailed(
                OrderFailed(
                    eventId: .derive(type: .orderFailed, orderId: id), occurredAt: now,
                    orderId: id, dealId: dealId, userId: userId, quantity: quantity, reason: recorded))
        ]
        if stockWasReserved { events.append(stockReleased(.failed, at: now)) }
        return events
    }

    /// CONFIRMED → CANCELLED. Emits `StockReleased` with `CANCELLED` (shopper) or `EXPIRED`.
    public mutating func cancel(_ reason: CancellationReason, at now: Date) throws(OrderTransitionError)
        -> [DomainEvent]
    {
        try move(to: .cancelled(reason), at: now)
        return [stockReleased(reason.stockReleaseReason, at: now)]
    }

    /// Applies the inventory's answer: `RESERVED` confirms the order (emitting `StockReserved`
    /// then `OrderConfirmed`); any other outcome rejects it with the matching reason.
    public mutating func apply(_ outcome: ReservationOutcome, at now: Date) throws(OrderTransitionError)
        -> [DomainEvent]
    {
        guard let reason = outcome.rejectionReason else {
            let confirmed = try confirm(at: now)
            return [stockReserved(at: now)] + confirmed
        }
        return try reject(reason, at: now)
    }

    /// The `StockReserved` event for this order.
    public func stockReserved(at now: Date) -> DomainEvent {
        .stockReserved(
            StockReserved(
                eventId: .derive(type: .stockReserved, orderId: id), occurredAt: now,
                orderId: id, dealId: dealId, userId: userId, quantity: quantity))
    }

    private func stockReleased(_ reason: StockReleaseReason, at now: Date) -> DomainEvent {
        .stockReleased(
            StockReleased(
                eventId: .derive(type: .stockReleased, orderId: id), occurredAt: now,
                orderId: id, dealId: dealId, quantity: quantity, reason: reason))
    }

    private mutating func move(to next: OrderState, at now: Date) throws(OrderTransitionError) {
        guard status.canTransition(to: next.status) else {
            throw OrderTransitionError(orderId: id, from: status, to: next.status)
        }
        state = next
        updatedAt = Timestamp.normalized(now)
        version += 1
    }
}
