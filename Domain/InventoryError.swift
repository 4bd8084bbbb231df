public enum InventoryError: DomainError {
    case invalidTotalStock(Int)
    case invalidPerCustomerLimit(Int)
    case invalidQuantity(Int)
    /// No reservation attempt was ever recorded for this order.
    case unknownReservation(OrderID)
    /// The order was turned away, so there is no stock to confirm or release.
    case reservationRejected(OrderID, RejectionReason)
    /// Confirming after release would resurrect returned stock.
    case reservationReleased(OrderID)

    public var description: String {
        switch self {
        case .invalidTotalStock(let stock): "total stock must be at least 1, got \(stock)"
        case .invalidPerCustomerLimit(let limit): "per-customer limit must be at least 1, got \(limit)"
        case .invalidQuantity(let quantity): "quantity must be at least 1, got \(quantity)"
        case .unknownReservation(let order): "no reservation exists for order \(order)"
        case .reservationRejected(let order, let reason):
            "order \(order) was rejected (\(reason.rawValue)) and holds no stock"
        case .reservationReleased(let order): "reservation for order \(order) was already released"
        }
    }
}
