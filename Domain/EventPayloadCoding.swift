public import Foundation

/// Shared shape of every event payload.
public protocol DomainEventPayload: Hashable, Sendable, Codable {
    static var type: DomainEventType { get }
    var eventId: EventID { get }
    var occurredAt: Date { get }
    var dealId: DealID { get }
}

/// The JSON keys of the event contract.
enum EventKey: String, CodingKey {
    case type, schemaVersion, eventId, occurredAt
    case orderId, dealId, userId, quantity, idempotencyKey, requestedAt, reason
}

extension KeyedEncodingContainer<EventKey> {
    mutating func encodeHeader<P: DomainEventPayload>(of payload: P) throws {
        try encode(P.type.rawValue, forKey: .type)
        try encode(DomainEventType.currentSchemaVersion, forKey: .schemaVersion)
        try encode(payload.eventId, forKey: .eventId)
        try encodeTimestamp(payload.occurredAt, forKey: .occurredAt)
    }
}

extension KeyedDecodingContainer<EventKey> {
    /// Checks `type` and `schemaVersion` and returns `(eventId, occurredAt)`.
    func decodeHeader(expecting type: DomainEventType) throws -> (EventID, Date) {
        let actualType = try decode(String.self, forKey: .type)
        guard actualType == type.rawValue else {
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: self, debugDescription: "expected \(type.rawValue), got \(actualType)")
        }
        let version = try decode(Int.self, forKey: .schemaVersion)
        guard DomainEventType.supportedSchemaVersions.contains(version) else {
            throw DecodingError.dataCorruptedError(
                forKey: .schemaVersion, in: self, debugDescription: "unsupported schema version \(version)")
        }
        return (try decode(EventID.self, forKey: .eventId), try decodeTimestamp(forKey: .occurredAt))
    }

    func decodeQuantity() throws -> Int {
        let quantity = try decode(Int.self, forKey: .quantity)
        guard quantity >= 1 else {
            throw DecodingError.dataCorruptedError(
                forKey: .quantity, in: self, debugDescription: "quantity must be at least 1, got \(quantity)")
        }
        return quantity
    }
}
