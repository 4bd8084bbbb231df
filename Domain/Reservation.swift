/// Answer to a reservation attempt. Raw values are the wire/Redis spelling.
public enum ReservationOutcome: String, Hashable, Sendable, Codable, CaseIterable {
    case reserved = "RESERVED"
    case soldOut = "SOLD_OUT"
    case limitExceeded = "LIMIT_EXCEEDED"
    case dealClosed = "DEAL_CLOSED"

    public init(_ reason: RejectionReason) {
        switch reason {
        case .soldOut: self = .soldOut
        case .limitExceeded: self = .limitExceeded
        case .dealClosed: self = .dealClosed
        }
    }

    /// `nil` for `.reserved`.
    public var rejectionReason: RejectionReason? {
        switch self {
        case .reserved: nil
        case .soldOut: .soldOut
        case .limitExceeded: .limitExceeded
        case .dealClosed: .dealClosed
        }
    }
}

/// Why an order was turned away without taking stock.
public enum RejectionReason: String, Hashable, Sendable, Codable, CaseIterable {
    case soldOut = "SOLD_OUT"
    case limitExceeded = "LIMIT_EXCEEDED"
    case dealClosed = "DEAL_CLOSED"
}

/// Why held stock went back on the shelf.
public enum StockReleaseReason: String, Hashable, Sendable, Codable, CaseIterable {
    /// Compensation for an order that failed after its stock was reserved.
    case failed = "FAILED"
    /// The shopper cancelled a confirmed order.
    case cancelled = "CANCELLED"
    /// A confirmed order was not completed in time.
    case expired = "EXPIRED"
}

public enum ReservationState: Hashable, Sendable {
    case reserved
    case confirmed
    case released(StockReleaseReason)

    /// Reserved and confirmed units are held; released units are back in `remaining`.
    public var holdsStock: Bool {
        if case .released = self { false } else { true }
    }
}

/// Stock set aside for one order.
public struct Reservation: Hashable, Sendable {
    public let orderId: OrderID
    public let userId: UserID
    public let quantity: Int
    public internal(set) var state: ReservationState

    public init(orderId: OrderID, userId: UserID, quantity: Int, state: ReservationState) {
        self.orderId = orderId
        self.userId = userId
        self.quantity = quantity
        self.state = state
    }

    public var heldQuantity: Int { state.holdsStock ? quantity : 0 }
}

extension Reservation: Codable {
    private enum CodingKeys: String, CodingKey { case orderId, userId, quantity, state, releaseReason }
    private enum StateName: String, Codable {
        case reserved = "RESERVED"
        case confirmed = "CONFIRMED"
        case released = "RELEASED"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        orderId = try c.decode(OrderID.self, forKey: .orderId)
        userId = try c.decode(UserID.self, forKey: .userId)
        quantity = try c.decode(Int.self, forKey: .quantity)
        switch try c.decode(StateName.self, forKey: .state) {
        case .reserved: state = .reserved
        case .confirmed: state = .confirmed
        case .released: state = .released(try c.decode(StockReleaseReason.self, forKey: .releaseReason))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(orderId, forKey: .orderId)
        try c.encode(userId, forKey: .userId)
        try c.encode(quantity, forKey: .quantity)
        switch state {
        case .reserved: try c.encode(StateName.reserved, forKey: .state)
        case .confirmed: try c.encode(StateName.confirmed, forKey: .state)
        case .released(let reason):
            try c.encode(StateName.released, forKey: .state)
            try c.encode(reason, forKey: .releaseReason)
        }
    }
}

/// Result of a release call; both cases are successes, which makes release safe to repeat.
public enum ReleaseOutcome: Hashable, Sendable {
    /// Stock went back to `remaining` just now.
    case released(Reservation)
    /// An earlier call already released it; nothing changed.
    case alreadyReleased(Reservation)
}
