public import DealData
import Domain
import Foundation
public import Infrastructure
public import Logging
public import ServiceLifecycle
import Synchronization

/// Sends again what the broker may have lost, so that "accepted" means "decided" end to end even if
/// an acknowledged write disappears (docs/worker.md, "Re-sending"):
/// - an order the gateway accepted (its pass bound, its request stored beside the binding) that no
///   worker has decided within ``WorkerSettings/resendAfter`` gets its OrderRequested sent again, the
///   same bytes the gateway published — the worker's reservation is idempotent by order id, so a
///   re-sent request never makes a second order;
/// - an order decided and published whose outcome event the ``EventWatcher`` has not read back from
///   the log within the bound gets its outcome events published again, rebuilt from the stored
///   decision (MongoDB, or the outbox while MongoDB is away) — identical byte for byte, so a copy is
///   the same event.
///
/// It looks at the deals of ``AcceptingDeals`` every ``WorkerSettings/resendInterval``. Each order is
/// claimed atomically in Redis before it is sent, so several workers never send one order twice in one
/// bound; a send that fails is claimed again after the bound.
///
/// Only a worker whose consumer has held its partitions for a whole bound sends requests again (and
/// only one whose event watcher has, events): right after a worker starts or the group rebalances,
/// orders are undecided because nobody was consuming — the backlog decides them within moments — and
/// sending them again would only make copies. Every member's partitions are revoked on a rebalance,
/// so after a worker dies the others wait a bound too.
public final class Resender: Service, Sendable {
    let deals: AcceptingDeals
    let reservations: ReservationStore
    let orders: OrderStore
    let outbox: Outbox
    let producer: KafkaProducer
    let settings: WorkerSettings
    let metrics: WorkerMetrics
    let logger: Logger
    let requestsConsumedSince: @Sendable () -> ContinuousClock.Instant?
    let eventsReadSince: @Sendable () -> ContinuousClock.Instant?

    /// - Parameters:
    ///   - requestsConsumedSince: since when this worker's order-requests consumer has held its partitions.
    ///   - eventsReadSince: since when its event watcher has held its partitions.
    public init(
        deals: AcceptingDeals, reservations: ReservationStore, orders: OrderStore, outbox: Outbox,
        producer: KafkaProducer, settings: WorkerSettings, metrics: WorkerMetrics, logger: Logger,
        requestsConsumedSince: @escaping @Sendable () -> ContinuousClock.Instant?,
        eventsReadSince: @escaping @Sendable () -> ContinuousClock.Instant?
    ) {
        self.requestsConsumedSince = requestsConsumedSince
        self.eventsReadSince = eventsReadSince
        self.deals = deals
        self.reservations = reservations
        self.orders = orders
        self.outbox = outbox
        self.producer = producer
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do { try await sweepOnce() } catch {
                logger.warning("re-sender pass failed; trying again", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: settings.resendInterval)
        }
    }

    /// What one pass sent again.
    public struct Pass: Sendable, Equatable {
        public var requests = 0
        public var events = 0
        /// Still waiting over every deal after the pass (claimed ones included).
        public var undecided = 0
        public var unseen = 0
    }

    /// One look at every deal: claims and sends what is overdue, drops deals that are over.
    @discardableResult
    public func sweepOnce() async throws -> Pass {
        var pass = Pass()
        let nowMs = Timestamp.epochMilliseconds(Date())
        let now = ContinuousClock.now
        func steady(_ since: ContinuousClock.Instant?) -> Bool {
            since.map { now - $0 >= settings.resendAfter } ?? false
        }
        // Limit 0: nothing is claimed, the counts are still read.
        let requestLimit = steady(requestsConsumedSince()) ? settings.resendLimit : 0
        let eventLimit = steady(eventsReadSince()) ? settings.resendLimit : 0
        for deal in try await deals.members() {
            let requests = try await reservations.due(
                .requests, deal: deal, bound: settings.resendAfter,
                limit: requestLimit)
            pass.requests += await resendRequests(requests.orders, deal: deal)
            let events = try await reservations.due(
                .events, deal: deal, bound: settings.resendAfter,
                limit: eventLimit)
            pass.events += try await republish(events.orders, deal: deal)
            pass.undecided += requests.waiting
            pass.unseen += events.waiting
            let over = requests.endsAtMs == 0 || nowMs > requests.endsAtMs + settings.closeGrace.milliseconds
            if over && requests.waiting == 0 && events.waiting == 0 { try await deals.remove(deal) }
        }
        metrics.resendBacklog(undecided: pass.undecided, unseen: pass.unseen)
        return pass
    }

