import Infrastructure
public import Logging
public import Operations
public import ServiceLifecycle
import Synchronization

/// Builds the order-worker process. At start-up it creates the contract's Kafka topics (explicitly,
/// never by auto-create) and reports ready only once they exist; the consumer loop is added here.
public enum WorkerApp {
    public static let defaultPort = 8081

    public static func configuration(environment: [String: String], endpointsFile: String?) throws
        -> ServiceHostConfiguration
    {
        try ServiceHostConfiguration.load(name: "flashdeal-worker", defaultPort: defaultPort,
                                          environment: environment, endpointsFile: endpointsFile)
    }

    /// - Parameter partitions: partitions per topic (`FLASHDEAL_TOPIC_PARTITIONS`, default 12).
    public static func build(_ configuration: ServiceHostConfiguration, partitions: Int = 12, logger: Logger,
                             onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws
        -> ServiceGroup
    {
        let setup = TopicSetup(topics: FlashDealTopics.specifications(partitions: partitions),
                               admin: try KafkaAdmin(brokers: configuration.endpoints.kafkaBrokers), logger: logger)
        let topicsReady = ReadinessCheck(name: "topics") {
            guard setup.isDone else { throw TopicSetup.NotYet() }
        }
        let host = try ServiceHost(configuration: configuration, logger: logger, extraChecks: [topicsReady])
        return host.serviceGroup(services: [setup], onServerRunning: onServerRunning)
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
