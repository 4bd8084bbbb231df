public import Infrastructure
public import Logging
public import ServiceLifecycle
import Synchronization

/// The consumer loop: poll a batch from `flashdeal.order-requests`, make its effects durable
/// (``OrderProcessor``), then store its offsets. On shutdown it finishes the batch in hand (or
/// abandons it, unstored, when a dependency is down), commits and leaves the group.
public final class OrderConsumer: Service, Sendable {
    private let makeConsumer: @Sendable () throws -> KafkaConsumer
    private let processor: OrderProcessor
    private let batchSize: Int
    private let topic: String
    private let prepare: @Sendable () async throws -> Void
    private let logger: Logger
    private let started = Atomic<Bool>(false)
    private let batches = Atomic<Int>(0)

    /// - Parameter prepare: runs (retried until it succeeds) before the first poll: loading Redis
    ///   functions, creating indexes, waiting for the topics.
    public init(makeConsumer: @escaping @Sendable () throws -> KafkaConsumer, processor: OrderProcessor,
                batchSize: Int, topic: String, prepare: @escaping @Sendable () async throws -> Void, logger: Logger) {
        self.makeConsumer = makeConsumer
        self.processor = processor
        self.batchSize = batchSize
        self.topic = topic
        self.prepare = prepare
        self.logger = logger
    }

    /// The loop is running (its dependencies were prepared and it polls).
    public var isConsuming: Bool { started.load(ordering: .acquiring) }

    /// Batches whose effects were made durable and offsets stored.
    public var completedBatches: Int { batches.load(ordering: .relaxed) }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await prepare()
                break
            } catch {
                logger.warning("preparing the worker failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        guard !Task.isShuttingDownGracefully && !Task.isCancelled else { return }
        let consumer = try makeConsumer()
        started.store(true, ordering: .releasing)
        logger.info("consuming", metadata: ["topic": "\(topic)"])
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let messages: [KafkaMessage]
            do { messages = try await consumer.poll(maxMessages: batchSize, timeout: .milliseconds(100)) } catch {
                logger.warning("poll failed", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            guard !messages.isEmpty else { continue }
            do {
                try await processor.process(messages)
            } catch {
                logger.notice("batch abandoned; it will be redelivered", metadata: ["error": "\(error)"])
                break
            }
            do { try consumer.storeOffsets(messages) } catch {
                logger.error("storing offsets failed; the batch will be redelivered", metadata: ["error": "\(error)"])
            }
            batches.add(1, ordering: .relaxed)
        }
        do { try await consumer.commit() } catch {
            logger.debug("final commit failed", metadata: ["error": "\(error)"])
        }
        await consumer.close()
        logger.info("left the consumer group")
    }
}
