import Infrastructure
public import Logging
public import Operations
public import ServiceLifecycle

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
        let topics = FlashDealTopics.specifications(partitions: partitions)
        let admin = try KafkaAdmin(brokers: configuration.endpoints.kafkaBrokers)
        let timeout = configuration.readinessTimeout
        let topicsExist = ReadinessCheck(name: "topics") {
            let metadata = try await admin.metadata(timeout: timeout)
            let missing = topics.map(\.name).filter { metadata.partitionsByTopic[$0] == nil }
            if !missing.isEmpty {
                try await admin.createTopics(topics, timeout: timeout)
            }
        }
        let host = try ServiceHost(configuration: configuration, logger: logger, extraChecks: [topicsExist])
        return host.serviceGroup(onServerRunning: onServerRunning)
    }
}
