import Domain
import Foundation

/// The JSON object on one trace line:
/// `{"t": 0.125, "op": "createOrder", "deal": "deal-7", "user": "u-1", "ip": "10.0.0.1", "headers": {…}, "labels": {…}}`.
/// `t` and `op` are required; the rest are optional (`null` = absent). Unknown fields are errors,
/// so a misspelt `usr` cannot silently turn every request anonymous.
struct TraceLine: Decodable {
    static let fields = ["t", "op", "deal", "user", "ip", "headers", "labels"]

    let time: Double
    let request: RateLimitRequest

    struct Problem: Error { let message: String }

    private struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container: KeyedDecodingContainer<Key>
        do { container = try decoder.container(keyedBy: Key.self) } catch {
            throw Problem(
                message: "expected a JSON object like {\"t\": 0.5, \"op\": \"createOrder\", \"ip\": \"10.0.0.1\"}")
        }
        for key in container.allKeys where !Self.fields.contains(key.stringValue) {
            let suggestion = Suggestions.didYouMean(key.stringValue, in: Self.fields).map { " (\($0))" } ?? ""
            throw Problem(
                message:
                    "unknown field \(key.stringValue.debugDescription)\(suggestion); fields are \(Suggestions.list(Self.fields))"
            )
        }
        func field<T: Decodable>(_ name: String, _ type: T.Type, _ expected: String) throws -> T? {
            do { return try container.decodeIfPresent(T.self, forKey: Key(stringValue: name)) } catch {
                throw Problem(message: "field \"\(name)\" must be \(expected)")
            }
        }
        guard let time = try field("t", Double.self, "a number of seconds") else {
            throw Problem(message: "missing field \"t\" (seconds since the start of the trace)")
        }
        guard time.isFinite, time >= 0 else {
            throw Problem(message: "field \"t\" must be zero or more seconds, got \(time)")
        }
        guard let operation = try field("op", String.self, "a string"), !operation.isEmpty else {
            throw Problem(message: "missing field \"op\" (the GraphQL operation, e.g. \"createOrder\")")
        }
        var dealId: DealID?
        if let raw = try field("deal", String.self, "a string") {
            do { dealId = try DealID(raw) } catch { throw Problem(message: "field \"deal\": \(error.description)") }
        }
        var userId: UserID?
        if let raw = try field("user", String.self, "a string") {
            do { userId = try UserID(raw) } catch { throw Problem(message: "field \"user\": \(error.description)") }
        }
        let ip = try field("ip", String.self, "a string") ?? ""
        let headers = try field("headers", [String: String].self, "an object of strings") ?? [:]
        let labels = try field("labels", [String: String].self, "an object of strings") ?? [:]
        self.time = time
        self.request = RateLimitRequest(
            operation: operation, dealId: dealId, userId: userId, clientIP: ip,
            headers: headers, labels: labels)
    }
}
