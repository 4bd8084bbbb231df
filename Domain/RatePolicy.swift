/// One rule of the gateway's rate limiter: which requests it covers, what it counts them by,
/// how fast they may come, and what happens to the excess.
public struct RatePolicy: Hashable, Sendable {
    public let name: String
    public let match: RateMatch
    public let key: RateKeyKind
    public let bucket: RateBucket
    public let cost: RateCost
    public let action: RateAction
    public let failMode: RateFailMode

    /// `name` follows the identifier rules (it becomes part of Redis keys); every cost must be
    /// at least 1 and at most the bucket capacity, or the request could never be admitted.
    public init(
        name: String, match: RateMatch = .everything, key: RateKeyKind, bucket: RateBucket,
        cost: RateCost = .fixed(1), action: RateAction = .reject, failMode: RateFailMode = .open
    ) throws(RatePolicyValidationError) {
        do {
            try Identifier<RatePolicyNameKind>.validate(name)
        } catch {
            throw .invalidName(name, error.description)
        }
        if case .header(let header) = key, !RateKeyKind.isValidHeaderName(header) {
            throw .invalidHeaderName(header)
        }
        for operation in match.operations where operation.isEmpty { throw .emptyOperationName }
        for label in match.labels.keys where label.isEmpty { throw .emptyLabelKey }
        for (operation, value) in cost.allCosts {
            guard value >= 1 else { throw .invalidCost(operation: operation, cost: value) }
            guard value <= bucket.capacity else {
                throw .costExceedsCapacity(operation: operation, cost: value, capacity: bucket.capacity)
            }
        }
        self.name = name
        self.match = match
        self.key = key
        self.bucket = bucket
        self.cost = cost
        self.action = action
        self.failMode = failMode
    }

    public func matches(operation: String, dealId: DealID?, labels: [String: String] = [:]) -> Bool {
        match.matches(operation: operation, dealId: dealId, labels: labels)
    }

    /// Tokens one `operation` request takes from the bucket.
    public func cost(of operation: String) -> Int { cost.cost(of: operation) }
}

enum RatePolicyNameKind: IdentifierKind { static var fieldName: String { "name" } }
extension RatePolicy: Codable {
    private enum CodingKeys: String, CodingKey { case name, match, key, bucket, cost, action, failMode }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let name = try c.decode(String.self, forKey: .name)
        let match = try c.decodeIfPresent(RateMatch.self, forKey: .match) ?? .everything
        let key = try c.decode(RateKeyKind.self, forKey: .key)
        let bucket = try c.decode(RateBucket.self, forKey: .bucket)
        let cost = try c.decodeIfPresent(RateCost.self, forKey: .cost) ?? .fixed(1)
        let action = try c.decodeIfPresent(RateAction.self, forKey: .action) ?? .reject
        let failMode = try c.decodeIfPresent(RateFailMode.self, forKey: .failMode) ?? .open
        self = try c.decodeValidated(forKey: .name) {
            try RatePolicy(
                name: name, match: match, key: key, bucket: bucket, cost: cost, action: action, failMode: failMode)
        }
    }
}
