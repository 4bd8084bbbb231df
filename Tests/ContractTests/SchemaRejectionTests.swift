import Domain
import Foundation
import TestSupport
import Testing

/// A broken copy of a valid event and where the validator must complain.
struct Mutation: Sendable, CustomStringConvertible {
    var type: DomainEventType
    var label: String
    var document: String
    var path: String
    var keyword: String

    var description: String { "\(type.rawValue): \(label)" }
    var schemaCase: SchemaCase { SchemaCase(schemaPath: eventSchemaPath(type), document: document, label: label) }
}

enum Mutations {
    static let longIdentifier = String(repeating: "x", count: 129)

    /// Every field missing in turn, an extra field, and wrong types, patterns, enumerations and timestamps
    /// for every field the type has, applied to the canonical event of each type.
    static func all() throws -> [Mutation] {
        var result: [Mutation] = []
        for (type, text) in try EventSamples.canonical().sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let fields = try rawFields(text)
            func add(_ label: String, _ path: String, _ keyword: String, _ change: (inout [String: String]) -> Void) {
                var copy = fields
                change(&copy)
                result.append(Mutation(type: type, label: label, document: render(copy), path: path, keyword: keyword))
            }
            func set(_ field: String, _ raw: String, _ keyword: String) {
                guard fields[field] != nil else { return }
                add("\(field) = \(raw)", "/\(field)", keyword) { $0[field] = raw }
            }
            for field in fields.keys.sorted() {
                add("without \(field)", "", "required") { $0[field] = nil }
            }
            add("extra field", "", "additionalProperties") { $0["extra"] = "1" }
            add("trace id in the body", "", "additionalProperties") { $0["traceparent"] = quoted("00-abc-01") }

            set("type", quoted("OrderShipped"), "const")
            set("type", quoted(type == .orderConfirmed ? "OrderRejected" : "OrderConfirmed"), "const")
            set("type", quoted(type.rawValue.lowercased()), "const")
            set("schemaVersion", "2", "const")
            set("schemaVersion", quoted("1"), "const")
            set("schemaVersion", "true", "const")

            set("eventId", quoted("evt_ABC"), "pattern")
            set("eventId", quoted("evt_41f2a49f8255fafbe47e6313df24406"), "pattern")
            set("eventId", quoted("evt_41F2A49F8255FAFBE47E6313DF24406A"), "pattern")
            set("eventId", quoted("6f9619ff-8b86-1011-b42d-00c04fc964ff"), "pattern")  // UUID v1
            set("eventId", "42", "type")
            set("eventId", "null", "type")

            for timestamp in ["occurredAt", "requestedAt"] {
                set(timestamp, quoted("2026-11-25T10:00:00Z"), "pattern")
                set(timestamp, quoted("2026-11-25T10:00:00.12Z"), "pattern")
                set(timestamp, quoted("2026-11-25T10:00:00.1234Z"), "pattern")
                set(timestamp, quoted("2026-11-25T10:00:00.123+09:00"), "pattern")
                set(timestamp, quoted("2026-11-25t10:00:00.123z"), "pattern")
                set(timestamp, quoted("2026-11-25 10:00:00.123Z"), "pattern")
                set(timestamp, quoted("2026-02-30T10:00:00.123Z"), "format")
                set(timestamp, quoted("2025-02-29T10:00:00.123Z"), "format")
                set(timestamp, quoted("1900-02-29T00:00:00.000Z"), "format")
                set(timestamp, quoted("2026-11-25T24:00:00.000Z"), "pattern")
                set(timestamp, quoted("2026-11-25T23:59:60.000Z"), "pattern")
                set(timestamp, quoted("2026-11-25"), "pattern")
                set(timestamp, quoted(""), "pattern")
                set(timestamp, "1795600800123", "type")
            }

            for identifier in ["dealId", "userId", "idempotencyKey"] {
                set(identifier, quoted("deal 7"), "pattern")
                set(identifier, quoted("user/42"), "pattern")
                set(identifier, quoted("déal"), "pattern")
                set(identifier, quoted("a\u{0}b"), "pattern")
                set(identifier, quoted(""), "minLength")
                set(identifier, quoted(longIdentifier), "maxLength")
                set(identifier, "7", "type")
                set(identifier, #"["deal-7"]"#, "type")
            }

            set("orderId", quoted("ord_F5D1B74DF7A1C97EE5374EC1797A9728"), "pattern")
            set("orderId", quoted("ord_f5d1b74df7a1c97ee5374ec1797a972"), "pattern")
            set("orderId", quoted("ord_f5d1b74df7a1c97ee5374ec1797a97281"), "pattern")
            set("orderId", quoted("order-1"), "pattern")
            set("orderId", quoted("xord_f5d1b74df7a1c97ee5374ec1797a9728"), "pattern")

            set("quantity", "0", "minimum")
            set("quantity", "-1", "minimum")
            set("quantity", "0.0", "minimum")
            set("quantity", "1.5", "type")
            set("quantity", quoted("2"), "type")
            set("quantity", "true", "type")
            set("quantity", "null", "type")

            switch type {
            case .orderRejected:
                set("reason", quoted("BORED"), "enum")
                set("reason", quoted("sold_out"), "enum")
                set("reason", quoted("FAILED"), "enum")
                set("reason", "1", "enum")
            case .stockReleased:
                set("reason", quoted("SOLD_OUT"), "enum")
                set("reason", quoted("cancelled"), "enum")
            case .orderFailed:
                set("reason", quoted(""), "minLength")
                set("reason", "5", "type")
                set("reason", "null", "type")
            default:
                break
            }

            for notAnObject in ["[]", "null", "42", quoted(type.rawValue), "[\(text)]"] {
                result.append(
                    Mutation(
                        type: type, label: "document \(notAnObject.prefix(20))", document: notAnObject,
                        path: "", keyword: "type"))
            }
        }
        return result
    }

