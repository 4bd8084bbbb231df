import Foundation
import TestSupport
import Testing

/// promtool (Prometheus 2.42), as `scripts/setup` installs it into `.deps/prometheus/bin`
/// (`FLASHDEAL_PROMTOOL` overrides the path). A test that needs it and cannot find it fails.
struct Promtool {
    let path: String

    struct Missing: Error, CustomStringConvertible {
        let tried: [String]
        var description: String {
            "promtool not found (tried \(tried.joined(separator: ", "))): run scripts/setup, or set FLASHDEAL_PROMTOOL"
        }
    }

    struct Result {
        let status: Int32
        let output: String
    }

    static func find() throws -> Promtool {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let explicit = environment["FLASHDEAL_PROMTOOL"], !explicit.isEmpty { candidates.append(explicit) }
        candidates.append(TestStack.root + "/.deps/prometheus/bin/promtool")
        for directory in (environment["PATH"] ?? "").split(separator: ":") {
            candidates.append("\(directory)/promtool")
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Missing(tried: Array(candidates.prefix(2)) + ["promtool on PATH"])
        }
        return Promtool(path: found)
    }

    /// Runs promtool with `arguments` in `directory`, `input` on its standard input; stdout and
    /// stderr together. Files, not pipes, so a large output can never block it.
    func run(_ arguments: [String], input: String = "", in directory: String = TestStack.root) throws -> Result {
        let run = try ChildProcess.run(path, arguments, directory: directory, input: Data(input.utf8))
        return Result(status: run.status ?? -1, output: run.output)
    }
}

/// The PromQL of Flash Deal's rules and dashboards, and the metric names it reads.
enum PromQLSources {
    static let root = TestStack.root
    static let ruleFiles = ["prometheus/rules/flashdeal-recording.yml", "prometheus/rules/flashdeal-alerts.yml"]
    static let dashboards = ["grafana/dashboards/hot-path.json", "grafana/dashboards/slo.json"]
    /// Series Prometheus makes itself rather than scraping.
    static let synthetic: Set<String> = [
        "up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds", "scrape_samples_scraped",
    ]

    struct Expression {
        let source: String
        let promQL: String
    }

    /// Every `expr` of the rule files (block scalars `expr: |` and inline ones).
    static func ruleExpressions() throws -> [Expression] {
        var out: [Expression] = []
        for file in ruleFiles {
            let lines = try String(contentsOfFile: root + "/" + file, encoding: .utf8).components(separatedBy: "\n")
            var index = 0
            while index < lines.count {
                let line = lines[index]
                guard let range = line.range(of: "expr:"),
                    line[..<range.lowerBound].allSatisfy({ $0 == " " || $0 == "-" })
                else {
                    index += 1
                    continue
                }
                let rest = line[range.upperBound...].trimmingCharacters(in: .whitespaces)
                let indent = line.prefix { $0 == " " || $0 == "-" }.count
                if rest == "|" || rest == ">" || rest == "|-" || rest == ">-" {
                    var body: [String] = []
                    index += 1
                    while index < lines.count {
                        let next = lines[index]
                        let nextIndent = next.prefix { $0 == " " }.count
                        if !next.trimmingCharacters(in: .whitespaces).isEmpty && nextIndent <= indent { break }
                        body.append(next.trimmingCharacters(in: .whitespaces))
                        index += 1
                    }
                    out.append(
                        Expression(source: "\(file) (expr ending line \(index))", promQL: body.joined(separator: " ")))
                } else {
                    var text = rest
                    if text.count >= 2, let first = text.first, first == "\"" || first == "'", text.last == first {
                        text = String(text.dropFirst().dropLast())
                    }
                    out.append(Expression(source: "\(file):\(index + 1)", promQL: text))
                    index += 1
                }
            }
        }
        return out
    }

    /// Names recorded by the recording rules.
    static func recordedNames() throws -> Set<String> {
        var names: Set<String> = []
        for file in ruleFiles {
            for line in try String(contentsOfFile: root + "/" + file, encoding: .utf8).components(separatedBy: "\n") {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("- record:") {
                    names.insert(trimmed.dropFirst("- record:".count).trimmingCharacters(in: .whitespaces))
                }
            }
        }
        return names
    }