    /// Sends the stored requests again; returns how many the broker acknowledged.
    func resendRequests(_ due: [(OrderID, String)], deal: DealID) async -> Int {
        guard !due.isEmpty else { return 0 }
        let lost = due.filter { $0.1.isEmpty }.map(\.0)
        if !lost.isEmpty {
            metrics.unrecoverable(kind: "request", count: lost.count)
            logger.error(
                "accepted orders are undecided and their requests are not stored; they cannot be sent again",
                metadata: ["deal": "\(deal)", "orders": "\(lost.map(\.rawValue))"])
        }
        let sendable = due.filter { !$0.1.isEmpty }
        let headers = [
            KafkaHeader(name: "flashdeal-event-type", value: Array(DomainEventType.orderRequested.rawValue.utf8)),
            KafkaHeader(name: "content-type", value: Array("application/json".utf8)),
        ]
        let sent = await send(
            sendable.map { (key: $0.0.rawValue, value: Array($0.1.utf8)) }, topic: settings.topics.requests,
            headers: headers)
        metrics.resent(kind: "request", count: sent)
        logger.warning(
            "accepted orders were still undecided past the bound; their requests were sent again",
            metadata: [
                "deal": "\(deal)", "sent": "\(sent)", "of": "\(sendable.count)",
                "orders": "\(sendable.prefix(20).map(\.0.rawValue))",
            ])
        return sent
    }

    /// Publishes the outcome events of decided orders again, from their stored decisions.
    func republish(_ due: [(OrderID, String)], deal: DealID) async throws -> Int {
        guard !due.isEmpty else { return 0 }
        let ids = due.map(\.0)
        var stored: [OrderID: OrderDocument] = [:]
        for d in try await outbox.documents(ids) { stored[d.orderId] = d }
        let missing = ids.filter { stored[$0] == nil }
        if !missing.isEmpty { stored.merge(try await orders.find(missing)) { parked, _ in parked } }
        var messages: [(key: String, value: [UInt8])] = []
        var lost: [OrderID] = []
        for (order, packed) in due {
            guard let document = stored[order], document.status != .pending,
                let record = ReservationRecord(packed: packed)
            else {
                lost.append(order)
                continue
            }
            for event in document.outcomeEvents(stockWasReserved: record.outcome == .reserved) {
                messages.append((key: order.rawValue, value: Array(event.jsonData())))
            }
        }
        if !lost.isEmpty {
            metrics.unrecoverable(kind: "event", count: lost.count)
            logger.error(
                "published outcomes not seen in the log have no stored decision; not re-published",
                metadata: ["deal": "\(deal)", "orders": "\(lost.map(\.rawValue))"])
        }
        guard !messages.isEmpty else { return 0 }
        let sent = await send(messages, topic: settings.topics.events, headers: [])
        metrics.resent(kind: "event", count: sent)
        logger.warning(
            "outcome events were not seen in the log past the bound; published again",
            metadata: [
                "deal": "\(deal)", "sent": "\(sent)", "of": "\(messages.count)",
                "orders": "\(due.prefix(20).map(\.0.rawValue))",
            ])
        return sent
    }

