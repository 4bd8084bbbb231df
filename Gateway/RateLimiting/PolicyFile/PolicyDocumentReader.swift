import Domain
import Yams

/// Walks the YAML tree of a policy file, validating each field where it is written and
/// collecting every problem rather than stopping at the first.
struct PolicyDocumentReader {
    var sink: DiagnosticSink

    /// Nil when the file cannot be interpreted at all (not a mapping, unsupported version).
    mutating func read(_ root: Node) -> PolicyDocument? {
        guard let top = sink.mapping(root, "the top level of the file", allowed: PolicyFileFormat.topLevelKeys) else {
            return nil
        }
        var version = PolicyFileFormat.supportedVersions.last!
        if let versionNode = top["version"] {
            guard let value = sink.integer(versionNode, "version") else { return nil }
            guard PolicyFileFormat.supportedVersions.contains(value) else {
                let supported = PolicyFileFormat.supportedVersions.map(String.init)
                sink.error(
                    "unsupported policy file version \(value); this flashdeal reads version \(Suggestions.list(supported))",
                    at: versionNode, hint: "check the file against the flashdeal release that will load it")
                return nil
            }
            version = value
        } else if top.lacks("version") {
            sink.missing("version", in: "the policy file", at: root, example: "version: 1 (as the first line)")
        }
        let defaults = top["defaults"].map { readDefaults($0) } ?? PolicyDefaults()
        guard let policiesNode = top["policies"] else {
            guard top.lacks("policies") else { return nil }
            sink.missing(
                "policies", in: "the policy file", at: root, example: "policies: [] (then one entry per policy)")
            return nil
        }
        guard case .sequence(let entries) = policiesNode else {
            sink.wrongType(
                policiesNode, "policies", expected: "a list of policies (each entry starting with '- name: …')")
            return nil
        }
        var policies: [LocatedPolicy] = []
        var firstLineOfName: [String: Int] = [:]
        for (index, entry) in entries.enumerated() {
            if let policy = readPolicy(entry, number: index + 1, defaults: defaults, firstLineOfName: &firstLineOfName)
            {
                policies.append(policy)
            }
        }
        return PolicyDocument(version: version, policies: policies)
    }

    private mutating func readDefaults(_ node: Node) -> PolicyDefaults {
        var defaults = PolicyDefaults()
        guard let fields = sink.mapping(node, "defaults", allowed: PolicyFileFormat.defaultsKeys) else {
            return defaults
        }
        if let cost = fields["cost"] { defaults.cost = sink.cost(cost) }
        if let action = fields["action"] { defaults.action = sink.action(action) }
        if let failMode = fields["failMode"] { defaults.failMode = sink.failMode(failMode) }
        defaults.cost?.inherited = true
        return defaults
    }

    private mutating func readPolicy(
        _ node: Node, number: Int, defaults: PolicyDefaults,
        firstLineOfName: inout [String: Int]
    ) -> LocatedPolicy? {
        let errorsBefore = sink.diagnostics.count
        guard let fields = sink.mapping(node, "policy #\(number)", allowed: PolicyFileFormat.policyKeys) else {
            return nil
        }

        var name: String?
        if let nameNode = fields["name"] {
            name = sink.policyName(nameNode)
            if let name {
                let line = nameNode.mark?.line ?? 1
                if let first = firstLineOfName[name] {
                    sink.error(
                        "duplicate policy name \(quoted(name)); it is already used by the policy at line \(first)",
                        at: nameNode,
                        hint: "policy names must be unique: they name Redis keys, metrics and response headers")
                } else {
                    firstLineOfName[name] = line
                }
            }
        }
        let label = name.map { "policy \(quoted($0))" } ?? "policy #\(number)"
        for key in PolicyFileFormat.requiredPolicyKeys where fields.lacks(key) {
            let examples = [
                "name": "name: per-ip-burst", "key": "key: clientIP",
                "bucket": "bucket: {capacity: 20, refillPerSecond: 5}",
            ]
            sink.missing(key, in: label, at: node, example: examples[key])
        }
        if let description = fields["description"] { _ = sink.string(description, "description") }
        let match = fields["match"].map { sink.match($0, policy: name ?? label) } ?? RateMatch.everything
        let key = fields["key"].flatMap { sink.keyKind($0) }
        let (bucket, capacity) = fields["bucket"].map { sink.bucket($0) } ?? (nil, nil)
        var cost = defaults.cost ?? CostSpec(cost: .fixed(1), entries: [])
        var action = defaults.action ?? .reject
        var failMode = defaults.failMode ?? .open
        if let node = fields["cost"], let value = sink.cost(node) { cost = value }
        if let node = fields["action"], let value = sink.action(node) { action = value }
        if let node = fields["failMode"], let value = sink.failMode(node) { failMode = value }

        if let capacity {
            for entry in cost.entries where entry.value > capacity {
                let what = entry.operation.map { "cost of \($0)" } ?? "cost"
                let origin = cost.inherited ? " (from defaults)" : ""
                sink.error(
                    "\(what) is \(entry.value)\(origin), above the bucket capacity \(capacity) of \(label); such requests could never pass",
                    at: entry.node, hint: "raise bucket.capacity to at least \(entry.value) or lower the cost")
            }
        }
        guard sink.diagnostics.count == errorsBefore, let name, let nameNode = fields["name"], let match, let key,
            let bucket
        else { return nil }
        do {
            let policy = try RatePolicy(
                name: name, match: match, key: key, bucket: bucket, cost: cost.cost,
                action: action, failMode: failMode)
            return LocatedPolicy(policy: policy, node: node, nameNode: nameNode)
        } catch {
            sink.error("\(label) is invalid: \(error.description)", at: node)
            return nil
        }
    }
}
