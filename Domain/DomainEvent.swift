public import Foundation

/// Any event of the catalog. JSON is the cross-service contract: camelCase keys, sorted,
/// `type` and `schemaVersion` alongside the payload fields.
public enum DomainEvent: Hashable, Sendable {
    case orderRequested(OrderRequested)
    case stockReserved(StockReserved)
    case orderConfirmed(OrderConfirmed)
    case orderRejected(OrderRejected)
    case orderFailed(OrderFailed)
    case stockReleased(StockReleased)
    case dealOpened(DealOpened)
    case dealSoldOut(DealSoldOut)
    case orderCancellationRequested(OrderCancellationRequested)

    public var payload: any DomainEventPayload {
        switch self {
        case .orderRequested(let e): e
        case .stockReserved(let e): e
        case .orderConfirmed(let e): e
        case .orderRejected(let e): e
        case .orderFailed(let e): e
        case .stockReleased(let e): e
        case .dealOpened(let e): e
        case .dealSoldOut(let e): e
        case .orderCancellationRequested(let e): e
        }
    }

    public var type: DomainEventType { Swift.type(of: payload).type }
    public var eventId: EventID { payload.eventId }
    public var occurredAt: Date { payload.occurredAt }
    public var dealId: DealID { payload.dealId }

    /// The order the event is about; `nil` for deal events.
    public var orderId: OrderID? {
        switch self {
        case .orderRequested(let e): e.orderId
        case .stockReserved(let e): e.orderId
        case .orderConfirmed(let e): e.orderId
        case .orderRejected(let e): e.orderId
        case .orderFailed(let e): e.orderId
        case .stockReleased(let e): e.orderId
        case .orderCancellationRequested(let e): e.orderId
        case .dealOpened, .dealSoldOut: nil
        }
    }
}

extension DomainEvent: Codable {
    public func encode(to encoder: any Encoder) throws {
        try payload.encode(to: encoder)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: EventKey.self)
        let name = try c.decode(String.self, forKey: .type)
        guard let type = DomainEventType(rawValue: name) else {
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown event type \(name)")
        }
        self = try Self.decodePayload(type, from: decoder)
    }

    static func decodePayload(_ type: DomainEventType, from decoder: any Decoder) throws -> DomainEvent {
        switch type {
        case .orderRequested: .orderRequested(try OrderRequested(from: decoder))
        case .stockReserved: .stockReserved(try StockReserved(from: decoder))
        case .orderConfirmed: .orderConfirmed(try OrderConfirmed(from: decoder))
        case .orderRejected: .orderRejected(try OrderRejected(from: decoder))
        case .orderFailed: .orderFailed(try OrderFailed(from: decoder))
        case .stockReleased: .stockReleased(try StockReleased(from: decoder))
        case .dealOpened: .dealOpened(try DealOpened(from: decoder))
        case .dealSoldOut: .dealSoldOut(try DealSoldOut(from: decoder))
        case .orderCancellationRequested: .orderCancellationRequested(try OrderCancellationRequested(from: decoder))
        }
    }
}
