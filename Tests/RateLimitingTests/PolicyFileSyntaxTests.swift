import RateLimiting
import Testing

@Suite("Policy file: YAML syntax")
struct PolicyFileSyntaxTests {
    @Test("malformed YAML is reported at the position libyaml found it")
    func malformedYAML() throws {
        let diagnostic = try #require(
            onlyDiagnostic(
                """
                version: 1
                policies:
                  - name: a
                    key: user
                   bucket: {capacity: 1, refillPerSecond: 1}
                """))
        #expect(diagnostic.message.hasPrefix("invalid YAML: "))
        #expect(diagnostic.line == 5)
        #expect(diagnostic.column == 4)
    }

    @Test("an unclosed flow mapping is reported, with where it started as the hint")
    func unclosedFlowMapping() throws {
        let diagnostic = try #require(
            onlyDiagnostic(
                """
                version: 1
                policies:
                  - name: a
                    key: user
                    bucket: {capacity: 1, refillPerSecond: 1
                """))
        #expect(diagnostic.message.hasPrefix("invalid YAML: "))
        #expect(diagnostic.line >= 5)
        #expect(diagnostic.hint?.contains("line 5") == true)
    }

    @Test("tab indentation gets a hint saying so")
    func tabs() throws {
        let diagnostic = try #require(onlyDiagnostic("version: 1\npolicies:\n\t- name: a\n"))
        #expect(diagnostic.line == 3 && diagnostic.column == 1)
        #expect(diagnostic.hint == "YAML does not allow tabs for indentation; use spaces")
    }

    @Test("a key given twice in one mapping is reported at the second occurrence")
    func duplicateYAMLKey() throws {
        let diagnostic = try #require(
            onlyDiagnostic(
                """
                version: 1
                policies:
                  - name: a
                    key: user
                    bucket: {capacity: 1, refillPerSecond: 1}
                    key: clientIP
                """))
        #expect(diagnostic.message == #"key "key" appears twice in the same mapping"#)
        #expect(diagnostic.line == 6 && diagnostic.column == 5)
        #expect(diagnostic.hint == "it is first set at line 4; keep one")
    }

    @Test("positions count lines as YAML does: CR LF and a lone CR end a line too")
    func duplicateYAMLKeyWithOtherLineBreaks() throws {
        let lines = [
            "version: 1", "policies:", "  - name: a", "    key: user",
            "    bucket: {capacity: 1, refillPerSecond: 1}", "    key: clientIP",
        ]
        let crlf = try #require(onlyDiagnostic(lines.joined(separator: "\r\n")))
        #expect(crlf.line == 6 && crlf.column == 5)
        // A lone CR inside a flow sequence splits that line in two for YAML.
        let text =
            "version: 1\npolicies:\n  - name: a\n    match: {deals: [de\ral-1]}\n"
            + "    key: user\n    bucket: {capacity: 1, refillPerSecond: 1}\n    key: clientIP\n"
        let lone = try #require(onlyDiagnostic(text))
        #expect(lone.message == #"key "key" appears twice in the same mapping"#)
        #expect(lone.line == 8 && lone.column == 5)
        #expect(lone.hint == "it is first set at line 6; keep one")
    }

    @Test("an empty file, a file that is not a mapping, and a missing version are explained")
    func wrongShapes() throws {
        #expect(onlyDiagnostic("")?.message == "the file is empty")
        #expect(onlyDiagnostic("# only a comment\n")?.message == "the file is empty")
        let list = try #require(onlyDiagnostic("- name: a\n"))
        #expect(list.message == "the top level of the file must be a mapping (key: value lines), but it is a list")
        let noVersion = try #require(onlyDiagnostic("policies: []\n"))
        #expect(noVersion.message == #"the policy file is missing the required field "version""#)
        #expect(noVersion.line == 1 && noVersion.column == 1)
        let noPolicies = try #require(onlyDiagnostic("version: 1\n"))
        #expect(noPolicies.message == #"the policy file is missing the required field "policies""#)
    }

    @Test("several YAML documents in one file are rejected")
    func multipleDocuments() throws {
        let diagnostic = try #require(onlyDiagnostic("version: 1\npolicies: []\n---\nversion: 1\n"))
        #expect(diagnostic.message.hasPrefix("invalid YAML: "))
        #expect(diagnostic.line == 3)
    }
}
