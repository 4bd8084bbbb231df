public import Foundation

/// A shopper asked to buy; published by the gateway, consumed by the order worker.
public struct OrderRequested: DomainEventPayload {
    public static var type: DomainEventType { .orderRequested }
    public let eventId: EventID
    public let occurredAt: Date
    public let orderId: OrderID
    public let dealId: DealID
    public let userId: UserID
    public let quantity: Int
    public let idempotencyKey: IdempotencyKey
    public let requestedAt: Date

    public init(
        eventId: EventID, occurredAt: Date, orderId: OrderID, dealId: DealID, userId: UserID,
        quantity: Int, idempotencyKey: IdempotencyKey, requestedAt: Date
    ) {
        self.eventId = eventId
        self.occurredAt = Timestamp.normalized(occurredAt)
        self.orderId = orderId
        self.dealId = dealId
        self.userId = userId
        self.quantity = quantity
        self.idempotencyKey = idempotencyKey
        self.requestedAt = Timestamp.normalized(requestedAt)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: EventKey.self)
        let (eventId, occurredAt) = try c.decodeHeader(expecting: Self.type)
        self.init(
            eventId: eventId, occurredAt: occurredAt,
            orderId: try c.decode(OrderID.self, forKey: .orderId),
            dealId: try c.decode(DealID.self, forKey: .dealId),
            userId: try c.decode(UserID.self, forKey: .userId),
            quantity: try c.decodeQuantity(),
            idempotencyKey: try c.decode(IdempotencyKey.self, forKey: .idempotencyKey),
            requestedAt: try c.decodeTimestamp(forKey: .requestedAt))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: EventKey.self)
        try c.encodeHeader(of: self)
        try c.encode(orderId, forKey: .orderId)
        try c.encode(dealId, forKey: .dealId)
        try c.encode(userId, forKey: .userId)
        try c.encode(quantity, forKey: .quantity)
        try c.encode(idempotencyKey, forKey: .idempotencyKey)
        try c.encodeTimestamp(requestedAt, forKey: .requestedAt)
    }
}

/// A shopper asked to cancel an order; published by the gateway to the order-requests topic keyed
/// by the order id, so it reaches the worker on the order's partition, after its `OrderRequested`.
///
/// The event id is derived from the order id alone (``EventID/derive(type:orderId:)``): asking
/// twice to cancel one order yields the same id, and the worker drops the repeat as a duplicate.
public struct OrderCancellationRequested: DomainEventPayload {
    public static var type: DomainEventType { .orderCancellationRequested }
    public let eventId: EventID
    public let occurredAt: Date
    public let orderId: OrderID
    public let dealId: DealID
    public let userId: UserID
    public let requestedAt: Date

    public init(
        eventId: EventID, occurredAt: Date, orderId: OrderID, dealId: DealID, userId: UserID,
        requestedAt: Date
    ) {
        self.eventId = eventId
        self.occurredAt = Timestamp.normalized(occurredAt)
        self.orderId = orderId
        self.dealId = dealId
        self.userId = userId
        self.requestedAt = Timestamp.normalized(requestedAt)
    }

    /// The request made at `now`, with its derived event id.
    public init(orderId: OrderID, dealId: DealID, userId: UserID, at now: Date) {
        self.init(
            eventId: .derive(type: Self.type, orderId: orderId), occurredAt: now,
            orderId: orderId, dealId: dealId, userId: userId, requestedAt: now)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: EventKey.self)
        let (eventId, occurredAt) = try c.decodeHeader(expecting: Self.type)
        self.init(
            eventId: eventId, occurredAt: occurredAt,
            orderId: try c.decode(OrderID.self, forKey: .orderId),
            dealId: try c.decode(DealID.self, forKey: .dealId),
            userId: try c.decode(UserID.self, forKey: .userId),
            requestedAt: try c.decodeTimestamp(forKey: .requestedAt))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: EventKey.self)
        try c.encodeHeader(of: self)
        try c.encode(orderId, forKey: .orderId)
        try c.encode(dealId, forKey: .dealId)
        try c.encode(userId, forKey: .userId)
        try c.encodeTimestamp(requestedAt, forKey: .requestedAt)
    }
}

/// The order was accepted and its stock is held.
public struct OrderConfirmed: DomainEventPayload {
    public static var type: DomainEventType { .orderConfirmed }
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

/// The order was turned away without taking stock.
public struct OrderRejected: DomainEventPayload {
    public static var type: DomainEventType { .orderRejected }
    public let eventId: EventID
    public let occurredAt: Date
    public let orderId: OrderID
    public let dealId: DealID
    public let userId: UserID
    public let quantity: Int
    public let reason: RejectionReason

    public init(
        eventId: EventID, occurredAt: Date, orderId: OrderID, dealId: DealID, userId: UserID,
        quantity: Int, reason: RejectionReason
    ) {
        self.eventId = eventId
        self.occurredAt = Timestamp.normalized(occurredAt)
        self.orderId = orderId
        self.dealId = dealId
        self.userId = userId
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
            userId: try c.decode(UserID.self, forKey: .userId),
            quantity: try c.decodeQuantity(),
            reason: try c.decode(RejectionReason.self, forKey: .reason))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: EventKey.self)
        try c.encodeHeader(of: self)
        try c.encode(orderId, forKey: .orderId)
        try c.encode(dealId, forKey: .dealId)
        try c.encode(userId, forKey: .userId)
        try c.encode(quantity, forKey: .quantity)
        try c.encode(reason, forKey: .reason)
    }
}

/// Processing the order failed for good; `reason` is free text for operators.
public struct OrderFailed: DomainEventPayload {
    public static var type: DomainEventType { .orderFailed }
    public let eventId: EventID
    public let occurredAt: Date
    public let orderId: OrderID
    public let dealId: DealID
    public let userId: UserID
    public let quantity: Int
    public let reason: String

    public init(
        eventId: EventID, occurredAt: Date, orderId: OrderID, dealId: DealID, userId: UserID,
        quantity: Int, reason: String
    ) {
        self.eventId = eventId
        self.occurredAt = Timestamp.normalized(occurredAt)
        self.orderId = orderId
        self.dealId = dealId
        self.userId = userId
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
            userId: try c.decode(UserID.self, forKey: .userId),
            quantity: try c.decodeQuantity(),
            reason: try c.decode(String.self, forKey: .reason))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: EventKey.self)
        try c.encodeHeader(of: self)
        try c.encode(orderId, forKey: .orderId)
        try c.encode(dealId, forKey: .dealId)
        try c.encode(userId, forKey: .userId)
        try c.encode(quantity, forKey: .quantity)
        try c.encode(reason, forKey: .reason)
    }
}
