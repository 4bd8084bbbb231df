import Admission
import Credentials
import DealData
import Domain
import Foundation
import Gateway
import Infrastructure
import Logging
import OrderWorker
import TestSupport
import Testing
import Twins

/// One suite, two implementations: every test runs against the live adapter on the local stack
/// (Redis, MongoDB) and against its in-memory twin, with the same expectations. A twin that drifts
/// from what the adapter does fails here, so tests built on twins keep meaning what they say.
@Suite("Port contracts: live adapters and in-memory twins")
struct PortContractTests {
    enum Backend: String, CaseIterable, CustomTestStringConvertible {
        case live, inMemory
        var testDescription: String { rawValue }
    }

    static func redis() throws -> RedisClient {
        let e = try TestStack.endpoints()
        return RedisClient(configuration: RedisConfiguration(host: e.redisHost, port: e.redisPort, connections: 2))
    }

    static func mongo() throws -> MongoClient {
        try MongoClient(configuration: MongoConfiguration(endpoints: try TestStack.endpoints()))
    }

    static func makeDeal(stock: Int = 4, limit: Int = 2, opensIn: TimeInterval = -1) throws -> Deal {
        let id = try DealID(TestStack.uniqueName("contract-deal"))
        let startsAt = Date().addingTimeInterval(opensIn)
        return try Deal(
            id: id, productId: try ProductID("prod-\(id.rawValue)"), title: "Contract \(id.rawValue)",
            price: Money(amountMinor: 500, currency: try CurrencyCode("EUR")), startsAt: startsAt,
            endsAt: startsAt.addingTimeInterval(3_600), totalStock: stock, perCustomerLimit: limit)
    }

    static func request(_ user: String, _ deal: DealID, _ quantity: Int) throws -> ReservationRequest {
        let userId = try UserID(user)
        return ReservationRequest(
            orderId: OrderID.derive(userId: userId, dealId: deal, idempotencyKey: try IdempotencyKey("k")),
            dealId: deal, userId: userId, quantity: quantity)
    }

    // MARK: Stock reservations

    /// The store and a way to seed a deal's state in it.
    static func reservations(_ backend: Backend) async throws -> (
        any StockReservations, @Sendable (Deal) async throws -> Void
    ) {
        switch backend {
        case .live:
            let redis = try redis()
            let store = ReservationStore(redis: redis)
            try await store.prepare()
            try await store.markVerified()
            let states = DealStateStore(redis: redis)
            try await states.prepare()
            return (store, { deal in _ = try await states.seed(deal, reset: true) })
        case .inMemory:
            let store = InMemoryReservations()
            return (store, { deal in store.seed(deal) })
        }
    }

    @Test(arguments: Backend.allCases)
    func reservationsAreDecidedOnceWithinTheLimitAndTheStock(_ backend: Backend) async throws {
        let (store, seed) = try await Self.reservations(backend)
        let deal = try Self.makeDeal(stock: 4, limit: 2)
        try await seed(deal)
        let a = try Self.request("c-a", deal.id, 2)
        let b = try Self.request("c-b", deal.id, 3)  // over the per-customer limit
        let c = try Self.request("c-c", deal.id, 2)  // takes the last two units
        let d = try Self.request("c-d", deal.id, 1)  // nothing left
        let replies = try await store.reserve([a, b, c, d], grace: .seconds(60))
        #expect(
            replies.map(\.result) == [
                .decided(.reserved), .decided(.limitExceeded), .decided(.reserved),
                .decided(.soldOut),
            ])
        #expect(replies.map(\.replay) == [false, false, false, false])
        #expect(replies.map(\.announcedSoldOut) == [false, false, true, false])
        #expect(replies[0].remaining == 2 && replies[2].remaining == 0)
        #expect(replies.allSatisfy { $0.decidedAtMs > 0 && !$0.published })

        // A replay gets the first answer, with the same decision time, and sees `published` once marked.
        try await store.markPublished([a.orderId], deal: deal.id)
        let again = try await store.reserve([a, d], grace: .seconds(60))
        #expect(again.map(\.result) == [.decided(.reserved), .decided(.soldOut)])
        #expect(again.map(\.replay) == [true, true])
        #expect(again[0].decidedAtMs == replies[0].decidedAtMs)
        #expect(again.map(\.published) == [true, false])

