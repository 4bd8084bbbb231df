/// Tokens a request costs. JSON: an integer, or `{"default": 1, "perOperation": {"order.create": 5}}`.
public enum RateCost: Hashable, Sendable {
    case fixed(Int)
    case perOperation([String: Int], default: Int)

    public func cost(of operation: String) -> Int {
        switch self {
        case .fixed(let cost): cost
        case .perOperation(let costs, let fallback): costs[operation] ?? fallback
        }
    }

    /// Every configured cost, keyed by operation (`nil` for the fixed or default cost).
    var allCosts: [(String?, Int)] {
        switch self {
        case .fixed(let cost): [(nil, cost)]
        case .perOperation(let costs, let fallback):
            [(nil, fallback)] + costs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
    }
}

extension RateCost: Codable {
    private enum CodingKeys: String, CodingKey { case `default`, perOperation }

    public init(from decoder: any Decoder) throws {
        if let fixed = try? decoder.singleValueContainer().decode(Int.self) {
            self = .fixed(fixed)
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self = .perOperation(
            try c.decode([String: Int].self, forKey: .perOperation),
            default: try c.decode(Int.self, forKey: .default))
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .fixed(let cost):
            var container = encoder.singleValueContainer()
            try container.encode(cost)
        case .perOperation(let costs, let fallback):
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(fallback, forKey: .default)
            try c.encode(costs, forKey: .perOperation)
        }
    }
}
