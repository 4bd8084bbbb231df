/// ISO 4217 alphabetic code, three uppercase ASCII letters (e.g. `KRW`, `USD`).
public struct CurrencyCode: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) throws(MoneyError) {
        let scalars = Array(rawValue.unicodeScalars)
        guard scalars.count == 3, scalars.allSatisfy({ ("A"..."Z").contains($0) }) else {
            throw .invalidCurrencyCode(rawValue)
        }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        do { try self.init(raw) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// An amount in the currency's minor unit (cents, or whole won for KRW), never floating point.
public struct Money: Hashable, Sendable, Codable {
    public let amountMinor: Int64
    public let currency: CurrencyCode

    public init(amountMinor: Int64, currency: CurrencyCode) {
        self.amountMinor = amountMinor
        self.currency = currency
    }
}

public enum MoneyError: DomainError {
    case invalidCurrencyCode(String)

    public var description: String {
        switch self {
        case .invalidCurrencyCode(let code):
            "currency must be a three-letter uppercase ISO 4217 code, got \(code.debugDescription)"
        }
    }
}