        let unknown = try Self.request("c-a", try DealID(TestStack.uniqueName("contract-nodeal")), 1)
        #expect(try await store.reserve([unknown], grace: .seconds(60)).map(\.result) == [.noState])
    }

    @Test(arguments: Backend.allCases)
    func aReleaseGivesUnitsBackOnceToTheirOwnerOnly(_ backend: Backend) async throws {
        let (store, seed) = try await Self.reservations(backend)
        let deal = try Self.makeDeal(stock: 2, limit: 2)
        try await seed(deal)
        let a = try Self.request("r-a", deal.id, 2)
        let b = try Self.request("r-b", deal.id, 1)
        _ = try await store.reserve([a, b], grace: .seconds(60))

        let stranger = try await store.release(
            order: a.orderId, deal: deal.id, user: try UserID("r-x"), reason: .cancelled)
        #expect(stranger.result == .wrongUser)
        let released = try await store.release(order: a.orderId, deal: deal.id, user: a.userId, reason: .cancelled)
        #expect(released.result == .released && released.quantity == 2 && released.remaining == 2)
        let twice = try await store.release(order: a.orderId, deal: deal.id, user: nil, reason: .failed)
        #expect(twice.result == .alreadyReleased && twice.remaining == 2)
        #expect(try await store.release(order: b.orderId, deal: deal.id, user: nil, reason: .failed).result == .notHeld)
        let nobody = try Self.request("r-none", deal.id, 1)
        #expect(
            try await store.release(order: nobody.orderId, deal: deal.id, user: nil, reason: .failed).result == .unknown
        )
        // The units are on sale again: the replay keeps its answer, a new order gets them.
        let replay = try await store.reserve([a], grace: .seconds(60))
        #expect(replay.first?.released == .cancelled)
        let next = try await store.reserve([try Self.request("r-c", deal.id, 2)], grace: .seconds(60))
        #expect(next.first?.result == .decided(.reserved))
    }

    @Test(arguments: Backend.allCases)
    func theExpiringDealSetHoldsNamesUntilRemoved(_ backend: Backend) async throws {
        let (store, _) = try await Self.reservations(backend)
        let key = TestStack.uniqueName("contract-expiring")
        let deals = try [DealID("exp-b"), DealID("exp-a")]
        try await store.addExpiringDeals(deals, key: key)
        try await store.addExpiringDeals([], key: key)
        #expect(try await store.expiringDeals(key: key).sorted() == ["exp-a", "exp-b"])
        try await store.removeExpiringDeal("exp-a", key: key)
        #expect(try await store.expiringDeals(key: key) == ["exp-b"])
        try await store.removeExpiringDeal("exp-b", key: key)
    }

    // MARK: Order documents

    static func document(_ user: String, deal: DealID, status: OrderStatus, key: String = "k") throws -> OrderDocument {
        let userId = try UserID(user)
        let idempotencyKey = try IdempotencyKey(key)
        let at = Timestamp.normalized(Date())
        return OrderDocument(
            orderId: OrderID.derive(userId: userId, dealId: deal, idempotencyKey: idempotencyKey),
            dealId: deal, userId: userId, quantity: 1, idempotencyKey: idempotencyKey, status: status,
            reason: status == .rejected ? "SOLD_OUT" : nil, createdAt: at, updatedAt: at)
    }

    static func repository(_ backend: Backend) throws -> (any OrderRepository & OrderLookup, MongoClient?) {
        switch backend {
        case .live:
            let mongo = try mongo()
            return (OrderStore(mongo: mongo), mongo)
        case .inMemory: return (InMemoryOrderStore(), nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func ordersAreInsertedOnceCancelledFromConfirmedOnlyAndReadBackUnchanged(_ backend: Backend) async throws {
        let (orders, mongo) = try Self.repository(backend)
        defer { mongo?.shutdown() }
        let deal = try DealID(TestStack.uniqueName("contract-orders"))
        let confirmed = try Self.document("o-a", deal: deal, status: .confirmed)
        let rejected = try Self.document("o-b", deal: deal, status: .rejected)
        let first = try await orders.insertNew([confirmed, rejected])
        #expect(first.insertedCount == 2 && first.duplicateKeyIndexes.isEmpty)
        var changed = confirmed
        changed.quantity = 9
        let second = try await orders.insertNew([changed])
        #expect(second.insertedCount == 0 && second.duplicateKeyIndexes == [0])
        #expect(try await orders.find(confirmed.orderId) == confirmed)
        #expect(try await orders.order(confirmed.orderId) == confirmed)

        let later = Timestamp.normalized(Date().addingTimeInterval(5))
        #expect(try await orders.cancel(rejected.orderId, reason: .shopper, at: later) == false)
        #expect(try await orders.cancel(confirmed.orderId, reason: .shopper, at: later) == true)
        #expect(try await orders.cancel(confirmed.orderId, reason: .shopper, at: later) == false)
        let cancelled = try #require(try await orders.find(confirmed.orderId))
        #expect(cancelled.status == .cancelled && cancelled.reason == "SHOPPER" && cancelled.updatedAt == later)

        var failed = rejected
        failed.status = .failed
        failed.reason = "MONGODB_UNAVAILABLE"
        try await orders.put(failed)
        let absent = try Self.document("o-none", deal: deal, status: .confirmed)
        let found = try await orders.find([rejected.orderId, absent.orderId])
        #expect(found == [rejected.orderId: failed])
        #expect(try await orders.order(absent.orderId) == nil)
    }

    @Test(arguments: Backend.allCases)
    func aStoredDocumentThatDoesNotReadIsAnErrorNotAnAbsence(_ backend: Backend) async throws {
        let deal = try DealID(TestStack.uniqueName("contract-broken"))
        let broken = try Self.document("b-a", deal: deal, status: .confirmed)
        let lookup: any OrderLookup
        var mongo: MongoClient?
        switch backend {
        case .live:
            let client = try Self.mongo()
            mongo = client
            _ = try await client.collection(OrderStore.collectionName).insert(
                [
                    "_id": .string(broken.orderId.rawValue), "dealId": .string(deal.rawValue),
                    "status": .string("WHATEVER"),
                ])
            lookup = OrderStore(mongo: client)
        case .inMemory:
            let twin = InMemoryOrderStore()
            twin.storeUnreadable(broken.orderId)
            lookup = twin
        }
        defer { mongo?.shutdown() }
        await #expect(throws: DealDataError.self) { try await lookup.order(broken.orderId) }
    }

    // MARK: Outbox

    @Test(arguments: Backend.allCases)
    func theOutboxKeepsTheLatestDocumentPerOrder(_ backend: Backend) async throws {
        let outbox: any OutcomeOutbox = backend == .live ? Outbox(redis: try Self.redis()) : InMemoryOutbox()
        let deal = try DealID(TestStack.uniqueName("contract-outbox"))
        var a = try Self.document("x-a", deal: deal, status: .confirmed)
        let b = try Self.document("x-b", deal: deal, status: .rejected)
        try await outbox.add([a, b])
        a.status = .failed
        a.reason = "MONGODB_UNAVAILABLE"
        try await outbox.add([a])
        let absent = try Self.document("x-none", deal: deal, status: .confirmed)
        let stored = try await outbox.documents([a.orderId, b.orderId, absent.orderId])
        #expect(Set(stored) == [a, b])
        if let live = outbox as? Outbox { try await live.remove([a.orderId.rawValue, b.orderId.rawValue]) }
    }

    // MARK: Catalog and deal state

    @Test(arguments: Backend.allCases)
    func theCatalogAndTheDealStateAnswerForWhatWasSeeded(_ backend: Backend) async throws {
        let deal = try Self.makeDeal(stock: 7, limit: 3)
        let product = try Product(id: deal.productId, name: "Contract product")
        let catalog: any CatalogSource & DealLookup
        let states: any DealStateSource
        var mongo: MongoClient?
        switch backend {
        case .live:
            let client = try Self.mongo()
            mongo = client
            let live = DealCatalog(mongo: client)
            try await live.upsert(product)
            try await live.upsert(deal)
            catalog = live
            let store = DealStateStore(redis: try Self.redis())
            try await store.prepare()
            _ = try await store.seed(deal, reset: true)
            var logger = Logger(label: "contract")
            logger.logLevel = .critical
            states = DealStateCache(store: store, refresh: .seconds(1), logger: logger)
        case .inMemory:
            let twin = InMemoryDeals()
            twin.add(deal, product: product)
            catalog = twin
            states = twin
        }
        defer { mongo?.shutdown() }
        #expect(try await catalog.deal(deal.id) == deal)
        #expect(try await catalog.product(product.id) == product)
        #expect(try await catalog.deal(try DealID(TestStack.uniqueName("contract-none"))) == nil)
        // The live cache reads Redis within a 250 ms budget: on a box busy with the parallel tests a
        // first read may miss it (UNAVAILABLE to a shopper, retried); what it answers is the contract.
        let state = try #require(try await eventually { try await states.state(of: deal.id) })
        #expect(state.totalStock == 7 && state.remaining == 7 && state.perCustomerLimit == 3 && !state.isSoldOut)
        #expect(
            state.startsAt == Timestamp.normalized(deal.startsAt) && state.endsAt == Timestamp.normalized(deal.endsAt))
        let none = try DealID(TestStack.uniqueName("contract-none"))
        #expect(try await eventually { try await states.state(of: none) } == nil)
    }
}
