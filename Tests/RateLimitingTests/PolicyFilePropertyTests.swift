import PropertyBased
import RateLimiting
import Testing

/// Fragments that make random text look like (broken) policy YAML.
private let yamlFragments: [String] = [
    "version", "policies", "defaults", "name", "key", "bucket", "capacity", "refillPerSecond", "cost", "default",
    "perOperation", "match", "operations", "deals", "labels", "action", "failMode", "description",
    "clientIP", "user", "header:X-Api-Key", "global", "reject", "queue", "shadow", "open", "closed", "createOrder",
    ": ", ":", "- ", "-", "\n", "\n  ", "\n    ", "\n  - ", " ", "  ", "{", "}", "[", "]", ", ", "#", "\"", "'", "\t",
    "&a ", "*a", "!!str ", "!!int ", "|", ">", "%YAML 1.2\n", "---\n", "...\n", "?", "@", "`", "~", "null", "true",
    "0", "1", "-1", "2.5", "1e9", ".inf", ".nan", "0x1F", "99999999999999999999", "é", "🚀", "\u{0}", "\u{7}", "\r",
    "\r\n", "\u{85}", "\u{2028}", "\u{FEFF}", "<<: ", "x",
]

/// Mutations of a valid file, line by line.
private enum Mutation: Int, CaseIterable {
    case delete, duplicate, swapWithNext, replaceToken, insertFragment, truncate, indent, dedent
}

/// 1-based (line, column) limits a diagnostic may point at: libyaml breaks lines at \n, \r\n, \r,
/// NEL, LS and PS, counts columns in Unicode scalars, and may point just past the end.
private func positionIsValid(_ diagnostic: PolicyDiagnostic, in text: String) -> Bool {
    var lengths: [Int] = [0]
    var previousWasCR = false
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n" where previousWasCR: break
        case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}": lengths.append(0)
        default: lengths[lengths.count - 1] += 1
        }
        previousWasCR = scalar == "\r"
    }
    guard diagnostic.line >= 1, diagnostic.line <= lengths.count + 1, diagnostic.column >= 1 else { return false }
    let length = diagnostic.line <= lengths.count ? lengths[diagnostic.line - 1] : 0
    return diagnostic.column <= length + 2
}

/// The loader's contract: a policy set, or at least one diagnostic, each at a real position.
private func checkContract(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        let set = try PolicyLoader.parse(yaml: text, file: "fuzz.yaml")
        #expect(set.digest.count == 12, sourceLocation: sourceLocation)
    } catch {
        #expect(
            !error.diagnostics.isEmpty, "no diagnostics for:\n\(text.debugDescription)", sourceLocation: sourceLocation)
        for diagnostic in error.diagnostics {
            #expect(
                positionIsValid(diagnostic, in: text), "\(diagnostic) is outside:\n\(text.debugDescription)",
                sourceLocation: sourceLocation)
            #expect(
                diagnostic.description.hasPrefix("fuzz.yaml:\(diagnostic.line):\(diagnostic.column): error: "),
                sourceLocation: sourceLocation)
            #expect(!diagnostic.message.isEmpty, sourceLocation: sourceLocation)
        }
    }
}

@Suite("Policy file: properties")
struct PolicyFilePropertyTests {
    @Test("random YAML-ish text never crashes the loader; it loads or yields positioned diagnostics")
    func randomText() async {
        let fragment = Gen<String?>.element(of: yamlFragments).map { $0! }
        await propertyCheck(count: 500, input: fragment.array(of: 0...80)) { fragments in
            checkContract(fragments.joined())
        }
    }

    @Test("random mutations of a valid file never crash the loader; it loads or yields positioned diagnostics")
    func mutations() async {
        let lineCount = validPolicyYAML.split(separator: "\n", omittingEmptySubsequences: false).count
        let step = zip(
            Gen.int(in: 0...(Mutation.allCases.count - 1)), Gen.int(in: 0...(lineCount - 1)),
            Gen.int(in: 0...(yamlFragments.count - 1)), Gen.int(in: 0...60))
        await propertyCheck(count: 500, input: step.array(of: 1...6)) { steps in
            var lines = validPolicyYAML.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for (kind, rawLine, fragmentIndex, offset) in steps where !lines.isEmpty {
                let line = rawLine % lines.count
                let fragment = yamlFragments[fragmentIndex]
                switch Mutation(rawValue: kind)! {
                case .delete: lines.remove(at: line)
                case .duplicate: lines.insert(lines[line], at: line)
                case .swapWithNext where line + 1 < lines.count: lines.swapAt(line, line + 1)
                case .swapWithNext: break
                case .replaceToken:
                    var words = lines[line].split(separator: " ", omittingEmptySubsequences: false).map(String.init)
                    words[offset % words.count] = fragment
                    lines[line] = words.joined(separator: " ")
                case .insertFragment:
                    let characters = Array(lines[line])
                    let at = min(offset, characters.count)
                    lines[line] = String(characters[..<at]) + fragment + String(characters[at...])
                case .truncate: lines[line] = String(lines[line].prefix(offset))
                case .indent: lines[line] = " " + lines[line]
                case .dedent: lines[line] = String(lines[line].dropFirst(lines[line].hasPrefix(" ") ? 1 : 0))
                }
            }
            checkContract(lines.joined(separator: "\n"))
        }
    }

    @Test("the unmutated base file loads (so mutations start from a valid file)")
    func baseFileLoads() {
        #expect(loaded(validPolicyYAML)?.policies.count == 2)
    }
}
