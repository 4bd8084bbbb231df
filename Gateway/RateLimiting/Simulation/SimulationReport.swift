public import Domain

/// What replaying a trace against a policy set did.
public struct SimulationReport: Sendable, Equatable {
    /// One policy's view of the trace.
    public struct PolicyCounts: Sendable, Equatable {
        public let name: String
        public let key: RateKeyKind
        public let action: RateAction
        /// Requests the policy matched and could key (had the IP, user, deal or header it counts by).
        public var matched = 0
        /// Distinct identities (buckets) it saw.
        public var identities = 0
        /// Requests it charged tokens for.
        public var allowed = 0
        /// Requests it found its bucket empty for, by action.
        public var limited = 0
        public var queued = 0
        public var shadow = 0
        /// Requests it had tokens for but were stopped by another policy, so it was not charged.
        public var notCharged = 0

        public init(name: String, key: RateKeyKind, action: RateAction) {
            self.name = name
            self.key = key
            self.action = action
        }
    }

    /// Request outcomes. `allowed + limited + queued == offered`; `shadow` counts requests (of any
    /// outcome) that at least one shadow policy would have limited.
    public struct Outcomes: Sendable, Equatable {
        public var offered = 0
        public var allowed = 0
        public var limited = 0
        public var queued = 0
        public var shadow = 0

        public init() {}

        mutating func record(_ decision: SimulatedDecision) {
            offered += 1
            switch decision.outcome {
            case .allowed: allowed += 1
            case .limited: limited += 1
            case .queued: queued += 1
            }
            if !decision.shadowLimitedBy.isEmpty { shadow += 1 }
        }
    }

    /// Outcomes of the requests that arrived during one second of the trace.
    public struct Second: Sendable, Equatable {
        /// Whole seconds since the start of the trace (`floor(t)`).
        public let second: Int
        public var outcomes = Outcomes()

        public init(second: Int) { self.second = second }
    }

    public var policies: [PolicyCounts]
    public var totals = Outcomes()
    /// Requests no policy counted (allowed, and part of `totals.allowed`).
    public var unmatched = 0
    /// Seconds that saw at least one request, in order.
    public var timeline: [Second] = []
    /// `t` of the first and last request.
    public var firstTime: Double?
    public var lastTime: Double?

    public init(policies: [RatePolicy]) {
        self.policies = policies.map { PolicyCounts(name: $0.name, key: $0.key, action: $0.action) }
    }
}
