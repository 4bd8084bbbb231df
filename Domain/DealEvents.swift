public import Foundation

/// The deal started selling (or resumed after stock came back).
public struct DealOpened: DomainEventPayload {
    public static var type: DomainEventType { .dealOpened }
    public let eventId: EventID
    public let occurredAt: Date
    public let dealId: DealID

    public init(eventId: EventID, occurredAt: Date, dealId: DealID) {
        self.eventId = eventId
        self.occurredAt = Timestamp.normalized(occurredAt)
        self.dealId = dealId
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: EventKey.self)
        let (eventId, occurredAt) = try c.decodeHeader(expecting: Self.type)
        self.init(eventId: eventId, occurredAt: occurredAt, dealId: try c.decode(DealID.self, forKey: .dealId))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: EventKey.self)
        try c.encodeHeader(of: self)
        try c.encode(dealId, forKey: .dealId)
    }
}

/// The last unit of the deal was reserved.
public struct DealSoldOut: DomainEventPayload {
    public static var type: DomainEventType { .dealSoldOut }
    public let eventId: EventID
    public let occurredAt: Date
    public let dealId: DealID

    public init(eventId: EventID, occurredAt: Date, dealId: DealID) {
        self.eventId = eventId
        self.occurredAt = Timestamp.normalized(occurredAt)
        self.dealId = dealId
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: EventKey.self)
        let (eventId, occurredAt) = try c.decodeHeader(expecting: Self.type)
        self.init(eventId: eventId, occurredAt: occurredAt, dealId: try c.decode(DealID.self, forKey: .dealId))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: EventKey.self)
        try c.encodeHeader(of: self)
        try c.encode(dealId, forKey: .dealId)
    }
}
