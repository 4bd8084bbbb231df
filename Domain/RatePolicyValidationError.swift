public enum RatePolicyValidationError: DomainError {
    case invalidName(String, String)
    case unknownKeyKind(String)
    case invalidHeaderName(String)
    case emptyOperationName
    case emptyLabelKey
    case invalidCapacity(Int)
    case invalidRefillRate(Double)
    case invalidCost(operation: String?, cost: Int)
    case costExceedsCapacity(operation: String?, cost: Int, capacity: Int)

    public var description: String {
        switch self {
        case .invalidName(let name, let reason): "rate policy name \(name.debugDescription) is invalid: \(reason)"
        case .unknownKeyKind(let raw):
            "unknown rate key \(raw.debugDescription); expected clientIP, user, deal, global or header:<Name>"
        case .invalidHeaderName(let name): "\(name.debugDescription) is not a valid HTTP header name"
        case .emptyOperationName: "rate policy match lists an empty operation name"
        case .emptyLabelKey: "rate policy match lists an empty label key"
        case .invalidCapacity(let capacity): "bucket capacity must be at least 1, got \(capacity)"
        case .invalidRefillRate(let rate): "bucket refill rate must be a positive finite number, got \(rate)"
        case .invalidCost(let operation, let cost):
            "cost\(operation.map { " of \($0)" } ?? "") must be at least 1, got \(cost)"
        case .costExceedsCapacity(let operation, let cost, let capacity):
            "cost\(operation.map { " of \($0)" } ?? "") is \(cost), above the bucket capacity \(capacity); such requests could never pass"
        }
    }
}
