import Foundation
import FuzzTargets
import Gateway
import TestSupport
import Testing

/// Every committed seed and every kept finding (`Tests/Fuzz/regressions/<target>/`) runs through
/// its fuzz target in every `make test`: a fixed crash stays fixed.
@Suite("Fuzz corpus and regressions")
struct FuzzCorpusTests {
    static func inputs(_ kind: String, _ target: FuzzTarget) -> [URL] {
        let directory = URL(fileURLWithPath: TestStack.root + "/Tests/Fuzz/\(kind)/\(target.rawValue)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().filter { !$0.hasPrefix(".") }.map { directory.appendingPathComponent($0) }
    }

    @Test("every target has seeds, and every seed and kept finding runs clean", arguments: FuzzTarget.allCases)
    func replay(_ target: FuzzTarget) async throws {
        let seeds = Self.inputs("corpus", target)
        #expect(seeds.count >= 2, "\(target.rawValue) has \(seeds.count) seeds")
        // The project's own files of the target's format (scripts/fuzz seeds them too).
        let own: [URL] =
            switch target {
            case .policyYAML:
                ["flash-sale.yaml", "minimal.yaml"].map { URL(fileURLWithPath: TestStack.root + "/policies/" + $0) }
            case .gatewayConfig: [URL(fileURLWithPath: TestStack.root + "/Gateway/gateway.yaml")]
            default: []
            }
        for file in seeds + own + Self.inputs("regressions", target) {
            let bytes = try [UInt8](Data(contentsOf: file))
            do { try await target.run(bytes) } catch {
                Issue.record("\(target.rawValue) \(file.lastPathComponent): \(error)")
            }
        }
    }

    @Test("the generated seeds are committed as generated (keys and encoders unchanged)")
    func generatedSeedsAreCommitted() async throws {
        for seed in await FuzzTarget.generatedSeeds() {
            let path = TestStack.root + "/Tests/Fuzz/corpus/\(seed.target.rawValue)/\(seed.name)"
            let committed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            if seed.target == .shopperToken {
                // jwt-kit writes the claims in no fixed order: the committed token must verify.
                #expect(await FuzzTarget.verifies(token: committed), "\(path) does not verify with the fixture key")
            } else {
                #expect(committed == seed.bytes, "\(path) differs: run `flashdeal-fuzz seeds Tests/Fuzz/corpus`")
            }
        }
    }
}

/// Findings of `scripts/fuzz` that became rules of their own.
@Suite("Fuzz findings")
struct FuzzFindingTests {
    /// Two equal definitions used to reach the GraphQL library's validation, whose caches hash
    /// definitions by identity and compare them by value: "Duplicate keys of type
    /// 'OperationDefinition' were found in a Dictionary" stopped the gateway (kept input:
    /// Tests/Fuzz/regressions/graphql-body/crash-b284…). They are refused before validation now.
    @Test(
        "documents repeating a definition are refused before validation, with 400",
        arguments: [
            (
                "query Q { deals { id } } query Q { deals { id } }",
                "the document defines the operation \"Q\" more than once"
            ),
            ("{ deals { id } } { deals { id } }", "an anonymous operation must be the only operation in the document"),
            (
                "query Q { deals { ...F } } fragment F on Deal { id } fragment F on Deal { id }",
                "the document defines the fragment \"F\" more than once"
            ),
        ])
    func repeatedDefinitions(_ document: String, _ message: String) throws {
        let reader = try GraphQLRequestReader()
        let body = Array("{\"query\":\(String(reflecting: document))}".utf8)
        #expect(reader.read(body: body) == .refused(status: 400, message: message))
    }

    /// The GraphQL library's lexer read past the end of the text for an escape at the very end of a
    /// string (kept input: Tests/Fuzz/regressions/graphql-query/crash-cfb5…). Refused before it now;
    /// complete escapes, comments and block strings still reach the parser.
    @Test(
        "an escape cut off by the end of the document is a parse error, not a crash",
        arguments: [#"{ deal(id: "\u12"#, #"{ deal(id: "ab\"#, #"query Q($a: ID = "\u00"#])
    func cutOffEscapes(_ document: String) throws {
        let reader = try GraphQLRequestReader()
        let outcome = reader.read(
            queryString: "query=" + document.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        guard case .refused(400, let message) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(message.contains("an escape sequence at the end of the document"), "\(message)")
    }

    @Test("complete escapes, escapes in comments and block strings are left to the parser")
    func completeEscapesParse() throws {
        let reader = try GraphQLRequestReader()
        for document in [
            #"{ deal(id: "\u0041\n\"") { id } }"#, "# \\u\n{ deals { id } }",
            #"{ deal(id: """\u12 \""" x""") { id } }"#,
        ] {
            let body = Array("{\"query\":\(String(reflecting: document))}".utf8)
            if case .refused(_, let message) = reader.read(body: body) {
                #expect(!message.contains("escape sequence at the end"), "\(document): \(message)")
            }
        }
    }

    /// Yams's constructor unwraps a mapping key as a string: a key that is a sequence or a mapping
    /// stopped the gateway reading its configuration (kept input:
    /// Tests/Fuzz/regressions/gateway-config/crash-d420…). Refused on the composed tree now.
    @Test("a configuration key that is not a plain name is refused, naming the file")
    func nonScalarConfigurationKeys() throws {
        for yaml in ["[a, b]: 1\n", "http: {? {x: 1} : 2}\n", "graphql:\n  ? [maxDepth]\n  : 3\n"] {
            var configuration = GatewayConfiguration(host: FuzzTarget.host)
            #expect {
                try configuration.apply(yaml: yaml, file: "odd.yaml")
            } throws: { error in
                "\(error)".contains("odd.yaml") && "\(error)".contains("a key must be a plain name")
            }
        }
    }
}
