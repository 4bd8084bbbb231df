public import Foundation

public enum DealValidationError: DomainError {
    case emptyTitle
    case titleTooLong(length: Int, maximum: Int)
    case negativePrice(Int64)
    case nonPositiveStock(Int)
    case perCustomerLimitBelowOne(Int)
    case endsNotAfterStart(startsAt: Date, endsAt: Date)
    case paymentWindowOutOfRange(seconds: Double, maximum: Double)

    public var description: String {
        switch self {
        case .emptyTitle: "deal title must not be blank"
        case .titleTooLong(let length, let maximum): "deal title has \(length) characters; the maximum is \(maximum)"
        case .negativePrice(let amount): "deal price must not be negative, got \(amount)"
        case .nonPositiveStock(let stock): "deal stock must be at least 1, got \(stock)"
        case .perCustomerLimitBelowOne(let limit): "per-customer limit must be at least 1, got \(limit)"
        case .endsNotAfterStart(let startsAt, let endsAt):
            "deal must end after it starts (startsAt \(Timestamp.format(startsAt)), endsAt \(Timestamp.format(endsAt)))"
        case .paymentWindowOutOfRange(let seconds, let maximum):
            "payment window must be between 1 s and \(Int(maximum)) s, got \(seconds) s"
        }
    }
}
