public enum InvariantViolation: Hashable, Sendable, CustomStringConvertible {
    case negativeRemaining(Int)
    case remainingExceedsTotal(remaining: Int, total: Int)
    case stockNotConserved(total: Int, remaining: Int, held: Int)
    case nonPositiveReservationQuantity(OrderID, Int)
    case customerCountMismatch(UserID, recorded: Int, actual: Int)
    case customerLimitExceeded(UserID, held: Int, limit: Int)
    case orderBothReservedAndRejected(OrderID)

    public var description: String {
        switch self {
        case .negativeRemaining(let remaining): "remaining stock is negative (\(remaining))"
        case .remainingExceedsTotal(let remaining, let total): "remaining \(remaining) exceeds total stock \(total)"
        case .stockNotConserved(let total, let remaining, let held):
            "stock not conserved: total \(total) != remaining \(remaining) + held \(held)"
        case .nonPositiveReservationQuantity(let order, let quantity):
            "reservation \(order) has non-positive quantity \(quantity)"
        case .customerCountMismatch(let user, let recorded, let actual):
            "customer \(user) is recorded as holding \(recorded) but reservations add up to \(actual)"
        case .customerLimitExceeded(let user, let held, let limit):
            "customer \(user) holds \(held), above the per-customer limit \(limit)"
        case .orderBothReservedAndRejected(let order): "order \(order) is both reserved and rejected"
        }
    }
}
