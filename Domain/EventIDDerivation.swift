extension Identifier where Kind == EventIDKind {
    public static var derivationTag: String { "flashdeal:event-id:v1" }
    public static var prefix: String { "evt_" }

    /// A deterministic event id: `"evt_" + hex(SHA-256(lp(tag) ‖ lp(type) ‖ lp(subject) ‖ lp(discriminator))[0..<16])`.
    ///
    /// Events caused by an order use the order id as `subject` and an empty `discriminator`, so a
    /// redelivered or re-published event keeps its id and consumers can drop the duplicate. That
    /// includes `OrderCancellationRequested`: a shopper who asks twice to cancel one order sends
    /// one event id twice.
    public static func derive(type: DomainEventType, subject: String, discriminator: String = "") -> EventID {
        let bytes = CanonicalEncoding.lengthPrefixed([derivationTag, type.rawValue, subject, discriminator])
        return EventID(trusted: prefix + CanonicalEncoding.truncatedSHA256Hex(bytes))
    }

    public static func derive(type: DomainEventType, orderId: OrderID) -> EventID {
        derive(type: type, subject: orderId.rawValue)
    }

    /// A random version-4 UUID (lowercase) drawn from the injected generator; the domain never
    /// reaches for ambient randomness.
    public static func random(using generator: inout some RandomNumberGenerator) -> EventID {
        var bytes = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        bytes[6] = (bytes[6] & 0x0f) | 0x40
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        let hex = CanonicalEncoding.hex(bytes)
        let parts = [
            hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4),
            hex.dropFirst(16).prefix(4), hex.dropFirst(20),
        ]
        return EventID(trusted: parts.joined(separator: "-"))
    }
}
