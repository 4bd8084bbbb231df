import Admission
import ArgumentParser
import DealAudit
import DealData
import Domain
import Foundation
import Infrastructure
import Logging
import OrderWorker
import Synchronization

/// `flashdeal-bench worker`: order requests produced at a fixed rate (open model) to workers already
/// running on topics under `--prefix`; measures confirmations per second and the time from the
/// request to its OrderConfirmed event, then runs the oracle on the deal.
struct WorkerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "End-to-end order throughput and accept→confirmed latency through running workers.")

    @Option(help: "Topic prefix the workers run with (FLASHDEAL_TOPIC_PREFIX).") var prefix: String
    @Option(help: "Requests per second offered.") var rate = 2_000
    @Option(help: "Seconds of offered load.") var seconds = 60
    @Option(help: "Label printed with the result row (e.g. '1 worker').") var label = ""
    @Flag(help: "Print the header row first.") var header = false
    @Option(help: "Linger of the request producer, in milliseconds (the gateways' batching).") var linger = 5

    func run() async throws {
        let endpoints = try ServiceEndpoints.load(
            environment: ProcessInfo.processInfo.environment,
            defaultFile: FileManager.default.currentDirectoryPath + "/.stack/endpoints.env")
        var logger = Logger(label: "bench.worker")
        logger.logLevel = .error
        let topics = OrderTopics(prefix: prefix)
        let redis = RedisClient(configuration: RedisConfiguration(host: endpoints.redisHost, port: endpoints.redisPort))
        let mongo = try MongoClient(configuration: MongoConfiguration(endpoints: endpoints))
        defer {
            redis.shutdown()
            mongo.shutdown()
        }
        let total = rate * seconds
        let deal = try Deal(
            id: try DealID("bench-\(UUID().uuidString.prefix(8).lowercased())"),
            productId: try ProductID("bench-product"), title: "Benchmark deal",
            price: Money(amountMinor: 100, currency: try CurrencyCode("EUR")),
            startsAt: Date().addingTimeInterval(-1), endsAt: Date().addingTimeInterval(3_600),
            totalStock: total, perCustomerLimit: 1)
        let catalog = DealCatalog(mongo: mongo)
        try await catalog.upsert(try Product(id: deal.productId, name: "Benchmark product", description: nil))
        try await catalog.upsert(deal)
        let store = DealStateStore(redis: redis)
        try await store.prepare()
        _ = try await store.seed(deal, reset: true)

        let events = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                brokers: endpoints.kafkaBrokers,
                groupID: "bench-\(UUID().uuidString.prefix(8))",
                additional: ["enable.auto.commit": "false"]),
            topics: [topics.events], logger: logger)
        try await events.waitForAssignment(timeout: .seconds(60))
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(
                brokers: endpoints.kafkaBrokers, linger: .milliseconds(linger), clientID: "bench"), logger: logger)

        // Requests, prepared before the clock starts.
        let requests: [OrderRequested] = try (0..<total).map { i in
            let (_, event) = try Order.request(
                dealId: deal.id, userId: try UserID("b\(i)"), quantity: 1,
                idempotencyKey: try IdempotencyKey("k"), at: Date())
            guard case .orderRequested(let r) = event else { fatalError("not a request") }
            return r
        }
        let index = Dictionary(uniqueKeysWithValues: requests.enumerated().map { ($1.orderId.rawValue, $0) })
        let sentAt = Mutex([ContinuousClock.Instant?](repeating: nil, count: total))
        let failures = SendFailures()

        let start = ContinuousClock.now
        let sender = Task {
            let tick = Duration.milliseconds(10)
            let perTick = Double(rate) / 100
            var sent = 0
            var ticks = 0
            await withTaskGroup(of: Void.self) { group in
                while sent < total {
                    ticks += 1
                    let due = min(total, Int((Double(ticks) * perTick).rounded()))
                    while sent < due {
                        let i = sent
                        let r = requests[i]
                        // The request's own timestamp is rewritten to "now" so latency counts from the send.
                        let request = OrderRequested(
                            eventId: r.eventId, occurredAt: Date(), orderId: r.orderId,
                            dealId: r.dealId, userId: r.userId, quantity: 1,
                            idempotencyKey: r.idempotencyKey, requestedAt: Date())
                        sentAt.withLock { $0[i] = ContinuousClock.now }
                        let key = Array(r.orderId.rawValue.utf8)
                        let value = Array(DomainEvent.orderRequested(request).jsonData())
                        let topic = topics.requests
                        group.addTask {
                            do { try await producer.send(topic: topic, key: key, value: value) } catch {
                                failures.add()
                            }
                        }
                        sent += 1
                    }
                    let next = start + tick * ticks
                    if next > ContinuousClock.now { try? await Task.sleep(until: next) }
                }
                await group.waitForAll()
            }
        }

        var latencies: [Duration] = []
        latencies.reserveCapacity(total)
        var perSecond: [Int: Int] = [:]
        var rejected = 0
        var lastConfirmation = ContinuousClock.now
        let deadline = start + .seconds(seconds + 120)
        while latencies.count + rejected < total && ContinuousClock.now < deadline {
            for m in try await events.poll(maxMessages: 5_000, timeout: .milliseconds(100)) {
                let now = ContinuousClock.now
                guard let key = m.keyString, let i = index[key], let sent = sentAt.withLock({ $0[i] }) else { continue }
                guard let event = try? DomainEvent.decode(Data(m.value)) else { continue }
                switch event.type {
                case .orderConfirmed:
                    latencies.append(now - sent)
                    lastConfirmation = now
                    perSecond[Int((now - start) / .seconds(1)), default: 0] += 1
                case .orderRejected, .orderFailed: rejected += 1
                default: break
                }
            }
        }
        await sender.value
        let end = lastConfirmation
        await events.close()
        await producer.close()

        latencies.sort()
        func pct(_ p: Double) -> String {
            guard !latencies.isEmpty else { return "-" }
            let d = latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
            return String(format: "%.1f", Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1e3)
        }
        // Sustained rate: confirmations per second over the offered window, after a 5 s warm-up.
        let window = (5..<seconds).map { perSecond[$0] ?? 0 }
        let sortedWindow = window.sorted()
        let minimum = sortedWindow.first ?? 0
        let median = sortedWindow.isEmpty ? 0 : sortedWindow[sortedWindow.count / 2]
        let elapsed = Double((end - start).components.seconds) + Double((end - start).components.attoseconds) / 1e18
        let overall = Double(latencies.count) / elapsed
        // Confirmed while requests were being offered, over that window's length.
        let sustained = Double((0..<seconds).reduce(0) { $0 + (perSecond[$1] ?? 0) }) / Double(seconds)

        let audit = DealAudit(
            reservations: ReservationStore(redis: redis), orders: OrderStore(mongo: mongo),
            outbox: Outbox(redis: redis), catalog: catalog)
        let reader = try TopicReader(
            brokers: endpoints.kafkaBrokers, topics: [topics.requests, topics.events], logger: logger)
        var log = DealAudit.Log()
        log.add(try await reader.catchUp(idle: .seconds(2)))
        await reader.close()
        let report = try await audit.audit(deal.id, log: log)
        // The run leaves nothing behind: its orders, its Redis keys (the topics carry the run's prefix).
        try await mongo.collection(OrderStore.collectionName).deleteMany(["dealId": .string(deal.id.rawValue)])
        let keys = OrderKeys(deal.id)
        try await redis.send(["DEL"] + keys.all + AdmissionKeys(deal.id).waitingRoom)

        if header {
            print(
                "| workers | offered/s | s | confirmed | send errors | confirmed/s median (min) over s 5–\(seconds) | ratio median/offered | sustained/s (confirmed within the offered \(seconds) s ÷ \(seconds)) | overall/s (to the last confirmation) | accept→confirmed p50 / p90 / p99 / max ms | verify |"
            )
            print("|---|---|---|---|---|---|---|---|---|---|---|")
        }
        print(
            "| \(label) | \(rate) | \(seconds) | \(latencies.count) | \(failures.count) | \(median) (\(minimum)) | "
                + String(format: "%.2f", Double(median) / Double(rate)) + " | " + String(format: "%.0f", sustained)
                + " | " + String(format: "%.0f", overall)
                + " | \(pct(0.5)) / \(pct(0.9)) / \(pct(0.99)) / \(pct(0.99999)) | \(report.passed ? "PASS" : "FAIL") |"
        )
        if !report.passed { print(report.text) }
    }
}

final class SendFailures: Sendable {
    private let value = Atomic<Int>(0)
    func add() { value.add(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}
