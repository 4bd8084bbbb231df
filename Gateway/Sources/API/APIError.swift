import Foundation
import GraphQL

/// Every refusal the API can give, with its machine-readable code. This is the one place where a
/// failure becomes a client answer: the GraphQL `extensions` (code, retryable, details) and,
/// when a whole request is refused, the HTTP status and `Retry-After`.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case badRequest = "BAD_REQUEST"
        case unauthenticated = "UNAUTHENTICATED"
        case forbidden = "FORBIDDEN"
        case notFound = "NOT_FOUND"
        case rateLimited = "RATE_LIMITED"
        case queued = "QUEUED"
        case soldOut = "SOLD_OUT"
        case queueClosed = "QUEUE_CLOSED"
        case dealNotOpen = "DEAL_NOT_OPEN"
        case dealEnded = "DEAL_ENDED"
        case passRequired = "PASS_REQUIRED"
        case passInvalid = "PASS_INVALID"
        case passExpired = "PASS_EXPIRED"
        case passUsed = "PASS_USED"
        case idempotencyConflict = "IDEMPOTENCY_CONFLICT"
        case limitExceeded = "LIMIT_EXCEEDED"
        case actionRefused = "ACTION_REFUSED"
        case unavailable = "UNAVAILABLE"
        case persistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"
        case queryTooLarge = "QUERY_TOO_LARGE"
        case queryTooDeep = "QUERY_TOO_DEEP"
        case queryTooComplex = "QUERY_TOO_COMPLEX"
        case parseFailed = "GRAPHQL_PARSE_FAILED"
        case validationFailed = "GRAPHQL_VALIDATION_FAILED"
        case internalError = "INTERNAL"
    }

    public var code: Code
    public var message: String
    /// Whether the same request may succeed later unchanged.
    public var retryable: Bool
    public var retryAfter: Duration?
    /// Extra fields for `extensions` (ticket, orderId, opensAt, reason…), JSON-compatible values.
    public var details: [String: String]
    /// Numbers for `extensions` (position…).
    public var numbers: [String: Double]

    public init(
        _ code: Code, _ message: String, retryable: Bool? = nil, retryAfter: Duration? = nil,
        details: [String: String] = [:], numbers: [String: Double] = [:]
    ) {
        self.code = code
        self.message = message
        self.retryable = retryable ?? Self.defaultRetryable(code)
        self.retryAfter = retryAfter
        self.details = details
        self.numbers = numbers
    }

    public var description: String { "\(code.rawValue): \(message)" }

    static func defaultRetryable(_ code: Code) -> Bool {
        switch code {
        case .rateLimited, .queued, .unavailable, .dealNotOpen, .persistedQueryNotFound: true
        default: false
        }
    }

    /// The HTTP status when this error refuses the whole request (no data at all).
    public var httpStatus: Int { Self.httpStatus(code) }

    /// Every HTTP status the gateway answers with is decided here: by the error's code, or for a
    /// refusal of the exchange itself by ``httpStatus(_:)-(HTTPRefusal)``.
    public static func httpStatus(_ code: Code) -> Int {
        switch code {
        case .badRequest, .parseFailed, .validationFailed, .queryTooDeep, .queryTooComplex: 400
        case .queryTooLarge: 413
        case .unauthenticated: 401
        case .forbidden: 403
        case .rateLimited: 429
        case .unavailable: 503
        case .internalError: 500
        default: 200
        }
    }

    /// The status of a refusal of the HTTP exchange itself (method, media types, body size), which
    /// answers with this error's code in the body.
    public static func httpStatus(_ refusal: HTTPRefusal) -> Int {
        switch refusal {
        case .methodNotAllowed: 405
        case .notAcceptable: 406
        case .unsupportedMediaType: 415
        }
    }

    /// Whether this outcome is a designed business answer (not an error for SLOs and load tests).
    public var isBusinessOutcome: Bool {
        switch code {
        case .rateLimited, .queued, .soldOut, .queueClosed, .dealNotOpen, .dealEnded, .passUsed, .limitExceeded: true
        default: false
        }
    }

    /// `extensions` of the GraphQL error.
    var extensions: [String: Map] {
        var out: [String: Map] = ["code": .string(code.rawValue), "retryable": .bool(retryable)]
        if let retryAfter {
            out["retryAfter"] = .number(
                Number(
                    Int(
                        (Double(retryAfter.components.seconds)
                            + Double(retryAfter.components.attoseconds) / 1e18).rounded(.up))))
        }
        for (key, value) in details { out[key] = .string(value) }
        for (key, value) in numbers { out[key] = .number(Number(value)) }
        return out
    }

    func graphQLError(nodes: [any Node] = [], path: GraphQL.IndexPath = []) -> GraphQLError {
        GraphQLError(message: message, nodes: nodes, path: path, extensions: extensions)
    }
}

/// Refusals of the HTTP exchange before any GraphQL is read (``APIError/httpStatus(_:)``).
public enum HTTPRefusal: Sendable {
    case methodNotAllowed, notAcceptable, unsupportedMediaType
}
