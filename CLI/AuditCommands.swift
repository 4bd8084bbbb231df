import Admission
import ArgumentParser
import DealAudit
import DealData
import Domain
import Foundation
import Infrastructure
import Logging

/// The clients the oracle and the repair need, closed by ``close()``.
struct AuditClients {
    let redis: RedisClient
    let mongo: MongoClient
    let endpoints: ServiceEndpoints

    init(_ options: EndpointOptions) throws {
        endpoints = try options.load()
        mongo = try MongoClient(configuration: MongoConfiguration(endpoints: endpoints))
        redis = RedisClient(
            configuration: RedisConfiguration(
                host: endpoints.redisHost, port: endpoints.redisPort,
                connections: 1))
    }

    var reservations: ReservationStore { ReservationStore(redis: redis) }
    var orders: OrderStore { OrderStore(mongo: mongo) }
    var catalog: DealCatalog { DealCatalog(mongo: mongo) }

    func close() {
        redis.shutdown()
        mongo.shutdown()
    }
}

func parseDealID(_ raw: String) throws -> DealID {
    do { return try DealID(raw) } catch { throw ValidationError("\(error)") }
}

/// `flashdeal verify --deal ID`: the invariants of a deal, checked against Redis, MongoDB and Kafka.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Check a deal's invariants (no oversell, conservation, nothing lost, no duplicates); exit 1 on any violation.",
        discussion: """
            Reads every order request and order event from Kafka, the orders from MongoDB and the \
            stock, holdings and reservation records from Redis. Run it once the system is quiet; \
            --wait retries until the invariants hold or the time is up (useful right after a run).
            """)

    @OptionGroup var options: EndpointOptions
    @Option(help: "Deal id.") var deal: String
    @Option(help: "Keep checking for up to this many seconds until every invariant holds.") var wait: Int = 0
    @Option(help: "Seconds without new Kafka messages that count as caught up.") var idle: Double = 2
    @Option(help: "Prefix of the topic names (as the workers' FLASHDEAL_TOPIC_PREFIX).") var topicPrefix = ""
    @Option(
        help: ArgumentHelp(
            "A file of order ids shoppers were given (one per line; text after the id is ignored): each must be decided with one outcome event.",
            valueName: "file"))
    var expectOrders: String?

    func run() async throws {
        let id = try parseDealID(deal)
        var told = Set<OrderID>()
        if let expectOrders {
            let text: String
            do { text = try String(contentsOfFile: expectOrders, encoding: .utf8) } catch {
                throw ValidationError("--expect-orders: cannot read \(expectOrders): \(error.localizedDescription)")
            }
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                guard let first = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first else { continue }
                do { told.insert(try OrderID(String(first))) } catch {
                    throw ValidationError("--expect-orders \(expectOrders):\(number + 1): \(error)")
                }
            }
        }
        let clients = try AuditClients(options)
        defer { clients.close() }
        var logger = Logger(label: "flashdeal.verify")
        logger.logLevel = .error
        let topics = OrderTopics(prefix: topicPrefix)
        let reader = try TopicReader(
            brokers: clients.endpoints.kafkaBrokers, topics: [topics.requests, topics.events],
            logger: logger)
        let audit = DealAudit(
            reservations: clients.reservations, orders: clients.orders,
            outbox: Outbox(redis: clients.redis), catalog: clients.catalog)
        let deadline = ContinuousClock.now + .seconds(wait)
        var log = DealAudit.Log()
        var report: AuditReport
        repeat {
            log.add(try await reader.catchUp(idle: .seconds(idle)))
            report = try await audit.audit(id, log: log, told: told)
            if report.passed || ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .seconds(1))
        } while true
        await reader.close()
        print(report.text)
        if !report.passed { throw ExitCode.failure }
    }
}

/// `flashdeal reconcile --deal ID [--fix]`: Redis stock against MongoDB, and the repair.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare a deal's Redis stock and holdings with MongoDB; --fix rewrites Redis from MongoDB.",
        discussion: """
            Expected stock = total stock − units of CONFIRMED orders in MongoDB − units Redis reserved \
            for orders not in MongoDB yet. --fix waits until the deal's orders stop changing in \
            MongoDB (--settle), then writes the stock, the holdings, the sold-out flag, the deal's info \
            and the reservation records Redis lost. Exit 1 when not consistent and --fix not given.
            """)

    @OptionGroup var options: EndpointOptions
    @Option(help: "Deal id.") var deal: String
    @Flag(help: "Repair Redis.") var fix = false
    @Option(help: "Seconds MongoDB must stay unchanged before --fix writes.") var settle: Double = 2

    func run() async throws {
        let id = try parseDealID(deal)
        let clients = try AuditClients(options)
        defer { clients.close() }
        let reconciler = StockReconciler(
            reservations: clients.reservations, orders: clients.orders,
            catalog: clients.catalog)
        let before = try await reconciler.plan(id)
        print(before.text)
        guard fix else {
            if !before.isConsistent { throw ExitCode.failure }
            return
        }
        let applied = try await reconciler.fix(id, settle: .seconds(settle))
        print(
            "fixed: stock set to \(applied.expectedStock), \(applied.expectedHeld.count) holdings, "
                + "\(applied.records.count) reservation records restored")
        let after = try await reconciler.plan(id)
        print(after.text)
        if !after.isConsistent { throw ExitCode.failure }
    }
}
