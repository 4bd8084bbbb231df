import Yams

/// The entries of a YAML mapping whose keys were all recognised, in file order.
struct Fields {
    let node: Node
    private(set) var entries: [(key: String, keyNode: Node, value: Node)] = []
    /// Known keys that an unknown key looked like a misspelling of: not reported again as missing.
    var misspelt: Set<String> = []

    init(node: Node) { self.node = node }

    mutating func append(_ key: String, _ keyNode: Node, _ value: Node) { entries.append((key, keyNode, value)) }

    subscript(key: String) -> Node? { entries.first { $0.key == key }?.value }
    /// True when `key` is absent and no misspelling of it was already reported.
    func lacks(_ key: String) -> Bool { self[key] == nil && !misspelt.contains(key) }
    func keyNode(_ key: String) -> Node? { entries.first { $0.key == key }?.keyNode }
}

/// Typed reads of YAML nodes that report, rather than throw, what is wrong.
extension DiagnosticSink {
    /// Reads a mapping whose keys must all be in `allowed`; unknown keys are reported (with a
    /// suggestion) and skipped. Returns nil when `node` is not a mapping.
    mutating func mapping(_ node: Node, _ what: String, allowed: [String]) -> Fields? {
        guard case .mapping(let mapping) = node else {
            wrongType(node, what, expected: "a mapping (key: value lines)")
            return nil
        }
        var fields = Fields(node: node)
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode, keyNode.tagName != .null else {
                error("keys of \(what) must be plain names, but this one is \(describe(keyNode))", at: keyNode)
                continue
            }
            let key = scalar.string
            guard allowed.contains(key) else {
                if let suggestion = unknownKey(key, at: keyNode, in: what, allowed: allowed) {
                    fields.misspelt.insert(suggestion)
                }
                continue
            }
            fields.append(key, keyNode, value)
        }
        return fields
    }

    /// Reports an unknown key; returns the allowed key it looks like a misspelling of.
    @discardableResult
    mutating func unknownKey(_ key: String, at node: Node, in what: String, allowed: [String]) -> String? {
        var hint: String?
        let suggestion = Suggestions.closest(to: key, in: allowed)
        if key == "<<" {
            hint = "YAML merge keys are not supported; put shared settings under the top-level defaults:"
        } else if let suggestion {
            hint = "did you mean \(suggestion)?"
        } else if let home = PolicyFileFormat.homeOfKey[key] {
            hint = "\(key) belongs in \(home)"
        }
        error(
            "unknown key \(quoted(key)) in \(what); allowed keys are \(Suggestions.list(allowed))", at: node, hint: hint
        )
        return suggestion
    }

    mutating func missing(_ key: String, in what: String, at node: Node, example: String? = nil) {
        error(
            "\(what) is missing the required field \(quoted(key))", at: node,
            hint: example.map { "add, for example: \($0)" })
    }

    mutating func wrongType(_ node: Node, _ what: String, expected: String, hint: String? = nil) {
        var hint = hint
        if hint == nil, case .scalar(let scalar) = node, scalar.style == .singleQuoted || scalar.style == .doubleQuoted,
            expected.contains("number"), Double(scalar.string) != nil
        {
            hint = "remove the quotes: \(scalar.string)"
        }
        error("\(what) must be \(expected), but it is \(describe(node))", at: node, hint: hint)
    }

    /// A string scalar. Unquoted numbers, booleans and nulls are reported, as JSON Schema would.
    mutating func string(_ node: Node, _ what: String) -> String? {
        guard case .scalar(let scalar) = node else {
            wrongType(node, what, expected: "a string")
            return nil
        }
        switch node.tagName {
        case .str: return scalar.string
        case .null:
            error("\(what) is empty", at: node, hint: "give it a value, or remove the line")
            return nil
        default:
            wrongType(node, what, expected: "a string", hint: "quote it: \"\(scalar.string)\"")
            return nil
        }
    }

    /// A whole number written as a YAML integer.
    mutating func integer(_ node: Node, _ what: String) -> Int? {
        if node.tagName == .int {
            if let value = node.int { return value }
            error("\(what) is too large: \(scalarText(node))", at: node)
            return nil
        }
        if node.tagName == .float, let value = node.float, value.isFinite, value.rounded() == value {
            error(
                "\(what) must be a whole number, but it is \(scalarText(node))", at: node,
                hint: "write it without a decimal point")
            return nil
        }
        wrongType(node, what, expected: "a whole number")
        return nil
    }

    /// A number, whole or decimal.
    mutating func number(_ node: Node, _ what: String) -> Double? {
        if node.tagName == .int, let value = node.int.map(Double.init) ?? node.scalar.flatMap({ Double($0.string) }) {
            return value
        }
        if node.tagName == .float, let value = node.float { return value }
        wrongType(node, what, expected: "a number")
        return nil
    }

    /// A list of strings, each with its node. An empty list is reported: in a match it would
    /// look like "nothing" but mean "anything".
    mutating func stringList(_ node: Node, _ what: String) -> [(String, Node)]? {
        guard case .sequence(let sequence) = node else {
            wrongType(node, what, expected: "a list, e.g. [a, b]")
            return nil
        }
        if sequence.isEmpty {
            error(
                "\(what) is an empty list", at: node,
                hint: "omit \(what) to match everything, or list at least one value")
            return nil
        }
        var items: [(String, Node)] = []
        var ok = true
        for item in sequence {
            if let value = string(item, "each entry of \(what)") { items.append((value, item)) } else { ok = false }
        }
        return ok ? items : nil
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        case .scalar(let scalar):
            switch node.tagName {
            case .null: "empty"
            case .int, .float: "the number \(scalar.string)"
            case .bool: "the boolean \(scalar.string)"
            case .timestamp: "the date \(scalar.string)"
            default: "the string \(quoted(String(scalar.string.prefix(40))))"
            }
        }
    }

    private func scalarText(_ node: Node) -> String { node.scalar?.string ?? describe(node) }
}

/// `"value"` with quotes and escapes, for messages.
func quoted(_ value: String) -> String { value.debugDescription }

extension Node {
    /// The node's resolved tag (`str` for quoted scalars, `int` for `42`, `null` for `~`…).
    var tagName: Tag.Name { Tag.Name(rawValue: tag.rawValue) }
}
