import Domain
import Foundation
import TestSupport
import Testing

/// The schema files and the Domain's event catalog describe the same events with the same fields.
@Suite("Contract: one schema per event type")
struct SchemaCatalogTests {
    static let directory = TestStack.root + "/schemas/events"

    static func schema(_ type: DomainEventType) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: eventSchemaPath(type)))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("every DomainEventType has a schema file, and every schema file names a DomainEventType")
    func filesMatchTheCatalog() throws {
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: Self.directory))
        let expected = Set(DomainEventType.allCases.map { "\($0.rawValue).schema.json" })
        #expect(
            files.subtracting(expected).isEmpty,
            "schema files without an event type: \(files.subtracting(expected).sorted())")
        #expect(
            expected.subtracting(files).isEmpty, "event types without a schema: \(expected.subtracting(files).sorted())"
        )
        #expect(files.contains("OrderCancellationRequested.schema.json"))
        for type in DomainEventType.allCases {
            _ = try JSONSchemaValidator.forEvent(type.rawValue)
        }
    }

    @Test(
        "each schema is draft 2020-12, pins its type and version, requires every field and allows no other",
        arguments: DomainEventType.allCases)
    func schemaShape(type: DomainEventType) throws {
        let schema = try Self.schema(type)
        #expect(schema["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema")
        #expect(schema["title"] as? String == type.rawValue)
        #expect(schema["type"] as? String == "object")
        #expect(schema["additionalProperties"] as? Bool == false)
        let properties = try #require(schema["properties"] as? [String: Any])
        let required = try #require(schema["required"] as? [String])
        #expect(Set(required) == Set(properties.keys))
        #expect(required.count == Set(required).count)
        #expect((properties["type"] as? [String: Any])?["const"] as? String == type.rawValue)
        #expect(
            (properties["schemaVersion"] as? [String: Any])?["const"] as? Int == DomainEventType.currentSchemaVersion)
    }

    @Test("each schema lists exactly the fields the Domain writes for that type", arguments: DomainEventType.allCases)
    func fieldsMatchTheEncoder(type: DomainEventType) throws {
        let encoded = try #require(try EventSamples.canonical()[type])
        let written = Set(try rawFields(encoded).keys)
        let properties = try #require(try Self.schema(type)["properties"] as? [String: Any])
        #expect(Set(properties.keys) == written)
    }

    @Test("reason enumerations are the Domain's")
    func reasonsMatchTheDomain() throws {
        func reasons(_ type: DomainEventType) throws -> [String] {
            let properties = try #require(try Self.schema(type)["properties"] as? [String: Any])
            return try #require((properties["reason"] as? [String: Any])?["enum"] as? [String])
        }
        #expect(try reasons(.orderRejected) == RejectionReason.allCases.map(\.rawValue))
        #expect(try reasons(.stockReleased) == StockReleaseReason.allCases.map(\.rawValue))
        // ARCHITECTURE §4.1 spells them out.
        #expect(try reasons(.orderRejected) == ["SOLD_OUT", "LIMIT_EXCEEDED", "DEAL_CLOSED"])
        #expect(try reasons(.stockReleased) == ["FAILED", "CANCELLED", "EXPIRED"])
    }

    @Test("the schemas of events about an order pin the derived order id shape")
    func orderIdShape() throws {
        for type in DomainEventType.allCases where ![.dealOpened, .dealSoldOut].contains(type) {
            let validator = try JSONSchemaValidator.forEvent(type.rawValue)
            var fields = try rawFields(try #require(try EventSamples.canonical()[type]))
            fields["orderId"] = quoted("ord_F5D1B74DF7A1C97EE5374EC1797A9728")
            #expect(validator.violations(try jsonObject(render(fields))).map(\.path) == ["/orderId"], "\(type)")
        }
    }

    @Test("an event type without a schema is an error, not an empty schema")
    func unknownType() {
        #expect(throws: JSONSchemaError.self) { try JSONSchemaValidator.forEvent("OrderShipped") }
    }
}

func jsonObject(_ text: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
}
