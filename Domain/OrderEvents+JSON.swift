extension OrderRequested {
    /// The event's JSON exactly as `JSONEncoder` writes it with sorted keys — written directly,
    /// because the gateway writes one per accepted order. Every string field is an ``Identifier``
    /// (letters, digits, `- _ . :`) or a timestamp, so nothing needs escaping.
    public func canonicalJSON() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(320)
        func field(_ name: StaticString, _ value: String, first: Bool = false) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            out.append(contentsOf: #"":""#.utf8)
            out.append(contentsOf: value.utf8)
            out.append(UInt8(ascii: "\""))
        }
        func number(_ name: StaticString, _ value: Int) {
            out.append(contentsOf: #",""#.utf8)
            out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            out.append(contentsOf: #"":"#.utf8)
            out.append(contentsOf: String(value).utf8)
        }
        field("dealId", dealId.rawValue, first: true)
        field("eventId", eventId.rawValue)
        field("idempotencyKey", idempotencyKey.rawValue)
        field("occurredAt", Timestamp.format(occurredAt))
        field("orderId", orderId.rawValue)
        number("quantity", quantity)
        field("requestedAt", Timestamp.format(requestedAt))
        number("schemaVersion", DomainEventType.currentSchemaVersion)
        field("type", Self.type.rawValue)
        field("userId", userId.rawValue)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
