import Domain
import Foundation
import TestSupport
import Testing

/// What the Domain's codec writes is what the schemas describe.
@Suite("Contract: Domain-encoded events validate")
struct DomainEventSchemaTests {
    static let rounds = 200

    @Test("thousands of generated events, edge values included, validate against their type's schema")
    func generatedEventsValidate() throws {
        let events = try EventSamples.events(rounds: Self.rounds, seed: 0xF1A5_4DEA1)
        var validators: [DomainEventType: JSONSchemaValidator] = [:]
        for type in DomainEventType.allCases { validators[type] = try JSONSchemaValidator.forEvent(type.rawValue) }
        var failures: [String] = []
        for event in events {
            let object = try JSONSerialization.jsonObject(with: event.jsonData())
            let violations = try #require(validators[event.type]).validate(object)
            if !violations.isEmpty { failures.append("\(event.jsonString().prefix(400)) → \(violations)") }
        }
        #expect(
            failures.isEmpty,
            "\(failures.count) of \(events.count) events fail their schema, e.g. \(failures.prefix(5))")
        let counts = Dictionary(grouping: events, by: \.type).mapValues(\.count)
        #expect(Set(counts.keys) == Set(DomainEventType.allCases), "every type was generated: \(counts)")
        #expect(counts.values.allSatisfy { $0 >= Self.rounds })
    }

    @Test("the edge values were actually generated")
    func edgeValuesCovered() throws {
        let texts = try EventSamples.events(rounds: Self.rounds, seed: 0xF1A5_4DEA1).map { $0.jsonString() }
        for needle in [
            #""occurredAt":"0001-01-01T00:00:00.000Z""#, #""occurredAt":"9999-12-31T23:59:59.999Z""#,
            #""occurredAt":"1969-12-31T23:59:59.999Z""#, #"-02-29T"#,
            #""quantity":9223372036854775807"#, #""quantity":1,"#,
            #""dealId":"\#(String(repeating: "x", count: 128))""#, #""userId":"a""#,
            #""reason":"UNSPECIFIED""#, #""reason":"LIMIT_EXCEEDED""#, #""reason":"EXPIRED""#, #"\u0000"#,
            #""type":"OrderCancellationRequested""#,
        ] {
            #expect(texts.contains { $0.contains(needle) }, "no generated event contains \(needle)")
        }
        // Both event id shapes: derived and random UUID v4.
        #expect(texts.contains { $0.contains(#""eventId":"evt_"#) })
        #expect(texts.contains { $0.range(of: #""eventId":"[0-9a-f]{8}-"#, options: .regularExpression) != nil })
    }

    @Test("the documented examples validate: OrderRejected from docs/domain.md and the cancellation golden JSON")
    func documentedExamples() throws {
        let rejected =
            #"{"dealId":"deal-7","eventId":"evt_41f2a49f8255fafbe47e6313df24406a","occurredAt":"2026-11-25T10:00:00.123Z","orderId":"ord_f5d1b74df7a1c97ee5374ec1797a9728","quantity":2,"reason":"SOLD_OUT","schemaVersion":1,"type":"OrderRejected","userId":"user-42"}"#
        #expect(try JSONSchemaValidator.forEvent("OrderRejected").validate(jsonText: rejected) == [])
        let cancellation =
            #"{"dealId":"deal-7","eventId":"evt_f38c09db21c76cf14b3ac0e18bc7cdb7","occurredAt":"2026-11-25T10:00:00.123Z","orderId":"ord_f5d1b74df7a1c97ee5374ec1797a9728","requestedAt":"2026-11-25T10:00:00.123Z","schemaVersion":1,"type":"OrderCancellationRequested","userId":"user-42"}"#
        #expect(try JSONSchemaValidator.forEvent("OrderCancellationRequested").validate(jsonText: cancellation) == [])
        #expect(try EventSamples.canonical()[.orderCancellationRequested] == cancellation)
        #expect(try EventSamples.canonical()[.orderRejected] == rejected)
    }

    @Test("validateEvent picks the schema from the message's type, as a Kafka consumer in a test would")
    func validateEventBytes() throws {
        for (_, text) in try EventSamples.canonical() {
            #expect(try JSONSchemaValidator.validateEvent(jsonBytes: Array(text.utf8)) == [])
        }
        let broken = try #require(try EventSamples.canonical()[.orderRequested]).replacingOccurrences(
            of: #""quantity":2"#, with: #""quantity":0"#)
        #expect(try JSONSchemaValidator.validateEvent(jsonBytes: Array(broken.utf8)).count == 1)
        #expect(try JSONSchemaValidator.validateEvent(jsonBytes: Array("not json".utf8)).count == 1)
        #expect(try JSONSchemaValidator.validateEvent(jsonBytes: Array(#"{"type":"OrderShipped"}"#.utf8)).count == 1)
        #expect(try JSONSchemaValidator.validateEvent(jsonBytes: Array(#"{"schemaVersion":1}"#.utf8)).count == 1)
    }
}
