import Domain
import Foundation
import PropertyBased
import Testing

struct EventFields: Sendable {
    var kind: Int
    var ids: [String]
    var quantity: Int
    var millis: [Int64]
    var variant: Int
    var text: String
}

let eventFields = zip(
    Gen.int(in: 0...8), identifierString.array(of: 5), Gen.int(in: 1...10_000),
    Gen.int64(in: -2_208_988_800_000...4_102_444_800_000).array(of: 2), Gen.int(in: 0...2),
    Gen.latin1.string(of: 0...40)
).map { (fields: (Int, [String], Int, [Int64], Int, String)) in
    EventFields(kind: fields.0, ids: fields.1, quantity: fields.2, millis: fields.3, variant: fields.4, text: fields.5)
}

@Suite("Event properties")
struct EventPropertyTests {
    static func event(_ f: EventFields) throws -> DomainEvent {
        let eventId = try EventID(f.ids[0])
        let orderId = try OrderID(f.ids[1])
        let dealId = try DealID(f.ids[2])
        let userId = try UserID(f.ids[3])
        let key = try IdempotencyKey(f.ids[4])
        let t = Timestamp.date(epochMilliseconds: f.millis[0])
        let t2 = Timestamp.date(epochMilliseconds: f.millis[1])
        switch f.kind {
        case 0:
            return .orderRequested(
                OrderRequested(
                    eventId: eventId, occurredAt: t, orderId: orderId, dealId: dealId,
                    userId: userId, quantity: f.quantity, idempotencyKey: key, requestedAt: t2))
        case 1:
            return .stockReserved(
                StockReserved(
                    eventId: eventId, occurredAt: t, orderId: orderId, dealId: dealId,
                    userId: userId, quantity: f.quantity))
        case 2:
            return .orderConfirmed(
                OrderConfirmed(
                    eventId: eventId, occurredAt: t, orderId: orderId, dealId: dealId,
                    userId: userId, quantity: f.quantity))
        case 3:
            return .orderRejected(
                OrderRejected(
                    eventId: eventId, occurredAt: t, orderId: orderId, dealId: dealId,
                    userId: userId, quantity: f.quantity, reason: RejectionReason.allCases[f.variant]))
        case 4:
            return .orderFailed(
                OrderFailed(
                    eventId: eventId, occurredAt: t, orderId: orderId, dealId: dealId,
                    userId: userId, quantity: f.quantity, reason: f.text))
        case 5:
            return .stockReleased(
                StockReleased(
                    eventId: eventId, occurredAt: t, orderId: orderId, dealId: dealId,
                    quantity: f.quantity, reason: StockReleaseReason.allCases[f.variant]))
        case 6: return .dealOpened(DealOpened(eventId: eventId, occurredAt: t, dealId: dealId))
        case 7:
            return .orderCancellationRequested(
                OrderCancellationRequested(
                    eventId: eventId, occurredAt: t, orderId: orderId, dealId: dealId, userId: userId, requestedAt: t2))
        default: return .dealSoldOut(DealSoldOut(eventId: eventId, occurredAt: t, dealId: dealId))
        }
    }

    @Test("any event survives a JSON round trip, and re-encoding gives identical bytes")
    func roundTrip() async {
        await propertyCheck(count: 300, input: eventFields) { fields in
            failOnThrow {
                let event = try Self.event(fields)
                let data = event.jsonData()
                let decoded = try DomainEvent.decode(data)
                #expect(decoded == event)
                #expect(decoded.jsonData() == data)
                #expect(decoded.type == event.type && decoded.eventId == event.eventId)
            }
        }
    }

    @Test("OrderRequested written directly is byte for byte what JSONEncoder writes")
    func directOrderRequestedIsFoundations() async {
        await propertyCheck(count: 300, input: eventFields) { fields in
            failOnThrow {
                var orderRequested = fields
                orderRequested.kind = 0
                let event = try Self.event(orderRequested)
                #expect(
                    event.jsonData() == event.foundationJSONData(),
                    "\(String(decoding: event.jsonData(), as: UTF8.self))")
            }
        }
    }

    @Test("timestamps format and parse back to the same millisecond")
    func timestampRoundTrip() async {
        await propertyCheck(count: 500, input: Gen.int64(in: -2_208_988_800_000...253_402_300_799_999)) { millis in
            failOnThrow {
                let date = Timestamp.date(epochMilliseconds: millis)
                let text = Timestamp.format(date)
                #expect(text.count == 24 && text.hasSuffix("Z"))
                let parsed = try #require(Timestamp.parse(text))
                #expect(Timestamp.epochMilliseconds(parsed) == millis)
                #expect(parsed == date)
            }
        }
    }
}
