import Domain
import Yams

/// Readers for the individual fields of a policy entry.
extension DiagnosticSink {
    mutating func policyName(_ node: Node) -> String? {
        guard let name = string(node, "name") else { return nil }
        do {
            _ = try Identifier<PolicyNameKind>(name)
            return name
        } catch {
            self.error(
                "invalid policy name \(quoted(name)): \(error.description)", at: node,
                hint: "the name becomes part of Redis keys and metrics; use e.g. per-ip-burst")
            return nil
        }
    }

    mutating func operationName(_ operation: String, at node: Node) -> Bool {
        guard PolicyFileFormat.knownOperations.contains(operation) else {
            error(
                "unknown operation \(quoted(operation)); known operations are \(Suggestions.list(PolicyFileFormat.knownOperations))",
                at: node, hint: Suggestions.didYouMean(operation, in: PolicyFileFormat.knownOperations))
            return false
        }
        return true
    }

    /// `match:`. Returns nil when anything in it is wrong.
    mutating func match(_ node: Node, policy: String) -> RateMatch? {
        guard let fields = mapping(node, "match", allowed: PolicyFileFormat.matchKeys) else { return nil }
        var ok = true
        var operations: Set<String> = []
        if let list = fields["operations"] {
            if let items = stringList(list, "match.operations") {
                let known = items.filter { operationName($0.0, at: $0.1) }
                if known.isEmpty {
                    error(
                        "policy \(quoted(policy)) is unreachable: none of the operations it matches exist, so it can never count a request",
                        at: fields.keyNode("operations"),
                        hint: "known operations are \(Suggestions.list(PolicyFileFormat.knownOperations))")
                }
                ok = ok && known.count == items.count
                operations = Set(known.map(\.0))
            } else {
                ok = false
            }
        }
        var deals: Set<DealID> = []
        if let list = fields["deals"] {
            if let items = stringList(list, "match.deals") {
                for (raw, item) in items {
                    do { deals.insert(try DealID(raw)) } catch {
                        self.error("invalid deal id \(quoted(raw)): \(error.description)", at: item)
                        ok = false
                    }
                }
            } else {
                ok = false
            }
        }
        var labels: [String: String] = [:]
        if let labelsNode = fields["labels"] {
            if let read = stringMap(labelsNode, "match.labels") { labels = read } else { ok = false }
        }
        return ok ? RateMatch(operations: operations, dealIds: deals, labels: labels) : nil
    }

