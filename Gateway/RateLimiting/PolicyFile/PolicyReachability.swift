import Domain

/// The "redundant policy" rule of `flashdeal policy check`.
///
/// Policy A *covers* policy B when all of these hold:
/// - A's action is `reject`, and B's is `reject` or `queue` (shadow policies are trials: never flagged);
/// - both count by the same key (so they see the same identity for every request);
/// - A's match is the same or broader: every request B matches, A matches too;
/// - A's budget is the same or smaller: capacity and refill rate ≤ B's, and for every operation B
///   can see A charges at least as many tokens as B;
/// - A is not fail-open while B is fail-closed (when the store is down, B would still decide).
///
/// Then, under the limiter's charging rule (a request is charged to every enforcing policy or to
/// none), B's bucket never holds fewer tokens than A's, so whenever B is empty A is too and has
/// already rejected the request: removing B would not change a single decision. B is reported as
/// unreachable. File order does not matter; when two policies cover each other, the later one is
/// reported.
enum PolicyReachability {
    /// For each covered policy, the index of the first policy covering it.
    static func redundant(_ policies: [RatePolicy]) -> [(covered: Int, by: Int)] {
        var result: [(covered: Int, by: Int)] = []
        for (b, policy) in policies.enumerated() {
            let coveringIndex = policies.indices.first { a in
                a != b && covers(policies[a], policy) && !(a > b && covers(policy, policies[a]))
            }
            if let coveringIndex { result.append((b, coveringIndex)) }
        }
        return result
    }

    static func covers(_ a: RatePolicy, _ b: RatePolicy) -> Bool {
        guard a.action == .reject, b.action != .shadow, a.key == b.key else { return false }
        guard !(a.failMode == .open && b.failMode == .closed) else { return false }
        guard a.bucket.capacity <= b.bucket.capacity, a.bucket.refillPerSecond <= b.bucket.refillPerSecond else {
            return false
        }
        guard isBroaderOrEqual(a.match, b.match) else { return false }
        return operationsSeen(by: b).allSatisfy { a.cost(of: $0) >= b.cost(of: $0) }
    }

    /// Every request `narrow` matches is matched by `broad`.
    static func isBroaderOrEqual(_ broad: RateMatch, _ narrow: RateMatch) -> Bool {
        let operations =
            broad.operations.isEmpty || (!narrow.operations.isEmpty && narrow.operations.isSubset(of: broad.operations))
        let deals = broad.dealIds.isEmpty || (!narrow.dealIds.isEmpty && narrow.dealIds.isSubset(of: broad.dealIds))
        let labels = broad.labels.allSatisfy { narrow.labels[$0.key] == $0.value }
        return operations && deals && labels
    }

    /// The operation names whose cost matters for `policy`: its matched operations, or every
    /// known one plus a name no cost table lists (which pays the default).
    private static func operationsSeen(by policy: RatePolicy) -> [String] {
        policy.match.operations.isEmpty
            ? PolicyFileFormat.knownOperations + ["\u{0}unlisted"]
            : policy.match.operations.sorted()
    }
}
