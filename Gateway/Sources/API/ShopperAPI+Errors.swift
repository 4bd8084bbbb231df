import Admission
import Credentials
import Domain
import Logging

/// How ShopperAPI names what happened: the span attributes of its decisions, and the APIError each
/// refusal or failure becomes.
extension ShopperAPI {
    // MARK: Span attributes

    /// The waiting room's answer to a join, as `flashdeal.admission.decision`.
    static func decision(_ outcome: JoinOutcome) -> String {
        switch outcome {
        case .joined: "joined"
        case .alreadyJoined: "already_joined"
        case .notOpenYet: "not_open"
        case .soldOut: "sold_out"
        case .queueClosed: "queue_closed"
        case .ended: "ended"
        case .unknownDeal: "unknown_deal"
        }
    }

    /// An enum value's case name without its associated values (`waiting`, `admitted`, `used`, …),
    /// for `flashdeal.admission.decision`.
    static func caseName(_ value: some Sendable) -> String {
        "\(value)".prefix { $0 != "(" }.description
    }

    // MARK: Error mapping

    static func dealID(_ raw: String) throws(APIError) -> DealID {
        do { return try DealID(raw) } catch { throw APIError(.badRequest, error.description) }
    }

    /// A dependency failed: the shopper hears UNAVAILABLE (retry later), the log gets the cause
    /// (inside the request's trace); internal error text never goes to the client.
    func unavailable(_ what: String, _ error: any Error) -> APIError {
        Self.unavailable(what, error, logger: logger)
    }

    /// The same for the operators' API, with its own logger.
    static func unavailable(_ what: String, _ error: any Error, logger: Logger) -> APIError {
        logger.warning("\(what) is unavailable; answered UNAVAILABLE", metadata: ["error": "\(error)"])
        return APIError(.unavailable, "\(what) is unavailable right now; retry later", retryAfter: .seconds(1))
    }

    static func passError(_ error: CredentialError) -> APIError {
        switch error.code {
        case .expired: APIError(.passExpired, "this pass has expired; join the waiting room again")
        case .notYetValid:
            APIError(.passInvalid, error.description, retryable: true, details: ["reason": "NOT_YET_VALID"])
        case .wrongUser:
            APIError(.passInvalid, "this pass belongs to another shopper", details: ["reason": "WRONG_USER"])
        case .wrongDeal: APIError(.passInvalid, "this pass is for another deal", details: ["reason": "WRONG_DEAL"])
        case .unknownKey:
            APIError(
                .passInvalid, "this pass was signed with a key no longer accepted", details: ["reason": "UNKNOWN_KEY"])
        case .badSignature:
            APIError(.passInvalid, "this pass's signature does not match", details: ["reason": "BAD_SIGNATURE"])
        default: APIError(.passInvalid, "this pass is malformed", details: ["reason": "MALFORMED"])
        }
    }

    /// A request that could not be published. `kept`: createOrder after the pass was bound — the
    /// order is recorded and will be delivered (a retry with the same idempotency key publishes it
    /// now; otherwise the worker's re-sender does, within its bound), so the shopper hears UNKNOWN,
    /// never NOT_ACCEPTED. Otherwise (shed before binding, a cancellation) nothing was kept.
    static func publishError(_ refusal: OrderRequestPublisher.Refusal, orderId: OrderID? = nil, kept: Bool = false)
        -> APIError
    {
        var details: [String: String] = [:]
        if let orderId { details["orderId"] = orderId.rawValue }
        if kept {
            let what: String =
                switch refusal {
                case .overloaded: "the order queue is at capacity"
                case .outcomeUnknown: "the order queue did not confirm in time"
                case .notSent: "the order queue refused the order for now"
                }
            details["outcome"] = "UNKNOWN"
            return APIError(
                .unavailable,
                "\(what): the order is recorded and will be delivered; retrying with the same idempotency key is safe and never creates a second order",
                retryAfter: .seconds(1), details: details)
        }
        switch refusal {
        case .overloaded:
            details["outcome"] = "NOT_ACCEPTED"
            return APIError(
                .unavailable, "the gateway is at capacity; nothing was done, retry shortly",
                retryAfter: .seconds(1), details: details)
        case .outcomeUnknown:
            details["outcome"] = "UNKNOWN"
            return APIError(
                .unavailable,
                "the queue did not confirm in time: the request may or may not be placed; retrying is safe",
                retryAfter: .seconds(1), details: details)
        case .notSent:
            details["outcome"] = "NOT_ACCEPTED"
            return APIError(
                .unavailable, "the queue refused the request; nothing was placed, retry later",
                retryAfter: .seconds(1), details: details)
        }
    }
}
