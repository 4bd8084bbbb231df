import Admission
import DealAudit
import DealData
import Domain
import Foundation
import Infrastructure
import Logging
import OrderWorker
import ServiceLifecycle
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Shared set-up for the worker tests: clients on the local stack, a deal with a fresh id, topics
/// of its own (a unique prefix, so no other test's messages are consumed), a producer of order
/// requests, and the oracle. A missing stack fails loudly (`TestStack.endpoints()` throws).
struct WorkerHarness {
    let endpoints: ServiceEndpoints
    let redis: RedisClient
    let mongo: MongoClient
    let producer: KafkaProducer
    let topics: OrderTopics
    let prefix: String
    let group: String
    let logger: Logger
    /// Every message the harness's components (and its in-process workers) logged.
    let log = RecordingLogHandler.Record()

    init() async throws {
        endpoints = try TestStack.endpoints()
        redis = RedisClient(
            configuration: RedisConfiguration(
                host: endpoints.redisHost, port: endpoints.redisPort,
                connections: 2))
        mongo = try MongoClient(configuration: MongoConfiguration(endpoints: endpoints))
        let log = self.log
        var logger = Logger(label: "worker-tests") { label in
            RecordingLogHandler(record: log, passingTo: StreamLogHandler.standardError(label: label))
        }
        logger.logLevel = .error
        self.logger = logger
        producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(
                brokers: endpoints.kafkaBrokers,
                linger: .milliseconds(2)), logger: logger)
        prefix = TestStack.uniqueName("wt") + "."
        topics = OrderTopics(prefix: prefix)
        group = TestStack.uniqueName("wt-group")
        let admin = try KafkaAdmin(brokers: endpoints.kafkaBrokers)
        try await admin.createTopics(topics.specifications(partitions: 4), timeout: .seconds(30))
    }

    func close() async {
        await producer.close()
        redis.shutdown()
        mongo.shutdown()
    }

    var reservations: ReservationStore { ReservationStore(redis: redis) }
    var orders: OrderStore { OrderStore(mongo: mongo) }
    var catalog: DealCatalog { DealCatalog(mongo: mongo) }
    var outbox: Outbox { Outbox(redis: redis) }

    /// Runs an in-process worker for `body`, then shuts it down gracefully.
    func withWorker(settings: WorkerSettings, _ body: () async throws -> Void) async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["FLASHDEAL_HTTP_PORT"] = "0"
        environment["FLASHDEAL_DRAIN_MS"] = "0"
        let configuration = try WorkerApp.configuration(
            environment: environment,
            endpointsFile: TestStack.root + "/.stack/endpoints.env")
        let group = try WorkerApp.build(configuration, settings: settings, partitions: 4, logger: logger)
        let task = Task { try await group.run() }
        do { try await body() } catch {
            await group.triggerGracefulShutdown()
            _ = await task.result
            throw error
        }
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// A deal open now, in the catalog and seeded in Redis.
    func deal(stock: Int, limit: Int, lasts: Duration = .seconds(3_600), paymentWindow: Duration? = nil) async throws
        -> Deal
    {
        let id = try DealID(TestStack.uniqueName("wk-deal"))
        let start = Date().addingTimeInterval(-5)
        let deal = try Deal(
            id: id, productId: try ProductID("prod-\(id.rawValue)"), title: "Deal \(id.rawValue)",
            price: Money(amountMinor: 999, currency: try CurrencyCode("EUR")), startsAt: start,
            endsAt: start.addingTimeInterval(lasts.seconds), totalStock: stock, perCustomerLimit: limit,
            paymentWindow: paymentWindow)
        try await catalog.upsert(try Product(id: deal.productId, name: deal.title, description: nil))
        try await catalog.upsert(deal)
        let store = DealStateStore(redis: redis)
        try await store.prepare()
        try await ReservationStore(redis: redis).prepare()
        // The deal is seeded from the catalog here, as a rebuild after a Redis start would.
        try await ReservationStore(redis: redis).markVerified()
        _ = try await store.seed(deal, reset: true)
        return deal
    }

    /// An OrderRequested for `user` with `key`, as the gateway produces it.
    static func request(_ deal: DealID, user: String, key: String, quantity: Int = 1) throws -> OrderRequested {
        let (_, event) = try Order.request(
            dealId: deal, userId: try UserID(user), quantity: quantity,
            idempotencyKey: try IdempotencyKey(key), at: Date())
        guard case .orderRequested(let request) = event else { throw HarnessError("not a request") }
        return request
    }

    /// Produces requests (keyed by order id) and waits for every acknowledgement.
    func send(_ requests: [OrderRequested]) async throws {
        try await sendRaw(
            requests.map { (key: $0.orderId.rawValue, value: DomainEvent.orderRequested($0).jsonString()) })
    }

    func sendRaw(_ messages: [(key: String?, value: String)]) async throws {
        let producer = self.producer
        let topic = topics.requests
        try await withThrowingTaskGroup(of: Void.self) { group in
            for m in messages {
                group.addTask { try await producer.send(topic: topic, key: m.key, value: m.value) }
            }
            try await group.waitForAll()
        }
    }

    func cancel(_ request: OrderRequested) async throws {
        let event = OrderCancellationRequested(
            orderId: request.orderId, dealId: request.dealId, userId: request.userId,
            at: Date())
        try await producer.send(
            topic: topics.requests, key: request.orderId.rawValue,
            value: DomainEvent.orderCancellationRequested(event).jsonString())
    }

    /// Worker settings for this harness's topics and group.
    func settings(mongoBudget: Duration = .seconds(30)) -> WorkerSettings {
        var s = WorkerSettings()
        s.topics = topics
        s.groupID = group
        s.mongoRetryBudget = mongoBudget
        s.outboxInterval = .milliseconds(200)
        return s
    }

    /// The environment for a worker process on this harness's topics.
    func workerEnvironment(mongoBudgetMs: Int = 30_000) -> [String: String] {
        var e = ProcessInfo.processInfo.environment
        e["FLASHDEAL_HTTP_PORT"] = "0"
        e["FLASHDEAL_TOPIC_PREFIX"] = prefix
        e["FLASHDEAL_TOPIC_PARTITIONS"] = "4"
        e["FLASHDEAL_WORKER_GROUP"] = group
        e["FLASHDEAL_WORKER_MONGO_BUDGET_MS"] = String(mongoBudgetMs)
        // Small batches, so that kills land mid-stream rather than after one big batch.
        e["FLASHDEAL_WORKER_BATCH"] = "200"
        e["FLASHDEAL_DRAIN_MS"] = "0"
        e["LOG_LEVEL"] = "info"
        return e
    }

    /// Runs the oracle until it passes or `timeout` is spent; returns the last report.
    func audit(_ deal: DealID, reader: TopicReader, log: inout DealAudit.Log, timeout: Duration = .seconds(60))
        async throws -> AuditReport
    {
        let audit = DealAudit(reservations: reservations, orders: orders, outbox: outbox, catalog: catalog)
        let deadline = ContinuousClock.now + timeout
        while true {
            log.add(try await reader.catchUp(idle: .seconds(1)))
            let report = try await audit.audit(deal, log: log)
            if report.passed || ContinuousClock.now >= deadline { return report }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    /// Reads both topics from the beginning and runs the oracle until it passes or `timeout` is spent.
    func audit(_ deal: DealID, timeout: Duration = .seconds(60)) async throws -> (
        report: AuditReport, log: DealAudit.Log
    ) {
        let reader = try reader([topics.requests, topics.events])
        var log = DealAudit.Log()
        let report = try await audit(deal, reader: reader, log: &log, timeout: timeout)
        await reader.close()
        return (report, log)
    }

    /// Waits until MongoDB holds exactly `count` orders of the deal.
    func waitUntilStored(_ deal: DealID, _ count: Int) async throws {
        _ = try await eventually(timeout: .seconds(30)) {
            let n = try await storedCount(deal)
            guard n == count else { throw HarnessError("\(n) orders stored, waiting for \(count)") }
        }
    }

    func reader(_ topics: [String]) throws -> TopicReader {
        try TopicReader(brokers: endpoints.kafkaBrokers, topics: topics, logger: logger)
    }

    /// Orders of the deal stored in MongoDB.
    func storedCount(_ deal: DealID) async throws -> Int {
        try await mongo.collection(OrderStore.collectionName).count(["dealId": .string(deal.rawValue)])
    }

    /// Deletes every Redis key of the deal (its hash tag): Redis lost this deal's data.
    func wipeRedis(_ deal: DealID) async throws {
        var keys: [String] = []
        var cursor = "0"
        repeat {
            let reply = try await redis.send(["SCAN", cursor, "MATCH", "*{deal:\(deal.rawValue)}*", "COUNT", "1000"])
            let parts = try #require(reply.arrayValue)
            cursor = try #require(parts[0].stringValue)
            keys += (parts[1].arrayValue ?? []).compactMap(\.stringValue)
        } while cursor != "0"
        if !keys.isEmpty { try await redis.send(["DEL"] + keys) }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A worker running as its own process (`.build/debug/flashdeal-worker`), so it can be SIGKILLed.
typealias WorkerProcess = ChildProcess

extension ChildProcess {
    convenience init(environment: [String: String]) throws {
        try self.init(product: "flashdeal-worker", environment: environment)
    }
}

/// Runs `.build/debug/flashdeal ARGS…` from the repository root; returns its exit status (-1 when a
/// signal ended it) and output.
func runCLI(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let environment = ProcessInfo.processInfo.environment
    let endpoints = environment["FLASHDEAL_ENDPOINTS_FILE"] ?? TestStack.root + "/.stack/endpoints.env"
    let cli = try ChildProcess(
        product: "flashdeal", arguments: arguments + ["--endpoints", endpoints], environment: environment)
    defer { try? FileManager.default.removeItem(atPath: cli.logFile) }
    let status = cli.wait() ?? -1
    return (status, cli.log)
}
