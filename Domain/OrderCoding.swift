import Foundation

/// Flat document shape for storage: `status` plus whichever of `rejectionReason`,
/// `failureReason`, `cancellationReason` the status carries. Decoding re-checks the order id.
extension Order: Codable {
    private enum CodingKeys: String, CodingKey {
        case id, dealId, userId, quantity, idempotencyKey, requestedAt, status
        case rejectionReason, failureReason, cancellationReason, updatedAt, version
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let state: OrderState =
            switch try c.decode(OrderStatus.self, forKey: .status) {
            case .pending: .pending
            case .confirmed: .confirmed
            case .rejected: .rejected(try c.decode(RejectionReason.self, forKey: .rejectionReason))
            case .failed: .failed(reason: try c.decode(String.self, forKey: .failureReason))
            case .cancelled: .cancelled(try c.decode(CancellationReason.self, forKey: .cancellationReason))
            }
        let id = try c.decode(OrderID.self, forKey: .id)
        let dealId = try c.decode(DealID.self, forKey: .dealId)
        let userId = try c.decode(UserID.self, forKey: .userId)
        let quantity = try c.decode(Int.self, forKey: .quantity)
        let idempotencyKey = try c.decode(IdempotencyKey.self, forKey: .idempotencyKey)
        let requestedAt = try c.decodeTimestamp(forKey: .requestedAt)
        let updatedAt = try c.decodeTimestamp(forKey: .updatedAt)
        let version = try c.decode(Int.self, forKey: .version)
        self = try c.decodeValidated(forKey: .id) {
            try Order(
                id: id, dealId: dealId, userId: userId, quantity: quantity, idempotencyKey: idempotencyKey,
                requestedAt: requestedAt, state: state, updatedAt: updatedAt, version: version)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(dealId, forKey: .dealId)
        try c.encode(userId, forKey: .userId)
        try c.encode(quantity, forKey: .quantity)
        try c.encode(idempotencyKey, forKey: .idempotencyKey)
        try c.encodeTimestamp(requestedAt, forKey: .requestedAt)
        try c.encode(status, forKey: .status)
        switch state {
        case .pending, .confirmed: break
        case .rejected(let reason): try c.encode(reason, forKey: .rejectionReason)
        case .failed(let reason): try c.encode(reason, forKey: .failureReason)
        case .cancelled(let reason): try c.encode(reason, forKey: .cancellationReason)
        }
        try c.encodeTimestamp(updatedAt, forKey: .updatedAt)
        try c.encode(version, forKey: .version)
    }
}
