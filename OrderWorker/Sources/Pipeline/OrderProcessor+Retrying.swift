import DealData
import Domain
import Infrastructure
import Logging
import ServiceLifecycle

/// Sending events until acknowledged, and retrying a dependency's call with back-off.
extension OrderProcessor {
    // MARK: Sending and retrying

    struct OutgoingEvent: Sendable {
        var event: DomainEvent
        var key: String
        var traceparent: KafkaHeader?
    }

    /// Sends all events concurrently and retries those not acknowledged until every one is.
    func send(_ events: [OutgoingEvent]) async throws {
        var remaining = events
        var backoff = Backoff(settings.retryBackoff)
        while !remaining.isEmpty {
            let producer = self.producer
            let topic = settings.topics.events
            let failed = await withTaskGroup(of: (Int, (any Error)?).self) { group in
                for (index, outgoing) in remaining.enumerated() {
                    group.addTask {
                        do {
                            try await producer.append(
                                topic: topic, key: Array(outgoing.key.utf8),
                                value: Array(outgoing.event.jsonData()),
                                headers: outgoing.traceparent.map { [$0] } ?? [])
                            return (index, nil)
                        } catch { return (index, error) }
                    }
                }
                var failed: [(Int, any Error)] = []
                for await (index, error) in group { if let error { failed.append((index, error)) } }
                return failed
            }
            if failed.isEmpty { break }
            metrics.retry(dependency: "kafka")
            logger.warning(
                "publishing events failed; retrying",
                metadata: ["failed": "\(failed.count)", "error": "\(failed[0].1)"])
            remaining = failed.map { remaining[$0.0] }
            metrics.paused(true)
            try await backoff.wait()
        }
        metrics.paused(false)
    }

    /// Runs `body` until it succeeds, backing off between attempts; throws ``Interrupted`` on shutdown.
    @discardableResult
    func retrying<T: Sendable>(_ dependency: String, _ body: @Sendable () async throws -> T) async throws -> T {
        var backoff = Backoff(settings.retryBackoff)
        while true {
            do {
                let value = try await body()
                return value
            } catch {
                metrics.retry(dependency: dependency)
                logger.warning("\(dependency) call failed; retrying", metadata: ["error": "\(error)"])
            }
            metrics.paused(true)
            try await backoff.wait()
        }
    }
}

/// Exponential back-off between retries; waiting ends early (throwing) when the process shuts down.
struct Backoff {
    private var next: Duration
    private let limit: Duration

    init(_ range: ClosedRange<Duration>) {
        next = range.lowerBound
        limit = range.upperBound
    }

    mutating func wait() async throws {
        if Task.isShuttingDownGracefully || Task.isCancelled { throw OrderProcessor.Interrupted() }
        try? await Task.sleep(for: next)
        next = min(limit, next * 2)
        if Task.isShuttingDownGracefully || Task.isCancelled { throw OrderProcessor.Interrupted() }
    }
}
