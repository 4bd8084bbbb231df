/// Token bucket parameters: up to `capacity` tokens, refilled continuously at `refillPerSecond`.
public struct RateBucket: Hashable, Sendable {
    public let capacity: Int
    public let refillPerSecond: Double

    public init(capacity: Int, refillPerSecond: Double) throws(RatePolicyValidationError) {
        guard capacity >= 1 else { throw .invalidCapacity(capacity) }
        guard refillPerSecond.isFinite, refillPerSecond > 0 else { throw .invalidRefillRate(refillPerSecond) }
        self.capacity = capacity
        self.refillPerSecond = refillPerSecond
    }
}

extension RateBucket: Codable {
    private enum CodingKeys: String, CodingKey { case capacity, refillPerSecond }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let capacity = try c.decode(Int.self, forKey: .capacity)
        let refill = try c.decode(Double.self, forKey: .refillPerSecond)
        self = try c.decodeValidated(forKey: .capacity) { try RateBucket(capacity: capacity, refillPerSecond: refill) }
    }
}
