public import Infrastructure
public import Logging
public import ServiceLifecycle
import Synchronization

/// The consumer loop: poll a batch from `flashdeal.order-requests`, make its effects durable
/// (``OrderProcessor``), then store its offsets. On shutdown it finishes the batch in hand (or
/// abandons it, unstored, when a dependency is down), commits and leaves the group.
public final class OrderConsumer: Service, Sendable {
    struct NotConsuming: Error, CustomStringConvertible {
        var description: String { "the consumer loop has not started (preparing Redis functions, indexes, topics)" }
    }

    private let makeConsumer: @Sendable () throws -> KafkaConsumer
    private let processor: OrderProcessor
    private let batchSize: Int
    private let topic: String
    private let prepare: @Sendable () async throws -> Void
    private let logger: Logger
    private let started = Atomic<Bool>(false)
    private let batches = Atomic<Int>(0)
    private let current = Mutex<KafkaConsumer?>(nil)

    /// - Parameter prepare: runs (retried until it succeeds) before the first poll: loading Redis
    ///   functions, creating indexes, waiting for the topics.
    public init(
        makeConsumer: @escaping @Sendable () throws -> KafkaConsumer, processor: OrderProcessor,
        batchSize: Int, topic: String, prepare: @escaping @Sendable () async throws -> Void, logger: Logger
    ) {
        self.makeConsumer = makeConsumer
        self.processor = processor
        self.batchSize = batchSize
        self.topic = topic
        self.prepare = prepare
        self.logger = logger
    }

    /// The loop is running (its dependencies were prepared and it polls).
    public var isConsuming: Bool { started.load(ordering: .acquiring) }

    /// Since when the loop's consumer has held its partitions without a rebalance (nil while it holds none).
    public var assignedSince: ContinuousClock.Instant? { current.withLock { $0?.assignedSince } }

    /// Batches whose effects were made durable and offsets stored.
    public var completedBatches: Int { batches.load(ordering: .relaxed) }

    private func store(_ messages: [KafkaMessage], in consumer: KafkaConsumer) {
        do { try consumer.storeOffsets(messages) } catch {
            logger.error("storing offsets failed; the batch will be redelivered", metadata: ["error": "\(error)"])
        }
        batches.add(1, ordering: .relaxed)
    }

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
        current.withLock { $0 = consumer }
        defer { current.withLock { $0 = nil } }
        started.store(true, ordering: .releasing)
        logger.info("consuming", metadata: ["topic": "\(topic)"])
        // Two stages overlap: while one batch's outcomes are being published, the next batch is
        // reserved and persisted. Offsets are stored strictly after a batch's second stage.
        var previous: (finishing: Task<Void, any Error>, messages: [KafkaMessage])?
        func settle() async -> Bool {
            guard let p = previous else { return true }
            previous = nil
            do { try await p.finishing.value } catch {
                logger.notice("batch abandoned; it will be redelivered", metadata: ["error": "\(error)"])
                return false
            }
            store(p.messages, in: consumer)
            return true
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let messages: [KafkaMessage]
            do { messages = try await consumer.poll(maxMessages: batchSize, timeout: .milliseconds(100)) } catch {
                logger.warning("poll failed", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            guard !messages.isEmpty else {
                if await !settle() { break }
                continue
            }
            let before = previous?.finishing
            let prepared: OrderProcessor.PreparedBatch
            do {
                prepared = try await processor.prepare(messages, beforeOrderedWork: { try await before?.value })
            } catch {
                logger.notice("batch abandoned; it will be redelivered", metadata: ["error": "\(error)"])
                _ = await settle()
                break
            }
            if await !settle() { break }
            let processor = self.processor
            previous = (Task { try await processor.finish(prepared) }, messages)
        }
        _ = await settle()
        do { try await consumer.commit() } catch {
            logger.debug("final commit failed", metadata: ["error": "\(error)"])
        }
        await consumer.close()
        logger.info("left the consumer group")
    }
}
