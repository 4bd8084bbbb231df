extension Identifier where Kind == OrderIDKind {
    /// Domain-separation tag, the first field of the hashed encoding.
    public static var derivationTag: String { "flashdeal:order-id:v1" }
    public static var prefix: String { "ord_" }

    /// The order id for one purchase intent:
    /// `"ord_" + hex(SHA-256(lp(tag) ‖ lp(userId) ‖ lp(dealId) ‖ lp(idempotencyKey))[0..<16])`
    /// where `lp(s)` is the UTF-8 byte count of `s` as a big-endian UInt32 followed by those bytes.
    /// Every service computes the same id for the same request, so retries collapse onto one order.
    public static func derive(userId: UserID, dealId: DealID, idempotencyKey: IdempotencyKey) -> OrderID {
        let bytes = CanonicalEncoding.lengthPrefixed(
            [derivationTag, userId.rawValue, dealId.rawValue, idempotencyKey.rawValue])
        return OrderID(trusted: prefix + CanonicalEncoding.truncatedSHA256Hex(bytes))
    }
}
