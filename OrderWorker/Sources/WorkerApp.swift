import DealData
import Infrastructure
public import Logging
public import Operations
public import ServiceLifecycle
import Synchronization

/// Builds the order-worker process: topics created explicitly at start-up (never by auto-create),
/// then the consumer loop (``OrderConsumer``) and the outbox writer. Ready once the topics exist and
/// the loop consumes; SIGTERM finishes the batch in hand, stores its offsets and leaves the group.
public enum WorkerApp {
    public static let defaultPort = 8081

    public static func configuration(environment: [String: String], endpointsFile: String?) throws
        -> ServiceHostConfiguration
    {
        try ServiceHostConfiguration.load(
            name: "flashdeal-worker", defaultPort: defaultPort,
            environment: environment, endpointsFile: endpointsFile)
    }

    /// - Parameter partitions: partitions per topic (`FLASHDEAL_TOPIC_PARTITIONS`, default 12).
    public static func build(
        _ configuration: ServiceHostConfiguration, settings: WorkerSettings = WorkerSettings(),
        partitions: Int = 12, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws
        -> ServiceGroup
    {
        let setup = TopicSetup(
            topics: settings.topics.specifications(partitions: partitions),
            admin: try KafkaAdmin(brokers: configuration.endpoints.kafkaBrokers), logger: logger)
        let consumerRef = Mutex<OrderConsumer?>(nil)
        let topicsReady = ReadinessCheck(name: "topics") {
            guard setup.isDone else { throw TopicSetup.NotYet() }
        }
        let consuming = ReadinessCheck(name: "consumer") {
            guard consumerRef.withLock({ $0?.isConsuming }) == true else { throw OrderConsumer.NotConsuming() }
        }
        let host = try ServiceHost(configuration: configuration, logger: logger, extraChecks: [topicsReady, consuming])
        let metrics = WorkerMetrics(registry: host.metrics.registry)
        let produceMetrics = KafkaProduceMetrics(
            registry: host.metrics.registry,
            topics: [settings.topics.events, settings.topics.deadLetters])
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(
                configuration: KafkaProducerConfiguration(
                    brokers: configuration.endpoints.kafkaBrokers, deliveryTimeout: .seconds(10),
                    linger: settings.linger,
                    clientID: "flashdeal-worker", additional: settings.producerProperties), logger: logger,
                observer: { produceMetrics.observe($0) })
        } catch {
            host.clients.close()
            throw error
        }
        let redis = host.clients.redis
        let reservations = ReservationStore(redis: redis)
        let orders = OrderStore(mongo: host.clients.mongo) { operation, duration, ok in
            metrics.mongoWrite(operation: operation, duration: duration, ok: ok)
        }
        let outbox = Outbox(redis: redis)
        let catalog = DealCatalog(mongo: host.clients.mongo)
        let processor = OrderProcessor(
            reservations: reservations, orders: orders, outbox: outbox, catalog: catalog,
            rebuild: RedisStockRebuild(
                redis: redis, orders: orders, catalog: catalog,
                accepting: AcceptingDeals(redis: redis, requestsTopic: settings.topics.requests),
                closeGrace: settings.closeGrace, metrics: metrics,
                logger: logger),
            producer: producer, settings: settings, metrics: metrics, logger: logger)
        let brokers = configuration.endpoints.kafkaBrokers
        // One instance id serves both groups: an id is unique within a group, and these are two groups.
        let staticMembership = settings.instanceID.map { ["group.instance.id": $0] } ?? [:]
        let consumer = OrderConsumer(
            makeConsumer: {
                try KafkaConsumer(
                    configuration: KafkaConsumerConfiguration(
                        brokers: brokers, groupID: settings.groupID, sessionTimeout: settings.sessionTimeout,
                        clientID: "flashdeal-worker", additional: staticMembership),
                    topics: [settings.topics.requests], logger: logger)
            },
            processor: processor, batchSize: settings.batchSize, topic: settings.topics.requests,
            prepare: {
                guard setup.isDone else { throw TopicSetup.NotYet() }
                try await reservations.prepare()
                try await orders.prepare()
            },
            logger: logger)
        consumerRef.withLock { $0 = consumer }
        let writer = OutboxWriter(
            outbox: outbox, orders: orders, metrics: metrics, interval: settings.outboxInterval,
            logger: logger)
        let expiry = PaymentExpiry(processor: processor, interval: settings.expiryInterval, logger: logger)
        let watcher = EventWatcher(
            makeConsumer: {
                try KafkaConsumer(
                    configuration: KafkaConsumerConfiguration(
                        brokers: brokers, groupID: settings.eventWatchGroupID, sessionTimeout: settings.sessionTimeout,
                        clientID: "flashdeal-worker-event-watch", additional: staticMembership),
                    topics: [settings.topics.events], logger: logger)
            },
            reservations: reservations, ready: { setup.isDone }, retryBackoff: settings.retryBackoff, logger: logger)
        let resender = Resender(
            deals: AcceptingDeals(redis: redis, requestsTopic: settings.topics.requests),
            reservations: reservations, orders: orders, outbox: outbox, producer: producer,
            settings: settings, metrics: metrics, logger: logger,
            requestsConsumedSince: { consumer.assignedSince },
            eventsReadSince: { watcher.assignedSince })
        return host.serviceGroup(
            services: [
                CloseProducerOnShutdown(producer: producer), setup, writer, expiry, resender,
                watcher, consumer,
            ],
            onServerRunning: onServerRunning)
    }
}

/// Releases reservations whose payment deadline passed, every `interval` (see
/// ``OrderProcessor/expireUnpaid(limit:)``). Several workers may sweep at once: each release is atomic
/// in Redis, and recording an expired order twice writes the same document and event id.
struct PaymentExpiry: Service {
    let processor: OrderProcessor
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do { try await processor.expireUnpaid() } catch {
                logger.warning("payment-deadline sweep failed; retrying", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}

/// Flushes and closes the event producer after the consumer loop stopped.
struct CloseProducerOnShutdown: Service {
    let producer: KafkaProducer

    func run() async throws {
        try? await gracefulShutdown()
        await producer.close(flushTimeout: .seconds(5))
    }
}

/// Creates the topics at start-up, retrying until the broker accepts (creating a dozen partitions on
/// a durable broker can take seconds), then idles until shutdown.
final class TopicSetup: Service, Sendable {
    struct NotYet: Error, CustomStringConvertible {
        var description: String { "the contract's topics are not created yet" }
    }

    private let topics: [TopicSpecification]
    private let admin: KafkaAdmin
    private let logger: Logger
    private let done = Atomic<Bool>(false)

    init(topics: [TopicSpecification], admin: KafkaAdmin, logger: Logger) {
        self.topics = topics
        self.admin = admin
        self.logger = logger
    }

    var isDone: Bool { done.load(ordering: .acquiring) }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await admin.createTopics(topics, timeout: .seconds(10))
                done.store(true, ordering: .releasing)
                logger.info("topics ready", metadata: ["topics": "\(topics.map(\.name))"])
                break
            } catch {
                logger.warning("creating topics failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        try? await gracefulShutdown()
    }
}
