import Domain

/// What the rate limiter says about one request.
public struct RateLimitDecision: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        /// Go on.
        case allowed
        /// Refused by a `reject` policy: answer RATE_LIMITED with Retry-After.
        case limited
        /// Over a `queue` policy: send the shopper to the waiting room.
        case queued
        /// Redis could not decide in time and a `closed` policy applies: answer UNAVAILABLE.
        case unavailable
    }

    /// One matching policy's part in the decision.
    public struct Verdict: Sendable, Equatable {
        public enum Result: String, Sendable {
            case allowed, limited, queued
            /// A shadow policy would have limited this request; it proceeds and is counted.
            case shadowLimited = "shadow_limited"
            /// This bucket had tokens but another enforcing policy refused the request.
            case notCharged = "not_charged"
            /// Redis unreachable or over budget: the policy's fail mode applied.
            case failedOpen = "failed_open"
            case failedClosed = "failed_closed"
        }
        public var policy: String
        public var result: Result
        public var capacity: Int
        public var refillPerSecond: Double
        public var remaining: Int
        /// Time until this bucket can pay for the request again (when it could not).
        public var retryAfter: Duration?
        /// Answered from the in-process over-limit cache, without Redis.
        public var fromCache: Bool

        public init(
            policy: String, result: Result, capacity: Int, refillPerSecond: Double, remaining: Int,
            retryAfter: Duration?, fromCache: Bool
        ) {
            self.policy = policy
            self.result = result
            self.capacity = capacity
            self.refillPerSecond = refillPerSecond
            self.remaining = remaining
            self.retryAfter = retryAfter
            self.fromCache = fromCache
        }
    }

    public var outcome: Outcome
    public var verdicts: [Verdict]
    public var retryAfter: Duration?

    public init(outcome: Outcome, verdicts: [Verdict], retryAfter: Duration?) {
        self.outcome = outcome
        self.verdicts = verdicts
        self.retryAfter = retryAfter
    }

    public static let noPolicy = RateLimitDecision(outcome: .allowed, verdicts: [], retryAfter: nil)

    /// `RateLimit-Policy`, `RateLimit` (IETF httpapi ratelimit-headers draft, structured fields) and,
    /// when refused, `Retry-After` (whole seconds, rounded up).
    public var headers: [(name: String, value: String)] {
        let shown = verdicts.filter { $0.result != .failedOpen && $0.result != .failedClosed }
        var headers: [(String, String)] = []
        if !shown.isEmpty {
            headers.append(
                (
                    "RateLimit-Policy",
                    shown.map {
                        "\"\($0.policy)\";q=\($0.capacity);w=\(Self.seconds(Double($0.capacity) / max($0.refillPerSecond, 1e-9)))"
                    }.joined(separator: ", ")
                ))
            headers.append(
                (
                    "RateLimit",
                    shown.map { v in
                        let reset =
                            v.retryAfter.map(Self.seconds)
                            ?? Self.seconds(
                                Double(v.capacity - v.remaining) / max(v.refillPerSecond, 1e-9))
                        return "\"\(v.policy)\";r=\(max(0, v.remaining));t=\(reset)"
                    }.joined(separator: ", ")
                ))
        }
        if outcome != .allowed, let retryAfter {
            headers.append(("Retry-After", String(Self.seconds(retryAfter))))
        }
        return headers
    }

    static func seconds(_ d: Duration) -> Int {
        seconds(d.seconds)
    }

    static func seconds(_ value: Double) -> Int { max(0, Int(value.rounded(.up))) }
}
