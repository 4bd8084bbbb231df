public import Foundation

/// One BSON value, as far as Flash Deal uses BSON.
///
/// Values of BSON types outside this set, read back from the server, become the closest case:
/// an ObjectId, Decimal128, regular expression, JavaScript code or symbol a `.string` (ObjectId as
/// its 24 hex digits), binary data a `.string` of its base64, a timestamp an `.int64`
/// (`seconds << 32 | increment`), and undefined, MinKey, MaxKey and DBPointer `.null`.
public enum BSONValue: Sendable, Hashable {
    case string(String)
    case int32(Int32)
    case int64(Int64)
    case double(Double)
    case bool(Bool)
    /// A BSON `date_time`: milliseconds since the Unix epoch. Sub-millisecond precision is rounded
    /// to the nearest millisecond when written.
    case date(Date)
    case null
    case document(BSONDocument)
    case array([BSONValue])

    /// The string, if this is a `.string`.
    public var stringValue: String? {
        if case .string(let v) = self { v } else { nil }
    }

    /// The integer, if this is an `.int32`.
    public var int32Value: Int32? {
        if case .int32(let v) = self { v } else { nil }
    }

    /// The integer, if this is an `.int64` or an `.int32` (servers and drivers pick either width).
    public var int64Value: Int64? {
        switch self {
        case .int64(let v): v
        case .int32(let v): Int64(v)
        default: nil
        }
    }

    /// ``int64Value`` as an `Int`.
    public var intValue: Int? { int64Value.map(Int.init) }

    /// The number, if this is a `.double`, `.int32` or `.int64` (a `$sum` comes back as any of them).
    public var doubleValue: Double? {
        switch self {
        case .double(let v): v
        case .int32(let v): Double(v)
        case .int64(let v): Double(v)
        default: nil
        }
    }

    /// The flag, if this is a `.bool`.
    public var boolValue: Bool? {
        if case .bool(let v) = self { v } else { nil }
    }

    /// The instant, if this is a `.date`.
    public var dateValue: Date? {
        if case .date(let v) = self { v } else { nil }
    }

    /// The embedded document, if this is a `.document`.
    public var documentValue: BSONDocument? {
        if case .document(let v) = self { v } else { nil }
    }

    /// The elements, if this is an `.array`.
    public var arrayValue: [BSONValue]? {
        if case .array(let v) = self { v } else { nil }
    }

    /// `true` for `.null`.
    public var isNull: Bool { self == .null }
}

extension BSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    /// Integer literals are 64-bit (`.int64`), like Swift's `Int`.
    public init(integerLiteral value: Int64) { self = .int64(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: BSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, BSONValue)...) {
        self = .document(BSONDocument(elements))
    }
}

extension BSONValue: CustomStringConvertible {
    /// A relaxed-JSON-like rendering for logs and test failures.
    public var description: String {
        switch self {
        case .string(let v): "\"\(v)\""
        case .int32(let v): "\(v)"
        case .int64(let v): "NumberLong(\(v))"
        case .double(let v): "\(v)"
        case .bool(let v): "\(v)"
        case .date(let v): "ISODate(\(v.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))))"
        case .null: "null"
        case .document(let v): v.description
        case .array(let v): "[" + v.map(\.description).joined(separator: ", ") + "]"
        }
    }
}
