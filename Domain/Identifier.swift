/// Names one family of identifiers (deal, user, order…) for the phantom-typed `Identifier`.
public protocol IdentifierKind: Sendable {
    /// Field name used in error messages, e.g. `"dealId"`.
    static var fieldName: String { get }
}

/// A validated, typed string identifier. `Identifier<DealIDKind>` and `Identifier<UserIDKind>`
/// are distinct types, so ids cannot be mixed up.
///
/// Every identifier is 1…128 characters drawn from `A–Z a–z 0–9 - _ . :`, so it can be embedded
/// in Redis keys, Kafka keys and log lines without escaping. It encodes as a plain JSON string.
public struct Identifier<Kind: IdentifierKind>: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static var maximumLength: Int { 128 }

    public let rawValue: String

    public init(_ rawValue: String) throws(IdentifierError) {
        try Self.validate(rawValue)
        self.rawValue = rawValue
    }

    /// For values the domain derives itself and knows to be valid.
    init(trusted rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    static func validate(_ raw: String) throws(IdentifierError) {
        let field = Kind.fieldName
        if raw.isEmpty { throw .empty(field: field) }
        var position = 0
        for scalar in raw.unicodeScalars {
            guard Self.isAllowed(scalar) else {
                throw .invalidCharacter(field: field, character: String(scalar), position: position)
            }
            position += 1
        }
        if position > maximumLength {
            throw .tooLong(field: field, length: position, maximum: maximumLength)
        }
    }

    static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "-", "_", ".", ":": true
        default: false
        }
    }
}

extension Identifier: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        do {
            try self.init(raw)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Lets `[UserID: Int]` and friends encode as JSON objects rather than flat arrays.
extension Identifier: CodingKeyRepresentable {
    public var codingKey: any CodingKey { IdentifierCodingKey(stringValue: rawValue) }

    public init?<T: CodingKey>(codingKey: T) {
        guard let value = try? Self(codingKey.stringValue) else { return nil }
        self = value
    }
}

struct IdentifierCodingKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

public enum IdentifierError: DomainError {
    case empty(field: String)
    case tooLong(field: String, length: Int, maximum: Int)
    case invalidCharacter(field: String, character: String, position: Int)

    public var description: String {
        switch self {
        case .empty(let field):
            "\(field) must not be empty"
        case .tooLong(let field, let length, let maximum):
            "\(field) is \(length) characters long; the maximum is \(maximum)"
        case .invalidCharacter(let field, let character, let position):
            "\(field) contains \(character.debugDescription) at position \(position); "
                + "allowed are letters, digits, '-', '_', '.', ':'"
        }
    }
}
