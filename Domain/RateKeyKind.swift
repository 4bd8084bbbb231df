/// What a request is counted by. JSON: `"clientIP"`, `"user"`, `"deal"`, `"global"`, `"header:<Name>"`.
public enum RateKeyKind: Hashable, Sendable {
    case clientIP
    case user
    case deal
    case global
    case header(String)

    public var rawValue: String {
        switch self {
        case .clientIP: "clientIP"
        case .user: "user"
        case .deal: "deal"
        case .global: "global"
        case .header(let name): "header:\(name)"
        }
    }

    public init(rawValue: String) throws(RatePolicyValidationError) {
        switch rawValue {
        case "clientIP": self = .clientIP
        case "user": self = .user
        case "deal": self = .deal
        case "global": self = .global
        case _ where rawValue.hasPrefix("header:"):
            let name = String(rawValue.dropFirst("header:".count))
            guard Self.isValidHeaderName(name) else { throw .invalidHeaderName(name) }
            self = .header(name)
        default: throw .unknownKeyKind(rawValue)
        }
    }

    /// An HTTP field name: a non-empty RFC 9110 token.
    static func isValidHeaderName(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy { scalar in
                switch scalar {
                case "a"..."z", "A"..."Z", "0"..."9": true
                case "!", "#", "$", "%", "&", "'", "*", "+", "-", ".", "^", "_", "`", "|", "~": true
                default: false
                }
            }
    }
}

extension RateKeyKind: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        do { try self.init(rawValue: raw) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
