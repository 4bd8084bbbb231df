/// Order status as stored and sent on the wire.
///
/// ```
/// PENDING ──► CONFIRMED ──► CANCELLED
///    ├──────► REJECTED
///    └──────► FAILED
/// ```
public enum OrderStatus: String, Hashable, Sendable, Codable, CaseIterable {
    case pending = "PENDING"
    case confirmed = "CONFIRMED"
    case rejected = "REJECTED"
    case failed = "FAILED"
    case cancelled = "CANCELLED"

    public var successors: Set<OrderStatus> {
        switch self {
        case .pending: [.confirmed, .rejected, .failed]
        case .confirmed: [.cancelled]
        case .rejected, .failed, .cancelled: []
        }
    }

    public func canTransition(to next: OrderStatus) -> Bool { successors.contains(next) }

    public var isTerminal: Bool { successors.isEmpty }
}

/// Who or what ended a confirmed order.
public enum CancellationReason: String, Hashable, Sendable, Codable, CaseIterable {
    case shopper = "SHOPPER"
    case expired = "EXPIRED"

    public var stockReleaseReason: StockReleaseReason {
        switch self {
        case .shopper: .cancelled
        case .expired: .expired
        }
    }
}

/// Status plus the detail each outcome carries.
public enum OrderState: Hashable, Sendable {
    case pending
    case confirmed
    case rejected(RejectionReason)
    case failed(reason: String)
    case cancelled(CancellationReason)

    public var status: OrderStatus {
        switch self {
        case .pending: .pending
        case .confirmed: .confirmed
        case .rejected: .rejected
        case .failed: .failed
        case .cancelled: .cancelled
        }
    }
}

/// A transition that is not an edge of the order state machine.
public struct OrderTransitionError: DomainError {
    public let orderId: OrderID
    public let from: OrderStatus
    public let to: OrderStatus

    public init(orderId: OrderID, from: OrderStatus, to: OrderStatus) {
        self.orderId = orderId
        self.from = from
        self.to = to
    }

    public var description: String {
        "order \(orderId) cannot go from \(from.rawValue) to \(to.rawValue)"
    }
}

public enum OrderValidationError: DomainError {
    case invalidQuantity(Int)
    /// A stored order whose id is not the one derived from its user, deal and idempotency key.
    case orderIdMismatch(expected: OrderID, actual: OrderID)
    case versionBelowOne(Int)

    public var description: String {
        switch self {
        case .invalidQuantity(let quantity): "order quantity must be at least 1, got \(quantity)"
        case .orderIdMismatch(let expected, let actual):
            "order id \(actual) does not match the id derived from user, deal and idempotency key (\(expected))"
        case .versionBelowOne(let version): "order version must be at least 1, got \(version)"
        }
    }
}
