import DealData
import Domain
import Foundation
import Infrastructure
import Logging
import Prometheus
import Testing
import Twins

@testable import OrderWorker

/// The worker's stages (classify → reserve → persist or compensate → publish; cancellation, payment
/// expiry, dead letters) on in-memory ports: no Redis, MongoDB or Kafka. The twins pass the same port
/// contract tests as the live adapters.
@Suite("Order worker stages in process (in-memory ports)")
struct OrderStagesInProcessTests {
    struct Stages {
        let clock = ManualClock(Date())
        let reservations: InMemoryReservations
        let orders = InMemoryOrderStore()
        let outbox = InMemoryOutbox()
        let deals = InMemoryDeals()
        let log = RecordingEventLog()
        let settings: WorkerSettings
        let processor: OrderProcessor
        var offset: Int64 = 0

        init(mongoRetryBudget: Duration = .seconds(5)) {
            reservations = InMemoryReservations(clock: clock)
            var settings = WorkerSettings()
            settings.topics = OrderTopics(prefix: "ip.")
            settings.retryBackoff = .milliseconds(1) ... .milliseconds(5)
            settings.mongoRetryBudget = mongoRetryBudget
            self.settings = settings
            var logger = Logger(label: "in-process-worker")
            logger.logLevel = .critical
            processor = OrderProcessor(
                reservations: reservations, orders: orders, outbox: outbox, catalog: deals,
                rebuild: CountingStockRebuild(), producer: log, settings: settings,
                metrics: WorkerMetrics(registry: PrometheusCollectorRegistry()), logger: logger)
        }

        func deal(stock: Int, limit: Int = 5, paymentWindow: Duration? = nil) throws -> DealID {
            let id = try DealID("ip-w-\(UUID().uuidString.prefix(8).lowercased())")
            let startsAt = clock.now.addingTimeInterval(-1)
            let deal = try Deal(
                id: id, productId: try ProductID("prod-\(id.rawValue)"), title: "Deal",
                price: Money(amountMinor: 100, currency: try CurrencyCode("EUR")), startsAt: startsAt,
                endsAt: startsAt.addingTimeInterval(3_600), totalStock: stock, perCustomerLimit: limit,
                paymentWindow: paymentWindow)
            deals.add(deal)
            reservations.seed(deal)
            return id
        }

        mutating func request(_ user: String, _ deal: DealID, key: String = "k", quantity: Int = 1) throws
            -> (OrderID, KafkaMessage)
        {
            let userId = try UserID(user)
            let idempotencyKey = try IdempotencyKey(key)
            let id = OrderID.derive(userId: userId, dealId: deal, idempotencyKey: idempotencyKey)
            let event = DomainEvent.orderRequested(
                OrderRequested(
                    eventId: EventID.derive(type: .orderRequested, orderId: id), occurredAt: clock.now, orderId: id,
                    dealId: deal, userId: userId, quantity: quantity, idempotencyKey: idempotencyKey,
                    requestedAt: clock.now))
            return (id, message(key: id.rawValue, value: [UInt8](event.jsonData())))
        }

        mutating func cancellation(_ order: OrderID, _ user: String, _ deal: DealID) throws -> KafkaMessage {
            let event = DomainEvent.orderCancellationRequested(
                OrderCancellationRequested(
                    eventId: EventID.derive(type: .orderCancellationRequested, orderId: order), occurredAt: clock.now,
                    orderId: order, dealId: deal, userId: try UserID(user), requestedAt: clock.now))
            return message(key: order.rawValue, value: [UInt8](event.jsonData()))
        }

        mutating func message(key: String?, value: [UInt8]) -> KafkaMessage {
            offset += 1
            return KafkaMessage(
                topic: settings.topics.requests, partition: 0, offset: offset,
                key: key.map { Array($0.utf8) }, value: value)
        }

        var events: [DomainEvent] { log.events(on: settings.topics.events) }
        func types(_ events: [DomainEvent]) -> [String] { events.map(\.type.rawValue) }
    }

