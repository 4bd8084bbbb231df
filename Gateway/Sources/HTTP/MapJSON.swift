import GraphQL
import OrderedCollections

/// JSON ⇄ GraphQL `Map` for request bodies and responses, directly on UTF-8 bytes.
///
/// `JSONDecoder` into `Map` tries every JSON type in turn at every level (about a quarter of the
/// gateway's CPU per request in a profile); this reads each value once. Integers stay integers,
/// object keys keep their order, nesting is bounded (`maximumDepth`), and anything that is not
/// RFC 8259 JSON is refused.
enum MapJSON {
    static let maximumDepth = 64

    struct SyntaxError: Error {}

    // MARK: Reading

    static func parse(_ bytes: some Collection<UInt8>) throws(SyntaxError) -> Map {
        let array = Array(bytes)
        var reader = Reader(bytes: array)
        reader.skipSpace()
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.index == array.count else { throw SyntaxError() }
        return value
    }

    struct Reader {
        let bytes: [UInt8]
        var index = 0

        mutating func skipSpace() {
            while index < bytes.count,
                bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09
            {
                index += 1
            }
        }

        mutating func value(depth: Int) throws(SyntaxError) -> Map {
            guard depth < MapJSON.maximumDepth, index < bytes.count else { throw SyntaxError() }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            default: return try number()
            }
        }

        mutating func literal(_ word: StaticString) throws(SyntaxError) {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw SyntaxError() }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { throw SyntaxError() }
            index += count
        }

        mutating func object(depth: Int) throws(SyntaxError) -> Map {
            index += 1
            var fields: OrderedDictionary<String, Map> = [:]
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .dictionary(fields)
            }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw SyntaxError() }
                let key = try string()
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw SyntaxError() }
                index += 1
                skipSpace()
                fields[key] = try value(depth: depth + 1)
                skipSpace()
                guard index < bytes.count else { throw SyntaxError() }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .dictionary(fields)
                }
                throw SyntaxError()
            }
        }

        mutating func array(depth: Int) throws(SyntaxError) -> Map {
            index += 1
            var items: [Map] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard index < bytes.count else { throw SyntaxError() }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(items)
                }
                throw SyntaxError()
            }
        }

        mutating func string() throws(SyntaxError) -> String {
            index += 1
            let start = index
            // Fast path: no escapes.
            while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
                guard bytes[index] >= 0x20 else { throw SyntaxError() }
                index += 1
            }
            guard index < bytes.count else { throw SyntaxError() }
            if bytes[index] == UInt8(ascii: "\"") {
                defer { index += 1 }
                guard let text = String(validating: bytes[start..<index], as: UTF8.self) else { throw SyntaxError() }
                return text
            }
            var out = Array(bytes[start..<index])
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    guard let text = String(validating: out, as: UTF8.self) else { throw SyntaxError() }
                    return text
                }
                guard byte >= 0x20 else { throw SyntaxError() }
                if byte != UInt8(ascii: "\\") {
                    out.append(byte)
                    index += 1
                    continue
                }
                index += 1
                guard index < bytes.count else { throw SyntaxError() }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                            bytes[index + 1] == UInt8(ascii: "u")
                        else { throw SyntaxError() }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw SyntaxError() }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw SyntaxError()
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw SyntaxError() }
                    out.append(contentsOf: Array(String(Character(unicode)).utf8))
                default: throw SyntaxError()
                }
            }
            throw SyntaxError()
        }

        mutating func hex4() throws(SyntaxError) -> UInt32 {
            guard index + 4 <= bytes.count else { throw SyntaxError() }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt32
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
                default: throw SyntaxError()
                }
                value = value << 4 | digit
                index += 1
            }
            return value
        }

        mutating func number() throws(SyntaxError) -> Map {
            let start = index
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw SyntaxError() }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else {
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            var integral = true
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                integral = false
                index += 1
                guard index < bytes.count, isDigit(bytes[index]) else { throw SyntaxError() }
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                integral = false
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                    index += 1
                }
                guard index < bytes.count, isDigit(bytes[index]) else { throw SyntaxError() }
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if integral, let int = Int(text) { return .number(Number(int)) }
            guard let double = Double(text), double.isFinite else { throw SyntaxError() }
            return .number(Number(double))
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    }

    // MARK: Writing

    static func write(_ value: Map, into out: inout [UInt8]) {
        switch value {
        case .undefined, .null: out.append(contentsOf: Array("null".utf8))
        case .bool(let b): out.append(contentsOf: b ? Array("true".utf8) : Array("false".utf8))
        case .number(let n):
            switch n.storageType {
            case .bool: out.append(contentsOf: Array((n.boolValue ? "true" : "false").utf8))
            case .int: out.append(contentsOf: Array(String(n.intValue).utf8))
            case .double, .unknown:
                let d = n.doubleValue
                out.append(
                    contentsOf: Array(
                        (d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)) : "null").utf8)
                )
            }
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .dictionary(let fields):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, item) in fields {
                if case .undefined = item { continue }
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [
                    0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)],
                    hex[Int(byte & 0x0F)],
                ])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A GraphQL response: `{"data": …, "errors": […]}` (each part only when present).
    static func response(data: Map?, errors: [GraphQLError]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(UInt8(ascii: "{"))
        var first = true
        if let data {
            out.append(contentsOf: Array(#""data":"#.utf8))
            write(data, into: &out)
            first = false
        }
        if !errors.isEmpty {
            if !first { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: Array(#""errors":["#.utf8))
            for (i, error) in errors.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                var fields: OrderedDictionary<String, Map> = ["message": .string(error.message)]
                if !error.locations.isEmpty {
                    fields["locations"] = .array(
                        error.locations.map {
                            .dictionary(["line": .number(Number($0.line)), "column": .number(Number($0.column))])
                        })
                }
                if !error.path.elements.isEmpty {
                    fields["path"] = .array(
                        error.path.elements.map {
                            switch $0 {
                            case .key(let key): .string(key)
                            case .index(let index): .number(Number(index))
                            }
                        })
                }
                if !error.extensions.isEmpty {
                    var extensions: OrderedDictionary<String, Map> = [:]
                    for key in error.extensions.keys.sorted() { extensions[key] = error.extensions[key] }
                    fields["extensions"] = .dictionary(extensions)
                }
                write(.dictionary(fields), into: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
