import Foundation

extension KeyedEncodingContainer {
    mutating func encodeTimestamp(_ date: Date, forKey key: Key) throws {
        try encode(Timestamp.format(date), forKey: key)
    }
}

extension KeyedDecodingContainer {
    func decodeTimestamp(forKey key: Key) throws -> Date {
        let text = try decode(String.self, forKey: key)
        guard let date = Timestamp.parse(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self,
                debugDescription:
                    "expected an ISO-8601 UTC timestamp like 2026-11-25T10:00:00.123Z, got \(text.debugDescription)")
        }
        return date
    }

    func decodeValidated<T>(_ type: T.Type = T.self, forKey key: Key, _ build: () throws -> T) throws -> T {
        do {
            return try build()
        } catch let error as any DomainError {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: error.description)
        }
    }
}
