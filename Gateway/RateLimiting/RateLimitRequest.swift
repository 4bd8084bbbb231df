public import Domain

/// What the rate limiter knows about one request: enough to pick the policies that match it and
/// the bucket each of them counts it in.
public struct RateLimitRequest: Sendable, Hashable {
    /// The GraphQL operation name (`createOrder`, `joinWaitingRoom`, …).
    public var operation: String
    public var dealId: DealID?
    public var userId: UserID?
    /// The client address as the gateway resolved it (socket, or a trusted proxy's X-Forwarded-For).
    public var clientIP: String
    /// Request headers, names lower-cased.
    public var headers: [String: String]
    /// Free-form labels the gateway attaches (e.g. `tier: public`).
    public var labels: [String: String]

    public init(
        operation: String, dealId: DealID? = nil, userId: UserID? = nil, clientIP: String,
        headers: [String: String] = [:], labels: [String: String] = [:]
    ) {
        self.operation = operation
        self.dealId = dealId
        self.userId = userId
        self.clientIP = clientIP
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        self.labels = labels
    }
}

extension RatePolicy {
    /// The bucket identity this request is counted under, or `nil` when the request lacks what the
    /// policy keys on (an anonymous request for a per-user policy, a missing header): such a
    /// request is not counted by this policy.
    public func identity(for request: RateLimitRequest) -> String? {
        switch key {
        case .clientIP: request.clientIP.isEmpty ? nil : request.clientIP
        case .user: request.userId?.rawValue
        case .deal: request.dealId?.rawValue
        case .global: "*"
        case .header(let name): request.headers[name.lowercased()].flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    public func applies(to request: RateLimitRequest) -> Bool {
        matches(operation: request.operation, dealId: request.dealId, labels: request.labels)
    }
}

/// Redis keys of token buckets.
///
/// `rl:{<key kind>:<identity>}:<policy>` — the hash tag is the identity, so every policy that
/// counts one client (or user, or deal) lives in one Redis Cluster slot and is decided in one
/// function call. Braces inside an identity are escaped so they cannot move the hash tag.
public enum RateLimitKeys {
    public static func bucket(policy: RatePolicy, identity: String) -> String {
        "rl:{\(policy.key.rawValue):\(escape(identity))}:\(policy.name)"
    }

    /// The hash-tag part: keys with equal tags share a slot.
    public static func hashTag(policy: RatePolicy, identity: String) -> String {
        "\(policy.key.rawValue):\(escape(identity))"
    }

    static func escape(_ identity: String) -> String {
        guard identity.contains(where: { $0 == "{" || $0 == "}" || $0 == "%" }) else { return identity }
        var out = ""
        for ch in identity {
            switch ch {
            case "%": out += "%25"
            case "{": out += "%7B"
            case "}": out += "%7D"
            default: out.append(ch)
            }
        }
        return out
    }
}
