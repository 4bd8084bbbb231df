import Yams

/// Turns Yams/libyaml errors into positioned diagnostics.
enum YAMLSyntaxDiagnostics {
    static func diagnose(_ error: any Error, yaml: String, into sink: inout DiagnosticSink) {
        guard let error = error as? YamlError else {
            sink.error("could not read the file as YAML: \(error)", line: 1, column: 1)
            return
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            sink.error(
                "invalid YAML: \(problem)", at: mark,
                hint: hint(problem: problem, context: context, mark: mark, yaml: yaml))
        case .reader(let problem, let offset, let value, _):
            let (line, column) = position(ofCharacterOffset: offset ?? 0, in: yaml)
            let character = value >= 0 ? " (U+" + String(value, radix: 16, uppercase: true) + ")" : ""
            sink.error(
                "invalid YAML: \(problem)\(character)", line: line, column: column,
                hint: "policy files must be UTF-8 text without control characters")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? "?"
            let first = context.mark
            if let second = secondOccurrence(of: key, after: first, in: yaml) {
                sink.error(
                    "key \(quoted(key)) appears twice in the same mapping", line: second.line, column: second.column,
                    hint: "it is first set at line \(first.line); keep one")
            } else {
                sink.error("key \(quoted(key)) appears twice in the same mapping", at: first, hint: "keep one of them")
            }
        default:
            sink.error("could not read the file as YAML: \(error)", line: 1, column: 1)
        }
    }

    private static func hint(problem: String, context: YamlError.Context?, mark: Mark, yaml: String) -> String? {
        let lines = yamlLines(yaml)
        if mark.line - 1 < lines.count, lines[mark.line - 1].prefix(while: { $0 == " " || $0 == "\t" }).contains("\t") {
            return "YAML does not allow tabs for indentation; use spaces"
        }
        if problem.contains("mapping values are not allowed") {
            return "a value containing ': ' must be quoted, or a key is indented differently from its siblings"
        }
        if let context {
            return "\(context.text) that starts at line \(context.mark.line), column \(context.mark.column)"
        }
        return nil
    }

    /// 1-based line and column (in Unicode scalars, like libyaml) of a Character offset.
    static func position(ofCharacterOffset offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for (index, character) in text.enumerated() {
            if index >= offset { break }
            if character.isNewline {
                line += 1
                column = 1
            } else {
                column += character.unicodeScalars.count
            }
        }
        return (line, column)
    }

    /// Yams points at the first of two equal keys; the fix is usually at the second, a later line
    /// that starts with the same key at the same column.
    private static func secondOccurrence(of key: String, after first: Mark, in yaml: String) -> (
        line: Int, column: Int
    )? {
        let lines = yamlLines(yaml)
        guard first.line >= 1, first.line <= lines.count else { return nil }
        for number in first.line..<lines.count {
            let scalars = lines[number]
            let start = first.column - 1
            guard start >= 0, start < scalars.count else { continue }
            let indent = scalars[..<start]
            guard indent.allSatisfy({ $0 == " " || $0 == "-" }) else { continue }
            var rest = String(String.UnicodeScalarView(scalars[start...]))
            if rest.hasPrefix("\"\(key)\"") || rest.hasPrefix("'\(key)'") {
                rest = String(rest.dropFirst(key.count + 2))
            } else if rest.hasPrefix(key) {
                rest = String(rest.dropFirst(key.count))
            } else {
                continue
            }
            if rest.drop(while: { $0 == " " }).hasPrefix(":") { return (number + 1, first.column) }
        }
        return nil
    }

    /// The text's lines as libyaml counts them (its marks' line numbers): CR LF, CR, LF, NEL, LS
    /// and PS each end a line.
    static func yamlLines(_ text: String) -> [[Unicode.Scalar]] {
        var lines: [[Unicode.Scalar]] = [[]]
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n" where previousWasCR: break
            case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}": lines.append([])
            default: lines[lines.count - 1].append(scalar)
            }
            previousWasCR = scalar == "\r"
        }
        return lines
    }
}
