/// A failed Kafka operation.
public struct KafkaError: RetryableError, CustomStringConvertible {
    /// What went wrong; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Backing: String, Hashable, Sendable {
            case configuration, unsupportedLibrary, queueFull, messageTimedOut, deliveryFailed, brokerUnavailable,
                admin, consume, commit, closed, notAssigned, fatal
        }
        private let backing: Backing
        private init(_ backing: Backing) { self.backing = backing }

        /// A configuration property was rejected by librdkafka.
        public static let configuration = Code(.configuration)
        /// The linked librdkafka is too old for the broker (run `scripts/setup`).
        public static let unsupportedLibrary = Code(.unsupportedLibrary)
        /// The producer's local queue is full: back off and retry.
        public static let queueFull = Code(.queueFull)
        /// The broker did not acknowledge within the delivery timeout. The outcome is unknown: the
        /// message may or may not have been written.
        public static let messageTimedOut = Code(.messageTimedOut)
        /// The broker rejected the message.
        public static let deliveryFailed = Code(.deliveryFailed)
        /// No broker answered in time.
        public static let brokerUnavailable = Code(.brokerUnavailable)
        /// An admin request (create topics, metadata) failed.
        public static let admin = Code(.admin)
        /// Consuming failed.
        public static let consume = Code(.consume)
        /// Committing offsets failed.
        public static let commit = Code(.commit)
        /// The client was closed.
        public static let closed = Code(.closed)
        /// The consumer has no assignment yet (or lost it).
        public static let notAssigned = Code(.notAssigned)
        /// The client raised a fatal error (e.g. the idempotent producer lost its guarantees) and must be re-created.
        public static let fatal = Code(.fatal)

        public var description: String { backing.rawValue }
    }

    public let code: Code
    public let message: String
    /// librdkafka's numeric error code (`rd_kafka_resp_err_t`), when there was one.
    public let rdKafkaCode: Int32?
    private let retryable: Bool

    init(_ code: Code, _ message: String, rdKafkaCode: Int32? = nil, retryable: Bool? = nil) {
        self.code = code
        self.message = message
        self.rdKafkaCode = rdKafkaCode
        self.retryable = retryable ?? [.queueFull, .messageTimedOut, .brokerUnavailable, .notAssigned].contains(code)
    }

    public var isRetryable: Bool { retryable }

    public var description: String { "kafka \(code): \(message)" }
}
