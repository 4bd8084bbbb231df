internal import CRdKafka

/// A topic to create: Flash Deal never relies on auto-creation (it would pick the broker's default
/// partition count).
public struct TopicSpecification: Sendable, Hashable {
    public var name: String
    public var partitions: Int
    public var replicationFactor: Int

    public init(name: String, partitions: Int = 12, replicationFactor: Int = 1) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
    }
}

/// Creates topics and reads cluster metadata.
public final class KafkaAdmin: Sendable {
    private let handle: AdminHandle
    private let executor = BlockingExecutor(label: "flashdeal.kafka.admin")

    public init(brokers: String, additional: [String: String] = [:]) throws(KafkaError) {
        try RDKafka.checkVersion()
        var properties = ["bootstrap.servers": brokers, "client.id": "flashdeal-admin", "log_level": "3"]
        properties.merge(additional) { _, new in new }
        let conf = try RDKafka.makeConf(properties)
        handle = AdminHandle(try RDKafka.makeClient(RD_KAFKA_PRODUCER, conf: conf))
    }

    /// Creates the topics; a topic that already exists counts as created. Returns when the broker has
    /// answered for every topic.
    public func createTopics(_ topics: [TopicSpecification], timeout: Duration = .seconds(10)) async throws {
        let handle = self.handle
        try await executor.run {
            try handle.createTopics(topics, timeoutMilliseconds: Int32(wholeMilliseconds(timeout)))
        }
    }

    /// Partition count per topic name, and the number of brokers, as the cluster reports them.
    /// - Parameter allTopics: `false` asks only for the brokers (and topics this client already
    ///   knows): what a liveness check needs, at a cost that does not grow with the topic count.
    public func metadata(timeout: Duration = .seconds(5), allTopics: Bool = true) async throws -> ClusterMetadata {
        let handle = self.handle
        return try await executor.run {
            try handle.metadata(allTopics: allTopics, timeoutMilliseconds: Int32(wholeMilliseconds(timeout)))
        }
    }
}

/// What the cluster reports about itself.
public struct ClusterMetadata: Sendable, Equatable {
    public var brokerCount: Int
    public var partitionsByTopic: [String: Int]
}

/// `@unchecked Sendable`: admin requests and metadata calls are thread-safe in librdkafka; the
/// handle is destroyed once, in `deinit`.
private final class AdminHandle: @unchecked Sendable {
    let rk: OpaquePointer

    init(_ rk: OpaquePointer) { self.rk = rk }

    deinit { rd_kafka_destroy(rk) }

    func createTopics(_ topics: [TopicSpecification], timeoutMilliseconds: Int32) throws(KafkaError) {
        var errstr = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for t in newTopics { rd_kafka_NewTopic_destroy(t) } }
        for topic in topics {
            guard
                let t = rd_kafka_NewTopic_new(
                    topic.name, Int32(topic.partitions), Int32(topic.replicationFactor),
                    &errstr, errstr.count)
            else {
                throw KafkaError(.admin, "topic \(topic.name): \(RDKafka.string(errstr))")
            }
            newTopics.append(t)
        }
        let options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        rd_kafka_AdminOptions_set_request_timeout(options, timeoutMilliseconds, &errstr, errstr.count)
        rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMilliseconds, &errstr, errstr.count)
        let queue = rd_kafka_queue_new(rk)
        defer { rd_kafka_queue_destroy(queue) }
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(rk, buffer.baseAddress, buffer.count, options, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, timeoutMilliseconds + 1_000) else {
            throw KafkaError(.brokerUnavailable, "CreateTopics: no answer within \(timeoutMilliseconds) ms")
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        if eventError != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw RDKafka.error(eventError, context: "CreateTopics")
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            throw KafkaError(.admin, "CreateTopics: unexpected event type")
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        var failures: [String] = []
        for i in 0..<count {
            let r = results[i]
            let code = rd_kafka_topic_result_error(r)
            if code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                let name = String(cString: rd_kafka_topic_result_name(r))
                let message =
                    rd_kafka_topic_result_error_string(r).map { String(cString: $0) }
                    ?? String(cString: rd_kafka_err2str(code))
                failures.append("\(name): \(message)")
            }
        }
        if !failures.isEmpty { throw KafkaError(.admin, "CreateTopics: " + failures.joined(separator: "; ")) }
    }

    func metadata(allTopics: Bool, timeoutMilliseconds: Int32) throws(KafkaError) -> ClusterMetadata {
        try RDKafka.metadata(rk, allTopics: allTopics, timeoutMilliseconds: timeoutMilliseconds)
    }
}
