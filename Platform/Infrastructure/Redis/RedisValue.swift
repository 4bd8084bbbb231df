/// A Redis reply in Swift terms. Error replies never appear here: they are thrown as
/// ``RedisError`` with code ``RedisError/Code/server``.
public enum RedisValue: Sendable, Hashable {
    case string(String)
    case status(String)
    case integer(Int64)
    case array([RedisValue])
    case null

    /// The text of a bulk string or status reply.
    public var stringValue: String? {
        switch self {
        case .string(let s), .status(let s): s
        case .integer(let i): String(i)
        default: nil
        }
    }

    /// An integer reply, or a string reply holding a decimal integer.
    public var integerValue: Int64? {
        switch self {
        case .integer(let i): i
        case .string(let s): Int64(s)
        default: nil
        }
    }

    public var arrayValue: [RedisValue]? {
        if case .array(let a) = self { a } else { nil }
    }

    public var isNull: Bool { self == .null }
}