    /// Every PromQL expression of the dashboards (panel targets, and the selector inside each
    /// template variable's `label_values(…)`), with Grafana's variables replaced by values.
    static func dashboardExpressions() throws -> [Expression] {
        var out: [Expression] = []
        for file in dashboards {
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/" + file)))
            func walk(_ value: Any, _ path: String) {
                if let object = value as? [String: Any] {
                    if let expr = object["expr"] as? String {
                        out.append(
                            Expression(
                                source: "\(file) \(path) \"\(object["legendFormat"] as? String ?? "")\"",
                                promQL: substituteVariables(expr)))
                    }
                    if let definition = object["definition"] as? String, definition.hasPrefix("label_values(") {
                        let inner = definition.dropFirst("label_values(".count).dropLast()
                        let selector = inner.split(separator: ",").dropLast().joined(separator: ",")
                        out.append(
                            Expression(source: "\(file) \(path) variable", promQL: substituteVariables(selector)))
                    }
                    for (key, child) in object { walk(child, path + "." + key) }
                } else if let array = value as? [Any] {
                    for (i, child) in array.enumerated() { walk(child, path + "[\(i)]") }
                }
            }
            walk(json, "")
        }
        return out
    }

    static func substituteVariables(_ expr: String) -> String {
        expr.replacingOccurrences(of: "$__rate_interval", with: "1m")
            .replacingOccurrences(of: "$__interval", with: "1m")
            .replacingOccurrences(of: "$__range", with: "1h")
            .replacingOccurrences(of: "${deal}", with: ".*")
            .replacingOccurrences(of: "$deal", with: ".*")
    }

    /// A rules file with every expression as a recording rule, so `promtool check rules` parses them all.
    static func rulesFile(for expressions: [Expression]) throws -> String {
        var text = "groups:\n  - name: every-expression\n    rules:\n"
        for (i, expression) in expressions.enumerated() {
            let quoted = String(
                decoding: try JSONSerialization.data(
                    withJSONObject: expression.promQL,
                    options: [.fragmentsAllowed, .withoutEscapingSlashes]),
                as: UTF8.self)
            text += "      - record: check:expression_\(i)\n        expr: \(quoted)\n"
        }
        return text
    }

    static let keywords: Set<String> = [
        "and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
        "group_right", "bool", "offset", "inf", "nan", "Inf", "NaN", "atan2",
    ]

    /// The metric names an expression reads: identifiers that are not functions, aggregations,
    /// keywords, label names (inside `{…}` and grouping clauses), durations or numbers.
    static func metricNames(in expr: String) -> Set<String> {
        // Strings out first (label values may hold anything), then matchers, ranges and groupings.
        var text = ""
        var quote: Character?
        var escaped = false
        for c in expr {
            if let q = quote {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == q { quote = nil }
                continue
            }
            if c == "\"" || c == "'" || c == "`" {
                quote = c
                text.append(" ")
                continue
            }
            text.append(c)
        }
        text = removeBracketed(text, open: "{", close: "}")
        text = removeBracketed(text, open: "[", close: "]")
        text = text.replacingOccurrences(
            of: #"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"#,
            with: " ", options: .regularExpression)
        var names: Set<String> = []
        let characters = Array(text)
        var i = 0
        func isStart(_ c: Character) -> Bool { c.isLetter || c == "_" || c == ":" }
        func isPart(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c == ":" }
        while i < characters.count {
            let c = characters[i]
            guard isStart(c) else {
                i += 1
                continue
            }
            let afterNumber = i > 0 && (characters[i - 1].isNumber || characters[i - 1] == ".")
            var j = i
            while j < characters.count && isPart(characters[j]) { j += 1 }
            let word = String(characters[i..<j])
            var k = j
            while k < characters.count && characters[k] == " " { k += 1 }
            let isCall = k < characters.count && characters[k] == "("
            if !afterNumber && !isCall && !keywords.contains(word) { names.insert(word) }
            i = j
        }
        return names
    }

    private static func removeBracketed(_ text: String, open: Character, close: Character) -> String {
        var out = ""
        var depth = 0
        for c in text {
            if c == open {
                depth += 1
                continue
            }
            if c == close {
                depth = max(0, depth - 1)
                out.append(" ")
                continue
            }
            if depth == 0 { out.append(c) }
        }
        return out
    }

    /// The sample names of a Prometheus text exposition (`x_bucket`, `x_count` and `x_sum` included).
    static func sampleNames(in exposition: String) -> Set<String> {
        var names: Set<String> = []
        for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
            let name = line.prefix { $0 != "{" && $0 != " " }
            if !name.isEmpty { names.insert(String(name)) }
        }
        return names
    }
}
