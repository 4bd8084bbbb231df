import Domain
import Foundation
import TestSupport
import Testing

/// The Swift validator and Python's `jsonschema` (the reference implementation, run from the project's
/// venv) must agree — document by document, on where the violations are — so a green contract test
/// means what a standard validator would say.
@Suite("Contract: the Swift validator agrees with Python jsonschema", .timeLimit(.minutes(2)))
struct PythonCrossCheckTests {
    /// Every generated event, every accepted variant and every mutation, against the event schemas,
    /// plus the keyword samples against a schema that uses every supported keyword.
    static func cases() throws -> (cases: [SchemaCase], keywordSchema: String) {
        var cases: [SchemaCase] = []
        for event in try EventSamples.events(rounds: 60, seed: 0xC0FFEE) {
            cases.append(
                SchemaCase(schemaPath: eventSchemaPath(event.type), document: event.jsonString(), label: "generated"))
        }
        cases += try Mutations.acceptedVariants()
        cases += try Mutations.all().map(\.schemaCase)
        let keywordSchema = FileManager.default.temporaryDirectory
            .appendingPathComponent("flashdeal-keywords-\(UInt64.random(in: 0...UInt64.max)).schema.json").path
        try KeywordSamples.schema.write(toFile: keywordSchema, atomically: true, encoding: .utf8)
        for (document, _) in KeywordSamples.documents where !KeywordSamples.falseSubschemaDocuments.contains(document) {
            cases.append(SchemaCase(schemaPath: keywordSchema, document: document, label: "keywords"))
        }
        return (cases, keywordSchema)
    }

    @Test("same verdict and same failing locations on every good and bad document")
    func agreement() throws {
        let (cases, keywordSchema) = try Self.cases()
        defer { try? FileManager.default.removeItem(atPath: keywordSchema) }
        let python = try PythonJSONSchema.pointers(for: cases)
        var validators: [String: JSONSchemaValidator] = [:]
        var disagreements: [String] = []
        var valid = 0
        for (c, pythonPointers) in zip(cases, python) {
            if validators[c.schemaPath] == nil {
                validators[c.schemaPath] = try JSONSchemaValidator.load(schemaAt: c.schemaPath)
            }
            let swiftPointers = try c.swiftPointers(validators[c.schemaPath]!)
            if swiftPointers.isEmpty { valid += 1 }
            if swiftPointers != pythonPointers {
                disagreements.append("\(c): swift \(swiftPointers.sorted()) python \(pythonPointers.sorted())")
            }
        }
        #expect(
            disagreements.isEmpty,
            "\(disagreements.count) of \(cases.count) disagree:\n\(disagreements.prefix(20).joined(separator: "\n"))")
        // Both kinds were there in numbers: the agreement is not all-valid or all-invalid.
        #expect(valid > 500)
        #expect(cases.count - valid > 300)
    }

    /// Where the reference implementation departs from the specification, and what the Swift validator
    /// does instead. Checked on both sides so the list in schemas/README.md stays true.
    @Test("known departures of python jsonschema are exactly the documented ones")
    func documentedDepartures() throws {
        let canonical = try EventSamples.canonical()
        func variant(_ type: DomainEventType, _ field: String, _ raw: String) throws -> SchemaCase {
            var fields = try rawFields(try #require(canonical[type]))
            fields[field] = raw
            return SchemaCase(schemaPath: eventSchemaPath(type), document: render(fields), label: "\(field) = \(raw)")
        }
        let departures: [(SchemaCase, swift: Set<String>, python: Set<String>)] = [
            // Python's re `$` also matches before a final "\n"; ECMA-262's does not.
            (
                try variant(.orderRequested, "orderId", quoted("ord_f5d1b74df7a1c97ee5374ec1797a9728\n")), ["/orderId"],
                []
            ),
            (try variant(.orderRequested, "dealId", quoted("deal-7\n")), ["/dealId"], []),
            (try variant(.orderRequested, "occurredAt", quoted("2026-11-25T10:00:00.123Z\n")), ["/occurredAt"], []),
            // rfc3339-validator refuses year 0000, which RFC 3339 allows (and the Domain's parser reads).
            (try variant(.orderRequested, "occurredAt", quoted("0000-01-01T00:00:00.000Z")), [], ["/occurredAt"]),
        ]
        // A `false` subschema's violation: python jsonschema places it at the parent object.
        let keywordSchema = FileManager.default.temporaryDirectory
            .appendingPathComponent("flashdeal-keywords-\(UInt64.random(in: 0...UInt64.max)).schema.json").path
        try KeywordSamples.schema.write(toFile: keywordSchema, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: keywordSchema) }
        let falseSchema = KeywordSamples.documents.filter {
            KeywordSamples.falseSubschemaDocuments.contains($0.document)
        }
        .map {
            (
                SchemaCase(schemaPath: keywordSchema, document: $0.document, label: "false subschema"),
                swift: $0.pointers, python: Set($0.pointers.map { $0 == "/x" ? "" : $0 })
            )
        }
        #expect(falseSchema.count == KeywordSamples.falseSubschemaDocuments.count)

        let all = departures + falseSchema
        let python = try PythonJSONSchema.pointers(for: all.map(\.0))
        for ((c, swift, expectedPython), actualPython) in zip(all, python) {
            let validator = try JSONSchemaValidator.load(schemaAt: c.schemaPath)
            #expect(try c.swiftPointers(validator) == swift, "\(c)")
            #expect(actualPython == expectedPython, "python on \(c)")
        }
    }

    @Test("the venv's python has jsonschema with date-time checking; without it this suite fails")
    func referenceIsInstalled() throws {
        #expect(
            FileManager.default.isExecutableFile(atPath: PythonJSONSchema.python),
            "\(PythonJSONSchema.python) is missing: run scripts/setup")
        // One document that only a date-time format check refuses: if formats went unchecked, this would pass.
        let c = SchemaCase(
            schemaPath: eventSchemaPath(.dealOpened),
            document: try #require(try EventSamples.canonical()[.dealOpened])
                .replacingOccurrences(of: "2026-11-25T", with: "2026-02-30T"),
            label: "February 30th")
        #expect(try PythonJSONSchema.pointers(for: [c]) == [["/occurredAt"]])
    }
}
