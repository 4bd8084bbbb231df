public import Domain
import Synchronization

/// The policies in force, swapped atomically as a whole by a reload.
public struct ActivePolicies: Sendable, Equatable {
    /// Identifies the policy file's content (its digest); shown in logs and metrics.
    public var version: String
    public var policies: [RatePolicy]

    public init(version: String, policies: [RatePolicy]) {
        self.version = version
        self.policies = policies
    }
}

/// Holds the active policies. Readers take a consistent snapshot; a reload replaces it in one step.
public final class PolicyStore: Sendable {
    private let active: Mutex<ActivePolicies>

    public init(_ initial: ActivePolicies) { active = Mutex(initial) }

    public var current: ActivePolicies { active.withLock { $0 } }

    public func replace(with policies: ActivePolicies) { active.withLock { $0 = policies } }
}