    /// Sends every message at once; returns how many were acknowledged. Failures are logged and left
    /// to the next claim (after the bound).
    func send(_ messages: [(key: String, value: [UInt8])], topic: String, headers: [KafkaHeader]) async -> Int {
        let producer = self.producer
        let failures = await withTaskGroup(of: String?.self) { group in
            for message in messages {
                group.addTask {
                    do {
                        try await producer.send(
                            topic: topic, key: Array(message.key.utf8), value: message.value,
                            headers: headers)
                        return nil
                    } catch { return "\(error)" }
                }
            }
            var failures: [String] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
        if let first = failures.first {
            logger.warning(
                "sending again failed; the orders are claimed again after the bound",
                metadata: ["failed": "\(failures.count)", "error": "\(first)"])
        }
        return messages.count - failures.count
    }
}

/// Reads the outcome events back from `flashdeal.order-events` (a consumer group of its own) and
/// takes each order whose outcome event it read out of the unseen set, so the ``Resender`` only
/// re-publishes outcomes the log does not hold. Offsets are stored once Redis has the marks.
public final class EventWatcher: Service, Sendable {
    private let makeConsumer: @Sendable () throws -> KafkaConsumer
    private let reservations: ReservationStore
    private let ready: @Sendable () -> Bool
    private let retryBackoff: ClosedRange<Duration>
    private let logger: Logger
    private let current = Mutex<KafkaConsumer?>(nil)

    /// Since when the watcher's consumer has held its partitions without a rebalance (nil while none).
    public var assignedSince: ContinuousClock.Instant? { current.withLock { $0?.assignedSince } }

    /// - Parameter ready: polled before the consumer is made (the topics exist).
    public init(
        makeConsumer: @escaping @Sendable () throws -> KafkaConsumer, reservations: ReservationStore,
        ready: @escaping @Sendable () -> Bool, retryBackoff: ClosedRange<Duration>, logger: Logger
    ) {
        self.makeConsumer = makeConsumer
        self.reservations = reservations
        self.ready = ready
        self.retryBackoff = retryBackoff
        self.logger = logger
    }

    /// The order ids, by deal, of the outcome events (OrderConfirmed, OrderRejected, OrderFailed)
    /// among `messages`; anything else is skipped.
    static func outcomes(in messages: [KafkaMessage]) -> [DealID: [OrderID]] {
        var byDeal: [DealID: [OrderID]] = [:]
        let decoder = JSONDecoder()
        for message in messages {
            guard let probe = try? decoder.decode(OutcomeProbe.self, from: Data(message.value)),
                ["OrderConfirmed", "OrderRejected", "OrderFailed"].contains(probe.type),
                let order = probe.orderId.flatMap({ try? OrderID($0) }),
                let deal = probe.dealId.flatMap({ try? DealID($0) })
            else { continue }
            byDeal[deal, default: []].append(order)
        }
        return byDeal
    }

    private struct OutcomeProbe: Decodable {
        let type: String
        let orderId: String?
        let dealId: String?
    }

    public func run() async throws {
        while !ready() {
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            try? await Task.sleep(for: .milliseconds(200))
        }
        let consumer = try makeConsumer()
        current.withLock { $0 = consumer }
        defer { current.withLock { $0 = nil } }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let messages: [KafkaMessage]
            do { messages = try await consumer.poll(maxMessages: 5_000, timeout: .milliseconds(200)) } catch {
                logger.warning("event watcher poll failed", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            guard !messages.isEmpty else { continue }
            var backoff = Backoff(retryBackoff)
            var marked = false
            while !marked {
                do {
                    for (deal, orders) in Self.outcomes(in: messages) {
                        try await reservations.seen(orders, deal: deal)
                    }
                    marked = true
                } catch {
                    logger.warning("marking outcomes seen failed; retrying", metadata: ["error": "\(error)"])
                    do { try await backoff.wait() } catch { break }
                }
            }
            guard marked else { break }
            do { try consumer.storeOffsets(messages) } catch {
                logger.warning("storing the event watcher's offsets failed", metadata: ["error": "\(error)"])
            }
        }
        do { try await consumer.commit() } catch {
            logger.debug("event watcher's final commit failed", metadata: ["error": "\(error)"])
        }
        await consumer.close()
    }
}
