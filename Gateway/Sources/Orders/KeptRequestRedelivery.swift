public import Domain
public import Logging
public import ServiceLifecycle
import Synchronization

/// Sends again, from the gateway's memory, the order requests it kept but the broker did not
/// acknowledge. createOrder binds the pass and stores the request beside the binding in Redis before
/// it publishes; when the acknowledgement does not come, the shopper hears UNAVAILABLE with outcome
/// UNKNOWN and the promise that the order is recorded and will be delivered. The stored copy alone
/// cannot keep that promise: a Redis crash that loses its last second of writes (`appendfsync
/// everysec`) loses the binding and the request, and with them the worker's re-sender's copy
/// (docs/reliability.md, "Chaos runs"). So the gateway keeps the exact bytes too and sends them until
/// the broker acknowledges them. A request that reaches the log twice is harmless: the worker decides
/// an order id once.
///
/// Bounded: at most `maxPending` requests (past that the oldest is left to the copy in Redis,
/// counted `dropped`), each for at most `giveUpAfter` (then `abandoned`, logged with its order id).
/// On a graceful shutdown every pending request gets one last attempt before the producer closes.
public final class KeptRequestRedelivery: KeptOrderRequests, Service, Sendable {
    /// How the redelivery of one request ended.
    public enum Result: String, Sendable, CaseIterable {
        case delivered, abandoned, dropped
    }

    struct Entry: Sendable {
        var event: DomainEvent
        var bytes: [UInt8]
        var traceparent: String?
        var keptAt: ContinuousClock.Instant
        var nextAttempt: ContinuousClock.Instant
        var attempts = 0
        var sending = false
    }

    private let sink: any OrderRequestSink
    private let maxPending: Int
    private let giveUpAfter: Duration
    private let retryAfter: Duration
    private let concurrency: Int
    private let logger: Logger
    private let onResult: @Sendable (Result, Int) -> Void
    private let now: @Sendable () -> ContinuousClock.Instant
    private let entries = Mutex<[OrderID: Entry]>([:])

    /// - Parameters:
    ///   - sink: where requests are sent (the same publisher createOrder uses).
    ///   - retryAfter: the pause after a failed attempt, doubled per attempt up to eight times it.
    ///   - concurrency: sends in flight at once.
    ///   - onResult: told how many requests ended, and how.
    ///   - now: the clock (tests move it by hand).
    public init(
        sink: any OrderRequestSink, maxPending: Int, giveUpAfter: Duration, retryAfter: Duration = .seconds(1),
        concurrency: Int = 64, logger: Logger, onResult: @escaping @Sendable (Result, Int) -> Void = { _, _ in },
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.now = now
        self.sink = sink
        self.maxPending = max(1, maxPending)
        self.giveUpAfter = giveUpAfter
        self.retryAfter = retryAfter
        self.concurrency = max(1, concurrency)
        self.logger = logger
        self.onResult = onResult
    }

    /// Requests waiting for an acknowledgement.
    public var pending: Int { entries.withLock { $0.count } }

    public func keep(_ event: DomainEvent, encoded: [UInt8], traceparent: String?) {
        guard let order = event.orderId else { return }
        let now = self.now()
        let evicted: OrderID? = entries.withLock { entries in
            // A shopper's retry of a request already kept changes nothing: the bytes are the same.
            guard entries[order] == nil else { return nil }
            var evicted: OrderID?
            if entries.count >= maxPending, let oldest = entries.min(by: { $0.value.keptAt < $1.value.keptAt })?.key {
                entries[oldest] = nil
                evicted = oldest
            }
            entries[order] = Entry(
                event: event, bytes: encoded, traceparent: traceparent, keptAt: now,
                nextAttempt: now + retryAfter)
            return evicted
        }
        if let evicted {
            onResult(.dropped, 1)
            logger.error(
                "too many kept order requests: the oldest is left to its copy in Redis and the worker's re-sender",
                metadata: ["order": "\(evicted)", "maxPending": "\(maxPending)"])
        }
    }

    public func acknowledged(_ order: OrderID) {
        if entries.withLock({ $0.removeValue(forKey: order) }) != nil { onResult(.delivered, 1) }
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await attempt(dueBy: now())
            try? await Task.sleep(for: min(retryAfter, .milliseconds(250)))
        }
        // One last attempt for everything still pending; what fails stays with the copy in Redis.
        await attempt(dueBy: now() + giveUpAfter)
        let left = entries.withLock { entries -> [OrderID] in
            defer { entries.removeAll() }
            return Array(entries.keys)
        }
        if !left.isEmpty {
            onResult(.abandoned, left.count)
            logger.error(
                "stopping with kept order requests the broker has not acknowledged; they are left to their copies in Redis",
                metadata: ["orders": "\(left.prefix(50).map(\.rawValue))", "count": "\(left.count)"])
        }
    }

    /// Sends every request due by `deadline` once (at most `concurrency` at a time); returns when all
    /// of those sends have ended.
    public func attempt(dueBy deadline: ContinuousClock.Instant) async {
        let now = self.now()
        var expired: [OrderID] = []
        let due: [(OrderID, Entry)] = entries.withLock { entries in
            var due: [(OrderID, Entry)] = []
            for (order, entry) in entries where !entry.sending {
                if now - entry.keptAt >= giveUpAfter {
                    expired.append(order)
                } else if entry.nextAttempt <= deadline {
                    entries[order]?.sending = true
                    due.append((order, entry))
                }
            }
            for order in expired { entries[order] = nil }
            return due.sorted { $0.1.keptAt < $1.1.keptAt }
        }
        if !expired.isEmpty {
            onResult(.abandoned, expired.count)
            logger.error(
                "kept order requests were not acknowledged in time; they are left to their copies in Redis",
                metadata: ["orders": "\(expired.prefix(50).map(\.rawValue))", "count": "\(expired.count)"])
        }
        guard !due.isEmpty else { return }
        await withTaskGroup(of: (OrderID, Bool).self) { group in
            var next = due.makeIterator()
            func start() -> Bool {
                guard let (order, entry) = next.next() else { return false }
                group.addTask {
                    do {
                        try await self.sink.publish(entry.event, encoded: entry.bytes, traceparent: entry.traceparent)
                        return (order, true)
                    } catch { return (order, false) }
                }
                return true
            }
            for _ in 0..<concurrency where !start() { break }
            var delivered = 0
            while let (order, ok) = await group.next() {
                if ok { delivered += 1 }
                settle(order, delivered: ok)
                _ = start()
            }
            if delivered > 0 {
                onResult(.delivered, delivered)
                logger.warning(
                    "kept order requests delivered by the gateway after the broker's acknowledgement failed",
                    metadata: ["count": "\(delivered)"])
            }
        }
    }

    private func settle(_ order: OrderID, delivered: Bool) {
        entries.withLock { entries in
            guard var entry = entries[order] else { return }
            if delivered {
                entries[order] = nil
                return
            }
            entry.sending = false
            entry.attempts += 1
            entry.nextAttempt = now() + retryAfter * (1 << min(entry.attempts, 3))
            entries[order] = entry
        }
    }
}