    /// A mapping of free-form names to strings (labels).
    mutating func stringMap(_ node: Node, _ what: String) -> [String: String]? {
        guard case .mapping(let mapping) = node else {
            wrongType(node, what, expected: "a mapping of names to strings, e.g. {tier: public}")
            return nil
        }
        var result: [String: String] = [:]
        var ok = true
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let scalar) = keyNode, keyNode.tagName != .null, !scalar.string.isEmpty else {
                error(
                    "names in \(what) must be non-empty plain strings, but this one is \(describe(keyNode))",
                    at: keyNode)
                ok = false
                continue
            }
            if let value = string(valueNode, "\(what).\(scalar.string)") {
                result[scalar.string] = value
            } else {
                ok = false
            }
        }
        return ok ? result : nil
    }

    mutating func keyKind(_ node: Node) -> RateKeyKind? {
        guard let raw = string(node, "key") else { return nil }
        let allowed = PolicyFileFormat.keyKinds + ["\(PolicyFileFormat.headerKeyPrefix)<Name>"]
        if raw.hasPrefix(PolicyFileFormat.headerKeyPrefix) || PolicyFileFormat.keyKinds.contains(raw) {
            do { return try RateKeyKind(rawValue: raw) } catch {
                self.error(
                    "key \(quoted(raw)) names an invalid HTTP header", at: node,
                    hint: "a header name is one or more letters, digits or !#$%&'*+-.^_`|~, e.g. header:X-Api-Key")
                return nil
            }
        }
        let synonyms = [
            "ip": "clientIP", "client": "clientIP", "remoteAddr": "clientIP", "userId": "user",
            "dealId": "deal", "all": "global", "header": "header:<Name>",
        ]
        let suggestion = synonyms[raw] ?? Suggestions.closest(to: raw, in: PolicyFileFormat.keyKinds)
        error(
            "unknown key \(quoted(raw)); expected one of \(Suggestions.list(allowed))", at: node,
            hint: suggestion.map { "did you mean \($0)?" })
        return nil
    }

    /// `bucket:`; `capacity` is returned on its own when only it is valid, so costs can still be
    /// checked against it.
    mutating func bucket(_ node: Node) -> (bucket: RateBucket?, capacity: Int?) {
        guard let fields = mapping(node, "bucket", allowed: PolicyFileFormat.bucketKeys) else { return (nil, nil) }
        var capacity: Int?
        var refill: Double?
        if let capacityNode = fields["capacity"], let value = integer(capacityNode, "bucket.capacity") {
            if value < 1 {
                error(
                    "bucket capacity must be at least 1, got \(value)", at: capacityNode,
                    hint: "capacity is the largest burst one identity may send at once")
            } else {
                capacity = value
            }
        } else if fields.lacks("capacity") {
            missing("capacity", in: "bucket", at: node, example: "capacity: 20")
        }
        if let refillNode = fields["refillPerSecond"], let value = number(refillNode, "bucket.refillPerSecond") {
            if !(value.isFinite && value > 0) {
                error(
                    "bucket refillPerSecond must be a positive number, got \(refillNode.scalar?.string ?? "\(value)")",
                    at: refillNode, hint: "for N requests a minute use N/60, e.g. 0.5 for 30 a minute")
            } else {
                refill = value
            }
        } else if fields.lacks("refillPerSecond") {
            missing("refillPerSecond", in: "bucket", at: node, example: "refillPerSecond: 5")
        }
        guard let capacity, let refill else { return (nil, capacity) }
        return (try? RateBucket(capacity: capacity, refillPerSecond: refill), capacity)
    }

    /// `cost:` — a whole number, or `{default: 1, perOperation: {createOrder: 5}}`.
    mutating func cost(_ node: Node) -> CostSpec? {
        if case .mapping = node {
            guard let fields = mapping(node, "cost", allowed: PolicyFileFormat.costKeys) else { return nil }
            var ok = true
            var entries: [(operation: String?, value: Int, node: Node)] = []
            var fallback = 1
            if let defaultNode = fields["default"] {
                if let value = costValue(defaultNode, "cost.default") {
                    fallback = value
                    entries.append((nil, value, defaultNode))
                } else {
                    ok = false
                }
            }
            var perOperation: [String: Int] = [:]
            if let mapNode = fields["perOperation"] {
                if case .mapping(let map) = mapNode {
                    for (opNode, valueNode) in map {
                        guard let operation = string(opNode, "an operation name in cost.perOperation") else {
                            ok = false
                            continue
                        }
                        let known = operationName(operation, at: opNode)
                        if let value = costValue(valueNode, "cost.perOperation.\(operation)"), known {
                            perOperation[operation] = value
                            entries.append((operation, value, valueNode))
                        } else {
                            ok = false
                        }
                    }
                } else {
                    wrongType(
                        mapNode, "cost.perOperation", expected: "a mapping of operation to cost, e.g. {createOrder: 5}")
                    ok = false
                }
            }
            guard ok else { return nil }
            let cost: RateCost =
                perOperation.isEmpty ? .fixed(fallback) : .perOperation(perOperation, default: fallback)
            return CostSpec(cost: cost, entries: entries.isEmpty ? [(nil, 1, node)] : entries)
        }
        guard let value = costValue(node, "cost") else { return nil }
        return CostSpec(cost: .fixed(value), entries: [(nil, value, node)])
    }

    private mutating func costValue(_ node: Node, _ what: String) -> Int? {
        guard let value = integer(node, what) else { return nil }
        guard value >= 1 else {
            error("\(what) must be at least 1, got \(value)", at: node, hint: "every request takes at least one token")
            return nil
        }
        return value
    }

    mutating func action(_ node: Node) -> RateAction? {
        enumeration(
            node, "action", allowed: PolicyFileFormat.actions,
            synonyms: [
                "deny": "reject", "block": "reject", "drop": "reject", "limit": "reject",
                "wait": "queue", "waitingRoom": "queue", "log": "shadow", "dryRun": "shadow", "dry-run": "shadow",
            ]
        )
        .flatMap(RateAction.init(rawValue:))
    }

    mutating func failMode(_ node: Node) -> RateFailMode? {
        enumeration(
            node, "failMode", allowed: PolicyFileFormat.failModes,
            synonyms: [
                "fail-open": "open", "failOpen": "open", "allow": "open",
                "fail-closed": "closed", "failClosed": "closed", "close": "closed", "deny": "closed",
            ]
        )
        .flatMap(RateFailMode.init(rawValue:))
    }

    private mutating func enumeration(_ node: Node, _ what: String, allowed: [String], synonyms: [String: String])
        -> String?
    {
        // `failMode: off` and friends parse as YAML booleans; say which word to use instead.
        if node.tagName == .bool, case .scalar(let scalar) = node {
            error(
                "unknown \(what) \(quoted(scalar.string)); expected one of \(Suggestions.list(allowed))", at: node,
                hint: synonyms[scalar.string].map { "did you mean \($0)?" })
            return nil
        }
        guard let raw = string(node, what) else { return nil }
        guard allowed.contains(raw) else {
            let suggestion = synonyms[raw] ?? Suggestions.closest(to: raw, in: allowed)
            error(
                "unknown \(what) \(quoted(raw)); expected one of \(Suggestions.list(allowed))", at: node,
                hint: suggestion.map { "did you mean \($0)?" })
            return nil
        }
        return raw
    }
}

/// Policy names follow the identifier rules (they become part of Redis keys).
enum PolicyNameKind: IdentifierKind { static var fieldName: String { "the name" } }
