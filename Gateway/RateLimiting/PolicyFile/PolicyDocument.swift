import Domain
import Yams

/// A policy as read from the file, with the nodes that later checks point at.
struct LocatedPolicy {
    let policy: RatePolicy
    /// The policy's mapping (its first key).
    let node: Node
    let nameNode: Node
}

/// The file after reading and per-field validation, before cross-policy checks.
struct PolicyDocument {
    var version: Int
    var policies: [LocatedPolicy]
}

/// A cost as written, each value with the node it came from.
struct CostSpec {
    let cost: RateCost
    /// `nil` operation = the fixed or default cost.
    let entries: [(operation: String?, value: Int, node: Node)]
    /// True when the policy inherited it from `defaults:`.
    var inherited = false
}

/// `defaults:` — policy fields applied to every policy that omits them.
struct PolicyDefaults {
    var cost: CostSpec?
    var action: RateAction?
    var failMode: RateFailMode?
}
