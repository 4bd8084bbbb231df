public import Domain
import Foundation
import RateLimiting
import Synchronization

/// What one HTTP request carries into the resolvers: who asks, from where, and what the rate
/// limiter said along the way (its headers go on the response).
public final class CallContext: Sendable {
    public let userId: UserID?
    /// The token carries the operator role (``OperatorAPI`` requires it).
    public let isOperator: Bool
    public let clientIP: String
    /// Request headers, names lower-cased.
    public let headers: [String: String]
    /// The W3C trace context to propagate (the caller's, or a fresh one).
    public let traceparent: String
    private let recorded = Mutex<Recorded>(Recorded())

    struct Recorded {
        var decisions: [RateLimitDecision] = []
        var outcomes: [(operation: String, outcome: String)] = []
    }

    public init(
        userId: UserID?, isOperator: Bool = false, clientIP: String, headers: [String: String], traceparent: String
    ) {
        self.userId = userId
        self.isOperator = isOperator
        self.clientIP = clientIP
        self.headers = headers
        self.traceparent = traceparent
    }

    func record(_ decision: RateLimitDecision) {
        recorded.withLock { $0.decisions.append(decision) }
    }

    func record(operation: String, outcome: String) {
        recorded.withLock { $0.outcomes.append((operation, outcome)) }
    }

    var decisions: [RateLimitDecision] { recorded.withLock { $0.decisions } }
    var outcomes: [(operation: String, outcome: String)] { recorded.withLock { $0.outcomes } }

    func requireUser() throws(APIError) -> UserID {
        guard let userId else {
            throw APIError(.unauthenticated, "this operation needs a shopper token: send `Authorization: Bearer <jwt>`")
        }
        return userId
    }

    /// The operator's id, or FORBIDDEN (a shopper's token) / UNAUTHENTICATED (none).
    func requireOperator() throws(APIError) -> UserID {
        let user = try requireUser()
        guard isOperator else {
            throw APIError(.forbidden, "operator actions and the console need a token with the operator role")
        }
        return user
    }
}

/// W3C trace context (`traceparent`): the caller's if it is well-formed, else a new root.
enum TraceContext {
    static func traceparent(from header: String?) -> String {
        if let header, isValid(header) { return childOf(header) }
        return "00-\(randomHex(16))-\(randomHex(8))-01"
    }

    /// Same trace, new span id (this gateway's span).
    static func childOf(_ parent: String) -> String {
        let parts = parent.split(separator: "-")
        return "00-\(parts[1])-\(randomHex(8))-\(parts[3])"
    }

    static func isValid(_ value: String) -> Bool {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "00", parts[1].count == 32, parts[2].count == 16, parts[3].count == 2 else {
            return false
        }
        let hex = parts.dropFirst().allSatisfy { $0.allSatisfy(\.isHexDigit) && $0 == $0.lowercased() }
        return hex && parts[1] != String(repeating: "0", count: 32) && parts[2] != String(repeating: "0", count: 16)
    }

    /// `bytes` random bytes as lowercase hex: one system random call per 8 bytes (a trace id and
    /// a span id per request; drawing byte by byte cost a system call per byte).
    static func randomHex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var random = [UInt8](repeating: 0, count: bytes)
        var word: UInt64 = 0
        for index in 0..<bytes {
            if index % 8 == 0 { word = generator.next() }
            random[index] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(index % 8)))
        }
        return Hex.lowercase(random)
    }
}
