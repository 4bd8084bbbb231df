/// Which requests a policy covers. Empty sets mean "any"; every listed label must match exactly.
public struct RateMatch: Hashable, Sendable, Codable {
    public static var everything: RateMatch { RateMatch() }

    public let operations: Set<String>
    public let dealIds: Set<DealID>
    public let labels: [String: String]

    public init(operations: Set<String> = [], dealIds: Set<DealID> = [], labels: [String: String] = [:]) {
        self.operations = operations
        self.dealIds = dealIds
        self.labels = labels
    }

    public func matches(operation: String, dealId: DealID?, labels requestLabels: [String: String]) -> Bool {
        if !operations.isEmpty, !operations.contains(operation) { return false }
        if !dealIds.isEmpty {
            guard let dealId, dealIds.contains(dealId) else { return false }
        }
        return labels.allSatisfy { requestLabels[$0.key] == $0.value }
    }

    private enum CodingKeys: String, CodingKey { case operations, dealIds, labels }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        operations = try c.decodeIfPresent(Set<String>.self, forKey: .operations) ?? []
        dealIds = try c.decodeIfPresent(Set<DealID>.self, forKey: .dealIds) ?? []
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(operations.sorted(), forKey: .operations)
        try c.encode(dealIds.sorted(), forKey: .dealIds)
        try c.encode(labels, forKey: .labels)
    }
}
