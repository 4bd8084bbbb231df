public import Foundation

/// Stock was set aside for an order.
public struct StockReserved: DomainEventPayload {
    public static var type: DomainEventType { .stockReserved }
    public let eventId: EventID
    public let occurredAt: Date
    public let orderId: OrderID
    public let dealId: DealID
    public let userId: UserID
    public let quantity: Int

    public init(eventId: EventID, occurredAt: Date, orderId: OrderID, dealId: DealID, userId: UserID, quantity: Int) {
        self.eventId = eventId
        self.occurredAt = Timestamp.normalized(occurredAt)
        self.orderId = orderId
        self.dealId = dealId
        self.userId = userId
        self.quantity = quantity
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: EventKey.self)
        let (eventId, occurredAt) = try c.decodeHeader(expecting: Self.type)
        self.init(
            eventId: eventId, occurredAt: occurredAt,
            orderId: try c.decode(OrderID.self, forKey: .orderId),
            dealId: try c.decode(DealID.self, forKey: .dealId),
            userId: try c.decode(UserID.self, forKey: .userId),
            quantity: try c.decodeQuantity())
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: EventKey.self)
        try c.encodeHeader(of: self)
        try c.encode(orderId, forKey: .orderId)
        try c.encode(dealId, forKey: .dealId)
        try c.encode(userId, forKey: .userId)
        try c.encode(quantity, forKey: .quantity)
    }
}

/// Held stock went back on the shelf (compensation, cancellation or expiry).
public struct StockReleased: DomainEventPayload {
    public static var type: DomainEventType { .stockReleased }
    public let eventId: EventID
    public let occurredAt: Date
    public let orderId: OrderID
    public let dealId: DealID
    public let quantity: Int
    public let reason: StockReleaseReason

    public init(
        eventId: EventID, occurredAt: Date, orderId: OrderID, dealId: DealID, quantity: Int,
        reason: StockReleaseReason
    ) {
        self.eventId = eventId
        self.occurredAt = Timestamp.normalized(occurredAt)
        self.orderId = orderId
        self.dealId = dealId
        self.quantity = quantity
        self.reason = reason
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: EventKey.self)
        let (eventId, occurredAt) = try c.decodeHeader(expecting: Self.type)
        self.init(
            eventId: eventId, occurredAt: occurredAt,
            orderId: try c.decode(OrderID.self, forKey: .orderId),
            dealId: try c.decode(DealID.self, forKey: .dealId),
            quantity: try c.decodeQuantity(),
            reason: try c.decode(StockReleaseReason.self, forKey: .reason))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: EventKey.self)
        try c.encodeHeader(of: self)
        try c.encode(orderId, forKey: .orderId)
        try c.encode(dealId, forKey: .dealId)
        try c.encode(quantity, forKey: .quantity)
        try c.encode(reason, forKey: .reason)
    }
}
