import RateLimiting
import Testing

/// A file with policy `a` (line 3) and then policy `b` (line 3 + lines of a's body + 1).
private func twoPolicies(_ a: String, _ b: String) -> String {
    func indent(_ body: String) -> String {
        body.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
    }
    return "version: 1\npolicies:\n  - name: a\n\(indent(a))\n  - name: b\n\(indent(b))\n"
}

private let broadStrict = "key: clientIP\nbucket: {capacity: 10, refillPerSecond: 5}"

@Suite("Policy file: unreachable policies")
struct PolicyFileReachabilityTests {
    @Test("a policy covered by an earlier reject policy (same key, broader match, smaller budget) is unreachable")
    func coveredByEarlierPolicy() throws {
        let diagnostic = try #require(
            onlyDiagnostic(
                twoPolicies(
                    broadStrict,
                    "match: {operations: [createOrder], labels: {tier: public}}\nkey: clientIP\nbucket: {capacity: 20, refillPerSecond: 5}"
                )))
        #expect(
            diagnostic.message.hasPrefix(
                #"policy "b" is unreachable: policy "a" (line 3) rejects every request it could limit"#))
        #expect(diagnostic.line == 6 && diagnostic.column == 11)
        #expect(diagnostic.hint?.contains("action: shadow") == true)
    }

    @Test("queue policies can be covered too, and file order does not matter")
    func orderDoesNotMatter() throws {
        // b is the broad, strict one here; a (earlier) is the covered one.
        let diagnostic = try #require(
            onlyDiagnostic(
                twoPolicies(
                    "match: {operations: [joinWaitingRoom]}\nkey: clientIP\nbucket: {capacity: 50, refillPerSecond: 10}\naction: queue",
                    broadStrict)))
        #expect(diagnostic.message.hasPrefix(#"policy "a" is unreachable: policy "b" (line 8)"#))
        #expect(diagnostic.line == 3)
    }

    @Test("of two identical policies the later one is reported")
    func identicalPolicies() throws {
        let diagnostic = try #require(onlyDiagnostic(twoPolicies(broadStrict, broadStrict)))
        #expect(diagnostic.message.hasPrefix(#"policy "b" is unreachable: policy "a""#))
    }

    @Test(
        "a policy is reachable when any part of the rule does not hold",
        arguments: [
            // the covering policy queues instead of rejecting
            (
                "key: clientIP\nbucket: {capacity: 10, refillPerSecond: 5}\naction: queue",
                "key: clientIP\nbucket: {capacity: 20, refillPerSecond: 5}"
            ),
            // a different key
            (
                "key: user\nbucket: {capacity: 10, refillPerSecond: 5}",
                "key: clientIP\nbucket: {capacity: 20, refillPerSecond: 5}"
            ),
            // a narrower match on operations, deals or labels
            (
                "match: {operations: [createOrder]}\nkey: clientIP\nbucket: {capacity: 10, refillPerSecond: 5}",
                "key: clientIP\nbucket: {capacity: 20, refillPerSecond: 5}"
            ),
            (
                "match: {deals: [deal-7]}\nkey: clientIP\nbucket: {capacity: 10, refillPerSecond: 5}",
                "match: {deals: [deal-7, deal-8]}\nkey: clientIP\nbucket: {capacity: 20, refillPerSecond: 5}"
            ),
            (
                "match: {labels: {tier: public}}\nkey: clientIP\nbucket: {capacity: 10, refillPerSecond: 5}",
                "key: clientIP\nbucket: {capacity: 20, refillPerSecond: 5}"
            ),
            // a bigger capacity or refill rate (with the other one bigger the other way, so neither covers)
            (
                "key: clientIP\nbucket: {capacity: 30, refillPerSecond: 4}",
                "key: clientIP\nbucket: {capacity: 20, refillPerSecond: 5}"
            ),
            (
                "key: clientIP\nbucket: {capacity: 10, refillPerSecond: 6}",
                "key: clientIP\nbucket: {capacity: 20, refillPerSecond: 5}"
            ),
            // a cheaper cost for some operation the other sees
            (
                "key: clientIP\nbucket: {capacity: 10, refillPerSecond: 5}",
                "key: clientIP\nbucket: {capacity: 20, refillPerSecond: 5}\ncost: {perOperation: {createOrder: 2}}"
            ),
            // the candidate is a shadow trial
            (broadStrict, "key: clientIP\nbucket: {capacity: 20, refillPerSecond: 5}\naction: shadow"),
            // the candidate fails closed while the covering one fails open
            (broadStrict, "key: clientIP\nbucket: {capacity: 20, refillPerSecond: 5}\nfailMode: closed"),
        ])
    func reachable(a: String, b: String) {
        let found = diagnostics(twoPolicies(a, b))
        #expect(found.isEmpty, "\(found.map(\.rendered))")
    }

    @Test("a policy whose match lists only unknown operations can never count a request")
    func onlyUnknownOperations() throws {
        let found = diagnostics(
            singlePolicy(
                "match:\n  operations: [checkout, payNow]\nkey: user\nbucket: {capacity: 5, refillPerSecond: 1}"))
        #expect(found.count == 3)
        let unreachable = try #require(found.first { $0.message.contains("unreachable") })
        #expect(
            unreachable.message
                == #"policy "p" is unreachable: none of the operations it matches exist, so it can never count a request"#
        )
        #expect(unreachable.line == 5 && unreachable.column == 7)
        #expect(found.filter { $0.message.hasPrefix("unknown operation") }.map(\.column) == [20, 30])
    }
}
