import DealData
import Domain
import Logging
import ServiceLifecycle

/// Drains the ``Outbox`` into MongoDB every `interval` while the process runs.
final class OutboxWriter: Service, Sendable {
    private let outbox: Outbox
    private let orders: OrderStore
    private let metrics: WorkerMetrics
    private let interval: Duration
    private let logger: Logger

    init(outbox: Outbox, orders: OrderStore, metrics: WorkerMetrics, interval: Duration, logger: Logger) {
        self.outbox = outbox
        self.orders = orders
        self.metrics = metrics
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await drainOnce()
            try? await Task.sleep(for: interval)
        }
    }

    /// Writes what is pending; returns how many documents reached MongoDB.
    @discardableResult
    func drainOnce() async -> Int {
        do {
            let (documents, unreadable) = try await outbox.pending()
            if !unreadable.isEmpty {
                logger.error(
                    "outbox entries that do not parse were left in place", metadata: ["orders": "\(unreadable)"])
            }
            var written: [String] = []
            for document in documents {
                try await orders.put(document)
                written.append(document.orderId.rawValue)
            }
            try await outbox.remove(written)
            metrics.outboxPending(try await outbox.count())
            if !written.isEmpty { logger.info("outbox written to MongoDB", metadata: ["orders": "\(written.count)"]) }
            return written.count
        } catch {
            logger.debug("outbox not drained yet", metadata: ["error": "\(error)"])
            return 0
        }
    }
}