    /// Valid documents that differ from what the Domain writes in ways the schemas allow.
    static func acceptedVariants() throws -> [SchemaCase] {
        var cases: [SchemaCase] = []
        for (type, text) in try EventSamples.canonical() {
            let fields = try rawFields(text)
            func add(_ label: String, _ change: (inout [String: String]) -> Void) {
                var copy = fields
                change(&copy)
                cases.append(SchemaCase(schemaPath: eventSchemaPath(type), document: render(copy), label: label))
            }
            add("as written") { _ in }
            add("UUID v4 event id") { $0["eventId"] = quoted("0b8e2a4c-5d6f-4a1b-9c2d-3e4f5a6b7c8d") }
            add("leap day") { $0["occurredAt"] = quoted("2024-02-29T23:59:59.999Z") }
            add("year 1") { $0["occurredAt"] = quoted("0001-01-01T00:00:00.000Z") }
            if fields["quantity"] != nil {
                add("largest quantity") { $0["quantity"] = "9223372036854775807" }
                add("quantity 1") { $0["quantity"] = "1" }
                // JSON Schema's integer is any number without a fraction: 2.0 and 1e1 are integers.
                add("quantity 2.0") { $0["quantity"] = "2.0" }
                add("quantity 1e1") { $0["quantity"] = "1e1" }
            }
            if fields["userId"] != nil {
                add("every identifier character") { $0["userId"] = quoted(String(EventSamples.identifierCharacters)) }
                add("128-character identifier") { $0["userId"] = quoted(String(repeating: "u", count: 128)) }
            }
            if type == .orderFailed {
                add("unicode failure reason") { $0["reason"] = quoted("💥 \u{2028} ünïcödé\n\"quoted\"") }
                add("schemaVersion 1.0") { $0["schemaVersion"] = "1.0" }
            }
        }
        return cases
    }
}

/// The validator is only worth something if it can say no.
@Suite("Contract: wrong documents are refused")
struct SchemaRejectionTests {
    @Test("every mutation of every event type is refused, at the right place, for the right reason")
    func mutationsAreRefused() throws {
        let mutations = try Mutations.all()
        #expect(mutations.count > 300)
        var validators: [DomainEventType: JSONSchemaValidator] = [:]
        for type in DomainEventType.allCases { validators[type] = try JSONSchemaValidator.forEvent(type.rawValue) }
        for mutation in mutations {
            let violations = try #require(validators[mutation.type]).violations(try jsonObject(mutation.document))
            #expect(
                violations.contains { $0.path == mutation.path && $0.keyword == mutation.keyword },
                "\(mutation): expected \(mutation.keyword) at \(mutation.path.isEmpty ? "(root)" : mutation.path), got \(violations)"
            )
            #expect(
                violations.allSatisfy { $0.path == mutation.path }, "\(mutation): unrelated violations \(violations)")
        }
    }

    @Test("documents the schemas allow are accepted")
    func variantsAreAccepted() throws {
        for variant in try Mutations.acceptedVariants() {
            let validator = try JSONSchemaValidator.load(schemaAt: variant.schemaPath)
            #expect(try variant.swiftPointers(validator).isEmpty, "\(variant)")
        }
    }

    @Test("messages name the field, the value and the rule")
    func readableMessages() throws {
        let validator = try JSONSchemaValidator.forEvent("OrderRejected")
        var fields = try rawFields(try #require(try EventSamples.canonical()[.orderRejected]))
        fields["quantity"] = "0"
        fields["reason"] = quoted("BORED")
        fields["userId"] = nil
        fields["extra"] = "true"
        let messages = validator.validate(try jsonObject(render(fields)))
        #expect(
            messages == [
                #"(root): missing required property "userId""#,
                #"(root): property "extra" is not allowed"#,
                "/quantity: 0 is less than the minimum 1",
                #"/reason: "BORED" is not one of "SOLD_OUT", "LIMIT_EXCEEDED", "DEAL_CLOSED""#,
            ])
    }

    @Test("whatever a schema accepts, the Domain's decoder reads: a valid message is never a poison message")
    func acceptedDocumentsDecode() throws {
        for variant in try Mutations.acceptedVariants() {
            let event = try DomainEvent.decode(variant.document)
            #expect(variant.schemaName == "\(event.type.rawValue).schema.json", "\(variant)")
        }
    }
}
