import Domain
import Foundation
import Testing

@Suite("Event JSON contract")
struct EventCodingTests {
    private let t = Timestamp.date(epochMilliseconds: 1_795_600_800_123)

    private func rejectedEvent() throws -> DomainEvent {
        var order = try Order.request(
            dealId: deal("deal-7"), userId: user("user-42"), quantity: 2,
            idempotencyKey: key("idem-2026-0001"), at: reference
        ).order
        return try #require(try order.reject(.soldOut, at: t).first)
    }

    /// Event id computed with Python: sha256(lp("flashdeal:event-id:v1") + lp("OrderRejected") + lp(orderId) + lp("")).
    @Test("golden JSON of OrderRejected")
    func goldenJSON() throws {
        #expect(
            try rejectedEvent().jsonString()
                == #"{"dealId":"deal-7","eventId":"evt_41f2a49f8255fafbe47e6313df24406a","occurredAt":"2026-11-25T10:00:00.123Z","#
                + #""orderId":"ord_f5d1b74df7a1c97ee5374ec1797a9728","quantity":2,"reason":"SOLD_OUT","schemaVersion":1,"#
                + #""type":"OrderRejected","userId":"user-42"}"#)
    }

    private func cancellationRequest() throws -> OrderCancellationRequested {
        let order = try Order.request(
            dealId: deal("deal-7"), userId: user("user-42"), quantity: 2,
            idempotencyKey: key("idem-2026-0001"), at: reference
        ).order
        return OrderCancellationRequested(orderId: order.id, dealId: order.dealId, userId: order.userId, at: t)
    }

    /// Event id computed with Python: sha256(lp("flashdeal:event-id:v1") + lp("OrderCancellationRequested") + lp(orderId) + lp("")).
    @Test("golden JSON of OrderCancellationRequested")
    func goldenCancellationJSON() throws {
        let event = DomainEvent.orderCancellationRequested(try cancellationRequest())
        #expect(
            event.jsonString()
                == #"{"dealId":"deal-7","eventId":"evt_f38c09db21c76cf14b3ac0e18bc7cdb7","occurredAt":"2026-11-25T10:00:00.123Z","#
                + #""orderId":"ord_f5d1b74df7a1c97ee5374ec1797a9728","requestedAt":"2026-11-25T10:00:00.123Z","#
                + #""schemaVersion":1,"type":"OrderCancellationRequested","userId":"user-42"}"#)
        #expect(event.type.rawValue == "OrderCancellationRequested")
        #expect(event.orderId?.rawValue == "ord_f5d1b74df7a1c97ee5374ec1797a9728")
        #expect(event.dealId.rawValue == "deal-7")
    }

    @Test("OrderCancellationRequested survives a round trip, with requestedAt apart from occurredAt")
    func cancellationRoundTrip() throws {
        let order = try makeOrder()
        let event = DomainEvent.orderCancellationRequested(
            OrderCancellationRequested(
                eventId: .derive(type: .orderCancellationRequested, orderId: order.id), occurredAt: at(2.0004),
                orderId: order.id, dealId: order.dealId, userId: order.userId, requestedAt: at(1.5)))
        let decoded = try DomainEvent.decode(event.jsonData())
        #expect(decoded == event)
        #expect(decoded.jsonData() == event.jsonData())
        guard case .orderCancellationRequested(let request) = decoded else {
            Issue.record("decoded as \(decoded.type)")
            return
        }
        #expect(Timestamp.format(request.requestedAt) == "2026-11-25T10:00:01.500Z")
        #expect(Timestamp.format(request.occurredAt) == "2026-11-25T10:00:02.000Z")
        #expect(request.userId == order.userId)
    }

