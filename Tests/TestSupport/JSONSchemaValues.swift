import Foundation

// MARK: - JSON values

/// A JSON number: exact for integers that fit in 64 bits, a double otherwise.
enum JSONNumber: Sendable, Equatable {
    case integer(Int64)
    case double(Double)

    var doubleValue: Double {
        switch self {
        case .integer(let i): Double(i)
        case .double(let d): d
        }
    }

    var isIntegral: Bool {
        switch self {
        case .integer: true
        case .double(let d): d.isFinite && d.rounded(.towardZero) == d
        }
    }

    var nonNegativeInt: Int? {
        switch self {
        case .integer(let i) where i >= 0: Int(i)
        case .double(let d) where d >= 0 && d.rounded(.towardZero) == d && d < 1e15: Int(d)
        default: nil
        }
    }

    static func < (a: JSONNumber, b: JSONNumber) -> Bool {
        if case .integer(let x) = a, case .integer(let y) = b { return x < y }
        return a.doubleValue < b.doubleValue
    }

    static func == (a: JSONNumber, b: JSONNumber) -> Bool {
        if case .integer(let x) = a, case .integer(let y) = b { return x == y }
        return a.doubleValue == b.doubleValue
    }

    var rendered: String {
        switch self {
        case .integer(let i): String(i)
        case .double(let d):
            d.isFinite && d.rounded(.towardZero) == d && abs(d) < 1e15 ? String(Int64(d)) + ".0" : String(d)
        }
    }
}

enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    private static let booleanClass: AnyClass = type(of: NSNumber(value: true))

    /// Reads a value produced by `JSONSerialization` or built from Swift literals; `nil` for anything else.
    init?(_ any: Any) {
        switch any {
        case is NSNull: self = .null
        case let b as Bool where Swift.type(of: any) == Bool.self: self = .bool(b)
        case let s as String: self = .string(s)
        case let n as NSNumber:
            if Swift.type(of: n) == Self.booleanClass {
                self = .bool(n.boolValue)
                return
            }
            switch String(cString: n.objCType) {
            case "d", "f": self = .number(.double(n.doubleValue))
            case "Q", "L", "I", "S", "C":
                self =
                    n.uint64Value <= UInt64(Int64.max)
                    ? .number(.integer(Int64(n.uint64Value)))
                    : .number(.double(n.doubleValue))
            default: self = .number(.integer(n.int64Value))
            }
        case let list as [Any]:
            var values: [JSONValue] = []
            for element in list {
                guard let value = JSONValue(element) else { return nil }
                values.append(value)
            }
            self = .array(values)
        case let dictionary as [String: Any]:
            var members: [String: JSONValue] = [:]
            for (key, element) in dictionary {
                guard let value = JSONValue(element) else { return nil }
                members[key] = value
            }
            self = .object(members)
        default:
            return nil
        }
    }

    /// Booleans never equal numbers; numbers compare by value (`1 == 1.0`), as JSON Schema specifies.
    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x == y
        default: false
        }
    }

    func isOfType(_ type: JSONType) -> Bool {
        switch (type, self) {
        case (.null, .null), (.boolean, .bool), (.object, .object), (.array, .array), (.number, .number),
            (.string, .string):
            true
        case (.integer, .number(let n)): n.isIntegral
        default: false
        }
    }

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number(let n): n.isIntegral ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// Compact JSON, for messages.
    var rendered: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n.rendered
        case .string(let s):
            var out = "\""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case _
                where scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value) || scalar.value == 0x2028
                    || scalar.value == 0x2029:
                    out += String(format: "\\u%04x", scalar.value)
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        case .array(let list): return "[" + list.map(\.rendered).joined(separator: ",") + "]"
        case .object(let members):
            return "{"
                + members.sorted { $0.key < $1.key }
                .map { JSONValue.string($0.key).rendered + ":" + $0.value.rendered }.joined(separator: ",") + "}"
        }
    }

    static func escapePointerToken(_ token: String) -> String {
        token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}

// MARK: - Patterns

/// An ECMA-262 regular expression run by ICU through `NSRegularExpression`.
///
/// ICU's `$` also matches before a line terminator at the end of the input; ECMA-262's (without the
/// multiline flag) matches only at the end. Every unescaped `$` outside a character class is
/// therefore compiled as `(?![\s\S])`, so `^ord_[0-9a-f]{32}$` refuses `"ord_…\n"`. Like
/// ECMA-262 the pattern is searched for anywhere in the string: anchor it to match the whole.
struct ECMAPattern: @unchecked Sendable {  // NSRegularExpression is immutable and thread-safe
    let source: String
    private let regex: NSRegularExpression

    init(_ source: String) throws {
        self.source = source
        regex = try NSRegularExpression(pattern: Self.translate(source))
    }

    func matches(_ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    static func translate(_ source: String) -> String {
        var out = ""
        var escaped = false
        var inClass = false
        for character in source {
            if escaped {
                out.append(character)
                escaped = false
                continue
            }
            switch character {
            case "\\":
                escaped = true
                out.append(character)
            case "[" where !inClass:
                inClass = true
                out.append(character)
            case "]" where inClass:
                inClass = false
                out.append(character)
            case "$" where !inClass: out += "(?![\\s\\S])"
            default: out.append(character)
            }
        }
        return out
    }
}

// MARK: - date-time

/// RFC 3339 §5.6 `date-time`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, `T` and `Z` in either case,
/// with real calendar days (leap years included). Leap seconds (`:60`) are refused: Flash Deal
/// never writes them and its timestamp parser does not read them.
enum RFC3339 {
    static func isDateTime(_ text: String) -> Bool {
        let c = Array(text.utf8)
        guard c.count >= 20 else { return false }
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard i < c.count, c[i] >= 0x30, c[i] <= 0x39 else { return nil }
                value = value * 10 + Int(c[i] - 0x30)
            }
            return value
        }
        func byte(_ i: Int, _ allowed: String) -> Bool { i < c.count && allowed.utf8.contains(c[i]) }
        guard let year = digits(0..<4), byte(4, "-"), let month = digits(5..<7), byte(7, "-"),
            let day = digits(8..<10), byte(10, "Tt"), let hour = digits(11..<13), byte(13, ":"),
            let minute = digits(14..<16), byte(16, ":"), let second = digits(17..<19)
        else { return false }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
            hour <= 23, minute <= 59, second <= 59
        else { return false }
        var i = 19
        if byte(i, ".") {
            i += 1
            let start = i
            while i < c.count, c[i] >= 0x30, c[i] <= 0x39 { i += 1 }
            guard i > start else { return false }
        }
        if byte(i, "Zz") { return i + 1 == c.count }
        guard byte(i, "+-"), let offsetHour = digits((i + 1)..<(i + 3)), byte(i + 3, ":"),
            let offsetMinute = digits((i + 4)..<(i + 6)), i + 6 == c.count
        else { return false }
        return offsetHour <= 23 && offsetMinute <= 59
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