    @Test func stockIsNeverOversoldAndTheLastUnitAnnouncesTheSoldOutOnce() async throws {
        var s = Stages()
        let deal = try s.deal(stock: 5, limit: 2)
        var messages: [KafkaMessage] = []
        for i in 0..<8 { messages.append(try s.request("buyer-\(i)", deal, quantity: 1 + i % 2).1) }
        try await s.processor.process(messages)

        let documents = s.orders.documents.values
        #expect(documents.count == 8)
        let confirmed = documents.filter { $0.status == .confirmed }.map(\.quantity).reduce(0, +)
        #expect(confirmed <= 5 && confirmed + (s.reservations.stock(of: deal) ?? -1) == 5)
        #expect(documents.filter { $0.status == .rejected }.allSatisfy { $0.reason == "SOLD_OUT" })
        let soldOut = s.events.filter { $0.type == .dealSoldOut }
        #expect(soldOut.count == 1)
        #expect(
            s.events.filter { $0.type == .orderConfirmed }.count == documents.filter { $0.status == .confirmed }.count)
        #expect(documents.allSatisfy { s.reservations.isPublished($0.orderId, in: deal) })
    }

    @Test func aRedeliveredBatchAndCopiesInABatchChangeNothing() async throws {
        var s = Stages()
        let deal = try s.deal(stock: 10)
        let (id, message) = try s.request("copy-buyer", deal)
        try await s.processor.process([message, message])
        #expect(s.events.filter { $0.type == .orderConfirmed }.count == 1)
        let before = s.log.messages.count
        try await s.processor.process([message])
        #expect(s.log.messages.count == before, "an order already published is not published again")
        #expect(s.orders.documents[id]?.status == .confirmed)
        #expect(s.reservations.stock(of: deal) == 9)
    }

    @Test func mongoDownPastTheBudgetFailsTheOrdersReleasesTheirStockAndParksThemInTheOutbox() async throws {
        var s = Stages(mongoRetryBudget: .milliseconds(30))
        let deal = try s.deal(stock: 3)
        let (a, first) = try s.request("comp-a", deal)
        let (b, second) = try s.request("comp-b", deal, quantity: 2)
        s.orders.setDown(true)
        try await s.processor.process([first, second])

        #expect(s.reservations.stock(of: deal) == 3, "compensation gives the reserved units back")
        let parked = Dictionary(uniqueKeysWithValues: s.outbox.pending.map { ($0.orderId, $0) })
        #expect(parked[a]?.status == .failed && parked[b]?.status == .failed)
        #expect(parked[a]?.reason == OrderProcessor.compensationReason)
        let types = s.types(s.events)
        #expect(types.filter { $0 == DomainEventType.orderFailed.rawValue }.count == 2)
        #expect(types.filter { $0 == DomainEventType.stockReleased.rawValue }.count == 2)
        #expect(!types.contains(DomainEventType.orderConfirmed.rawValue))
    }

    @Test func poisonGoesToTheDeadLetterTopicWithItsReasonAndReservesNothing() async throws {
        var s = Stages()
        let deal = try s.deal(stock: 3)
        let garbage = s.message(key: "x", value: Array("{not json".utf8))
        let (_, valid) = try s.request("poison-buyer", deal)
        var wrongKey = valid
        wrongKey.key = Array("someone-else".utf8)
        try await s.processor.process([garbage, wrongKey])

        let dead = s.log.messages.filter { $0.topic == s.settings.topics.deadLetters }
        #expect(dead.count == 2)
        #expect(dead.allSatisfy { m in m.headers.contains { $0.name == DeadLetterHeaders.reason } })
        #expect(dead.first?.value == garbage.value, "the message goes on unchanged")
        #expect(s.reservations.stock(of: deal) == 3)
        #expect(s.orders.documents.isEmpty)
    }

    @Test func aCancellationGivesTheStockBackOnceAndRecordsIt() async throws {
        var s = Stages()
        let deal = try s.deal(stock: 2)
        let (id, request) = try s.request("cancel-buyer", deal, quantity: 2)
        try await s.processor.process([request])
        #expect(s.reservations.stock(of: deal) == 0)
        let cancel = try s.cancellation(id, "cancel-buyer", deal)
        try await s.processor.process([cancel])
        try await s.processor.process([cancel])
        #expect(s.reservations.stock(of: deal) == 2)
        #expect(s.orders.documents[id]?.status == .cancelled)
        let released = s.events.compactMap { if case .stockReleased(let r) = $0 { r } else { nil } }
        #expect(released.count == 2 && released.allSatisfy { $0.reason == .cancelled && $0.quantity == 2 })
        #expect(Set(released.map(\.eventId)).count == 1, "a repeated cancellation publishes the same event again")
        let stranger = try s.cancellation(id, "not-the-owner", deal)
        try await s.processor.process([stranger])
        #expect(s.reservations.stock(of: deal) == 2)
    }

    @Test func aDealNobodyKnowsIsRejectedAndEventsAreRetriedUntilAcknowledged() async throws {
        var s = Stages()
        let unknown = try DealID("ip-w-unknown-deal")
        let (id, request) = try s.request("lost-buyer", unknown)
        s.log.failNext(3)
        try await s.processor.process([request])
        #expect(s.orders.documents[id]?.status == .rejected)
        #expect(s.orders.documents[id]?.reason == RejectionReason.dealClosed.rawValue)
        #expect(s.types(s.events) == [DomainEventType.orderRejected.rawValue])
    }

    @Test func anUnpaidReservationExpiresAndItsUnitsGoBackOnSale() async throws {
        var s = Stages()
        let deal = try s.deal(stock: 1, paymentWindow: .seconds(60))
        let (id, request) = try s.request("slow-payer", deal)
        try await s.processor.process([request])
        #expect(s.reservations.stock(of: deal) == 0)
        try await s.processor.expireUnpaid()
        #expect(s.orders.documents[id]?.status == .confirmed, "not due yet")

        s.clock.advance(.seconds(61))
        try await s.processor.expireUnpaid()
        #expect(s.reservations.stock(of: deal) == 1)
        #expect(s.orders.documents[id]?.status == .cancelled)
        #expect(s.orders.documents[id]?.reason == CancellationReason.expired.rawValue)
        let released = s.events.compactMap { if case .stockReleased(let r) = $0 { r } else { nil } }
        #expect(released.map(\.reason) == [.expired])
    }
}