    @Test("asking twice to cancel one order yields one event id; another order gets another")
    func cancellationEventIdIsDerivedFromTheOrder() throws {
        let order = try makeOrder()
        let other = try makeOrder(keyRaw: "idem-2")
        let first = OrderCancellationRequested(orderId: order.id, dealId: order.dealId, userId: order.userId, at: at(1))
        let again = OrderCancellationRequested(orderId: order.id, dealId: order.dealId, userId: order.userId, at: at(9))
        let elsewhere = OrderCancellationRequested(
            orderId: other.id, dealId: other.dealId, userId: other.userId, at: at(1))
        #expect(first.eventId == again.eventId)
        #expect(first.eventId == EventID.derive(type: .orderCancellationRequested, orderId: order.id))
        #expect(first.eventId != elsewhere.eventId)
        // Not the id of any other event about the same order.
        #expect(first.eventId != EventID.derive(type: .orderRequested, orderId: order.id))
    }

    @Test(
        "a cancellation request missing a field, or with a bad one, is refused",
        arguments: [
            (#""requestedAt":"2026-11-25T10:00:00.123Z","#, "", "requestedAt", false),
            (#""userId":"user-42""#, #""userId":"user 42""#, "userId", true),
            (#""requestedAt":"2026-11-25T10:00:00.123Z""#, #""requestedAt":"yesterday""#, "requestedAt", true),
        ])
    func cancellationInvalid(original: String, replacement: String, field: String, invalid: Bool) throws {
        let json = DomainEvent.orderCancellationRequested(try cancellationRequest()).jsonString()
        #expect(json.contains(original))
        let broken = json.replacingOccurrences(of: original, with: replacement)
        do {
            _ = try DomainEvent.decode(broken)
            Issue.record("decoded \(broken)")
        } catch {
            switch error {
            case .invalidField(let type, let name, _) where invalid:
                #expect(type == "OrderCancellationRequested" && name == field)
            case .missingField(let type, let name) where !invalid:
                #expect(type == "OrderCancellationRequested" && name == field)
            default: Issue.record("got \(error)")
            }
        }
    }

    @Test("every event type carries type, schemaVersion, eventId and occurredAt")
    func envelopeFields() throws {
        var order = try makeOrder()
        let deal = try makeDeal()
        let events =
            [
                try Order.request(
                    dealId: order.dealId, userId: order.userId, quantity: 1,
                    idempotencyKey: order.idempotencyKey, at: reference
                ).event
            ]
            + (try order.apply(.reserved, at: at(1)))
            + (try order.cancel(.shopper, at: at(2)))
            + deal.phaseChangeEvents(from: .preQueue, to: .open, at: reference)
            + deal.phaseChangeEvents(from: .open, to: .soldOut, at: at(3))
            + [
                .orderCancellationRequested(
                    OrderCancellationRequested(
                        orderId: order.id, dealId: order.dealId, userId: order.userId, at: at(4)))
            ]
        #expect(
            Set(events.map(\.type)) == [
                .orderRequested, .stockReserved, .orderConfirmed, .stockReleased, .dealOpened,
                .dealSoldOut, .orderCancellationRequested,
            ])
        for event in events {
            let object = try #require(try JSONSerialization.jsonObject(with: event.jsonData()) as? [String: Any])
            #expect(object["type"] as? String == event.type.rawValue)
            #expect(object["schemaVersion"] as? Int == 1)
            #expect(object["eventId"] as? String == event.eventId.rawValue)
            #expect(object["occurredAt"] as? String == Timestamp.format(event.occurredAt))
            #expect(try DomainEvent.decode(event.jsonData()) == event)
        }
    }

    @Test("re-emitting an order's event yields the same event id")
    func redeliveryKeepsEventId() throws {
        var first = try makeOrder()
        var second = try makeOrder()
        let once = try first.confirm(at: at(1))
        let again = try second.confirm(at: at(5))
        #expect(once.count == 1 && once.map(\.eventId) == again.map(\.eventId))
    }

    @Test("random event ids come only from the injected generator")
    func randomEventIds() {
        var a = SplitMix(seed: 7)
        var b = SplitMix(seed: 7)
        var c = SplitMix(seed: 8)
        let id = EventID.random(using: &a)
        #expect(id == EventID.random(using: &b))
        #expect(id != EventID.random(using: &c))
        let parts = id.rawValue.split(separator: "-")
        #expect(parts.map(\.count) == [8, 4, 4, 4, 12])
        #expect(parts[2].first == "4")
        #expect("89ab".contains(parts[3].first!))
    }

    @Test("unknown type is refused")
    func unknownType() {
        #expect(throws: EventDecodingError.unknownType("OrderShipped")) {
            try DomainEvent.decode(#"{"type":"OrderShipped","schemaVersion":1}"#)
        }
    }

    @Test("missing type is refused")
    func missingType() {
        #expect(throws: EventDecodingError.missingType) { try DomainEvent.decode(#"{"schemaVersion":1}"#) }
    }

    @Test("unsupported or missing schemaVersion is refused")
    func schemaVersion() throws {
        #expect(throws: EventDecodingError.unsupportedSchemaVersion(type: "DealOpened", version: 2, supported: [1])) {
            try DomainEvent.decode(
                #"{"type":"DealOpened","schemaVersion":2,"dealId":"d","eventId":"e","occurredAt":"2026-11-25T10:00:00.000Z"}"#
            )
        }
        #expect(throws: EventDecodingError.missingField(type: "DealOpened", field: "schemaVersion")) {
            try DomainEvent.decode(
                #"{"type":"DealOpened","dealId":"d","eventId":"e","occurredAt":"2026-11-25T10:00:00.000Z"}"#)
        }
    }

    @Test("a missing field is named")
    func missingField() throws {
        let json = try rejectedEvent().jsonString().replacingOccurrences(
            of: #""userId":"user-42""#, with: #""other":1"#)
        #expect(throws: EventDecodingError.missingField(type: "OrderRejected", field: "userId")) {
            try DomainEvent.decode(json)
        }
        let nulled = try rejectedEvent().jsonString().replacingOccurrences(
            of: #""quantity":2"#, with: #""quantity":null"#)
        #expect(throws: EventDecodingError.missingField(type: "OrderRejected", field: "quantity")) {
            try DomainEvent.decode(nulled)
        }
    }

    @Test(
        "invalid field values are named",
        arguments: [
            (#""reason":"SOLD_OUT""#, #""reason":"BORED""#, "reason"),
            (#""quantity":2"#, #""quantity":0"#, "quantity"),
            (#""quantity":2"#, #""quantity":"2""#, "quantity"),
            (#""dealId":"deal-7""#, #""dealId":"deal 7""#, "dealId"),
            (#""occurredAt":"2026-11-25T10:00:00.123Z""#, #""occurredAt":"2026-11-25 10:00""#, "occurredAt"),
        ])
    func invalidField(original: String, replacement: String, field: String) throws {
        let json = try rejectedEvent().jsonString().replacingOccurrences(of: original, with: replacement)
        do {
            _ = try DomainEvent.decode(json)
            Issue.record("decoded invalid \(field)")
        } catch {
            guard case .invalidField(let type, let name, let reason) = error else {
                Issue.record("got \(error)")
                return
            }
            #expect(type == "OrderRejected" && name == field && !reason.isEmpty)
            #expect(!error.isRetryable)
        }
    }

    @Test("non-JSON and non-object input is malformed", arguments: ["not json", "[1,2]", "", "42"])
    func malformed(input: String) {
        do {
            _ = try DomainEvent.decode(input)
            Issue.record("decoded \(input)")
        } catch {
            guard case .malformedJSON = error else {
                Issue.record("got \(error)")
                return
            }
        }
    }

    @Test("unknown extra fields are ignored")
    func extraFields() throws {
        let json = try rejectedEvent().jsonString().replacingOccurrences(of: "{", with: #"{"traceId":"abc","#)
        #expect(try DomainEvent.decode(json) == rejectedEvent())
    }

    @Test("DomainEvent is Codable inside other documents")
    func nestedCodable() throws {
        let events = [try rejectedEvent()]
        let data = try JSONEncoder().encode(events)
        #expect(try JSONDecoder().decode([DomainEvent].self, from: data) == events)
    }
}

/// Deterministic generator for tests.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
