import DealData
import Domain
import Foundation
public import Infrastructure
public import Logging
import Operations
import ServiceLifecycle
import Tracing

/// Turns polled order-request messages into outcomes: reserve (Redis) → persist (MongoDB) →
/// publish (Kafka) → mark published. ``process(_:)`` returns once every message's effects are
/// durable; only then does the caller store the batch's offsets. Every step is idempotent by order
/// id, so a batch interrupted anywhere (crash, SIGKILL, shutdown) is simply processed again.
public final class OrderProcessor: Sendable {
    /// The processing was abandoned because the process is shutting down; no offset may be stored.
    public struct Interrupted: Error, CustomStringConvertible {
        public var description: String { "processing interrupted by shutdown; the batch will be redelivered" }
    }

    let reservations: any StockReservations
    let orders: any OrderRepository
    let outbox: any OutcomeOutbox
    let catalog: any DealLookup
    let rebuild: any StockRebuild
    let producer: any EventLog
    let settings: WorkerSettings
    let metrics: WorkerMetrics
    let logger: Logger

    public init(
        reservations: any StockReservations, orders: any OrderRepository, outbox: any OutcomeOutbox,
        catalog: any DealLookup, rebuild: any StockRebuild, producer: any EventLog, settings: WorkerSettings,
        metrics: WorkerMetrics, logger: Logger
    ) {
        self.reservations = reservations
        self.orders = orders
        self.outbox = outbox
        self.catalog = catalog
        self.rebuild = rebuild
        self.producer = producer
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
    }

    /// What one message asks for.
    enum Work {
        case request(OrderRequested, KafkaMessage)
        case cancellation(OrderCancellationRequested, KafkaMessage)
        case poison(reason: String, KafkaMessage)
    }

    /// A batch whose orders are reserved and persisted, waiting for ``finish(_:)`` to publish their
    /// outcomes. Its offsets may be stored once `finish` returns.
    public struct PreparedBatch: Sendable {
        let decided: Decided
        let start: ContinuousClock.Instant
    }

    /// Orders reserved and persisted, with their outcomes still to publish.
    struct Decided: Sendable {
        var pending: [Pending] = []
        var outcomes: [Outcome] = []
    }

    /// Makes every message's effects durable, in order. Throws ``Interrupted`` only on shutdown.
    public func process(_ messages: [KafkaMessage]) async throws {
        try await finish(try await prepare(messages, beforeOrderedWork: {}))
    }

    /// The first stage: reserves and persists the batch's orders. Cancellations and dead letters
    /// are handled completely here, in message order, after `beforeOrderedWork` (which lets the
    /// caller finish the previous batch first: a cancellation may concern one of its orders).
    public func prepare(_ messages: [KafkaMessage], beforeOrderedWork: @Sendable () async throws -> Void)
        async throws -> PreparedBatch
    {
        let start = ContinuousClock.now
        var requests: [(OrderRequested, KafkaMessage)] = []
        var ordered = false
        for message in messages {
            switch Self.classify(message, topics: settings.topics) {
            case .request(let request, let message):
                metrics.message(kind: "request")
                requests.append((request, message))
            case .cancellation(let cancellation, let message):
                metrics.message(kind: "cancellation")
                if !ordered {
                    try await beforeOrderedWork()
                    ordered = true
                }
                // Requests before the cancellation come first: it may cancel one of them.
                try await publishDecided(try await decide(requests))
                requests = []
                // The stock path in the trace: process → flashdeal.release, the event carrying it on.
                let span = startProcessSpan(
                    message, orderId: cancellation.orderId, dealId: cancellation.dealId,
                    eventId: cancellation.eventId, at: DefaultTracerClock.now)
                let traceparent =
                    span.flatMap { FlashDealTracing.traceparent(of: $0.context) }
                    .map { KafkaHeader(name: "traceparent", value: $0) } ?? message.header("traceparent")
                do {
                    try await LogTrace.$traceparent.withValue(traceparent?.stringValue) {
                        try await cancel(cancellation, traceparent: traceparent, span: span)
                    }
                    span?.end()
                } catch {
                    span?.recordError(error)
                    span?.end()
                    throw error
                }
            case .poison(let reason, let message):
                metrics.message(kind: "poison")
                if !ordered {
                    try await beforeOrderedWork()
                    ordered = true
                }
                try await LogTrace.$traceparent.withValue(message.header("traceparent")?.stringValue) {
                    try await deadLetter(message, reason: reason)
                }
            }
        }
        return PreparedBatch(decided: try await decide(requests), start: start)
    }

    /// The second stage: publishes the outcomes and marks them published.
    public func finish(_ batch: PreparedBatch) async throws {
        try await publishDecided(batch.decided)
        metrics.batch(ContinuousClock.now - batch.start)
    }

    // MARK: Classification

    /// Reads a message; anything that is not a valid OrderRequested or OrderCancellationRequested
    /// keyed by its order id is poison (it goes to the dead-letter topic with this reason).
    static func classify(_ message: KafkaMessage, topics: OrderTopics) -> Work {
        let event: DomainEvent
        do { event = try DomainEvent.decode(Data(message.value)) } catch {
            return .poison(reason: error.description, message)
        }
        switch event {
        case .orderRequested(let request):
            let expected = OrderID.derive(
                userId: request.userId, dealId: request.dealId,
                idempotencyKey: request.idempotencyKey)
            guard expected == request.orderId else {
                return .poison(
                    reason:
                        "orderId \(request.orderId) is not the id derived from user, deal and idempotency key (\(expected))",
                    message)
            }
            guard message.keyString == request.orderId.rawValue else {
                return .poison(
                    reason:
                        "message key \(message.keyString.map { $0.debugDescription } ?? "(none)") is not the order id \(request.orderId)",
                    message)
            }
            return .request(request, message)
        case .orderCancellationRequested(let cancellation):
            guard message.keyString == cancellation.orderId.rawValue else {
                return .poison(
                    reason:
                        "message key \(message.keyString.map { $0.debugDescription } ?? "(none)") is not the order id \(cancellation.orderId)",
                    message)
            }
            return .cancellation(cancellation, message)
        default:
            return .poison(reason: "event type \(event.type.rawValue) does not belong on \(topics.requests)", message)
        }
    }

    // MARK: Requests

    /// One order on its way to an outcome.
    struct Pending: Sendable {
        var request: OrderRequested
        var traceparent: KafkaHeader?
        var reply: ReservationReply
        /// The deal is unknown to the catalog: rejected without a Redis record.
        var unknownDeal = false
        /// The message's `process` span when tracing is on; ended once the outcome is published.
        var span: (any Span)? = nil

        /// The trace context the outcome events carry on: the process span's, else the request's.
        var outgoingTraceparent: KafkaHeader? {
            if let span, let value = FlashDealTracing.traceparent(of: span.context) {
                return KafkaHeader(name: "traceparent", value: Array(value.utf8))
            }
            return traceparent
        }
    }

    /// Reserves and persists (or, past the MongoDB budget, compensates) a run of requests.
    func decide(_ batch: [(OrderRequested, KafkaMessage)]) async throws -> Decided {
        guard !batch.isEmpty else { return Decided() }
        let reserveStart = DefaultTracerClock.now
        let replies = try await reserveAll(batch.map(\.0))
        let reserveEnd = DefaultTracerClock.now
        var pending: [Pending] = []
        var inBatch = Set<OrderID>()
        for ((request, message), reply) in zip(batch, replies) {
            if case .decided(let outcome) = reply.result {
                metrics.reservation(result: outcome.rawValue, replay: reply.replay)
            }
            // Already persisted and published (a redelivery after a crash), or a copy of a request
            // earlier in this batch (a producer retry, a re-send): nothing left to do.
            if reply.published || !inBatch.insert(request.orderId).inserted { continue }
            pending.append(
                Pending(
                    request: request, traceparent: message.header("traceparent"), reply: reply,
                    unknownDeal: reply.result == .noState,
                    span: traceReservation(
                        request, message, reply, batch: batch.count,
                        from: reserveStart, to: reserveEnd)))
        }
        guard !pending.isEmpty else { return Decided() }
        let now = Date()
        // Orders compensated before (a redelivery): their FAILED decision keeps its first time.
        let compensated = pending.filter { $0.reply.replay && $0.reply.released == .failed }.map(\.request.orderId)
        let failedAt = compensated.isEmpty ? [:] : try await storedFailureTimes(compensated)
        var outcomes = pending.map { Self.outcome(of: $0, at: now, failedAt: failedAt[$0.request.orderId]) }
        let fresh = outcomes.filter { !$0.viaOutbox }.map(\.document)
        let persistStart = DefaultTracerClock.now
        let persisted = try await persist(fresh)
        tracePersistence(pending, outcomes, persisted: persisted, from: persistStart, to: DefaultTracerClock.now)
        if !persisted {
            outcomes = try await compensate(pending, at: Date())
        }
        return Decided(pending: pending, outcomes: outcomes)
    }

    func publishDecided(_ decided: Decided) async throws {
        guard !decided.pending.isEmpty else { return }
        let publishStart = DefaultTracerClock.now
        try await publish(decided.outcomes, pending: decided.pending)
        tracePublication(decided, from: publishStart, to: DefaultTracerClock.now)
        try await markPublished(decided.pending)
        for (p, outcome) in zip(decided.pending, decided.outcomes) {
            guard let span = p.span else { continue }
            if span.isRecording {
                span.attributes[FlashDealSpanAttribute.orderStatus] = outcome.document.status.rawValue
            }
            span.end()
        }
        let now = Date()
        for outcome in decided.outcomes {
            metrics.order(status: outcome.document.status.rawValue)
            metrics.outcomeLatency(.milliseconds(Int64(now.timeIntervalSince(outcome.document.createdAt) * 1_000)))
        }
    }

    /// Reserves every request, retrying the whole batch (idempotent) while Redis fails, and waiting
    /// while Redis has lost the state of a deal the catalog knows (`flashdeal reconcile --fix`
    /// restores it). A deal the catalog does not know either comes back as `.noState`.
    func reserveAll(_ requests: [OrderRequested]) async throws -> [ReservationReply] {
        let calls = requests.map {
            ReservationRequest(orderId: $0.orderId, dealId: $0.dealId, userId: $0.userId, quantity: $0.quantity)
        }
        var backoff = Backoff(settings.retryBackoff)
        while true {
            do {
                let replies = try await reservations.reserve(calls, grace: settings.closeGrace)
                if replies.contains(where: { $0.result == .unverified }) {
                    // Redis started since the stock was last rebuilt: it may lack its last writes.
                    metrics.paused(true)
                    try await rebuild.rebuildAfterRestart()
                    continue
                }
                let missing = Set(zip(requests, replies).filter { $0.1.result == .noState }.map(\.0.dealId))
                var lost: [DealID] = []
                for deal in missing where try await catalog.deal(deal) != nil { lost.append(deal) }
                if lost.isEmpty {
                    metrics.paused(false)
                    let holding = Set(zip(requests, replies).filter { $0.1.paymentDueMs > 0 }.map(\.0.dealId))
                    try await reservations.addExpiringDeals(Array(holding), key: settings.expiringDealsKey)
                    #if DEBUG
                        if settings.skipStockCheck {
                            return replies.map {
                                var reply = $0
                                if reply.result == .decided(.soldOut) { reply.result = .decided(.reserved) }
                                return reply
                            }
                        }
                    #endif
                    return replies
                }
                logger.error(
                    "Redis holds no state for deals the catalog knows; waiting (run flashdeal reconcile --deal ID --fix)",
                    metadata: ["deals": "\(lost.map(\.rawValue))"])
            } catch {
                metrics.retry(dependency: "redis")
                logger.warning("reserving failed; retrying", metadata: ["error": "\(error)"])
            }
            metrics.paused(true)
            try await backoff.wait()
        }
    }

    /// The decided document and events of one pending order.
    struct Outcome: Sendable {
        var document: OrderDocument
        var events: [DomainEvent]
        /// Decided earlier by compensation: written through the outbox, never inserted as new.
        var viaOutbox: Bool
    }

    /// The outcome of one order. Its time is the decision's own — the reservation's Redis time, the
    /// same on every replay; for an order Redis had no state for, its request time; for a FAILED one,
    /// when it was compensated (`failedAt` on a replay, else `now`) — so a redelivered order is
    /// persisted and published exactly as the first time.
    static func outcome(of p: Pending, at now: Date, failedAt: Date? = nil) -> Outcome {
        let r = p.request
        // Rehydrating from the request's own fields cannot fail: the id was checked on arrival.
        var order = try! Order(
            id: r.orderId, dealId: r.dealId, userId: r.userId, quantity: r.quantity,
            idempotencyKey: r.idempotencyKey, requestedAt: r.requestedAt, state: .pending,
            updatedAt: r.requestedAt, version: 1)
        let decidedAt = p.reply.decidedAtMs > 0 ? Timestamp.date(epochMilliseconds: p.reply.decidedAtMs) : now
        var viaOutbox = false
        switch p.reply.result {
        case .noState, .unverified:
            _ = try! order.reject(.dealClosed, at: r.requestedAt)
        case .decided(let outcome):
            if outcome == .reserved, p.reply.released == .failed {
                _ = try! order.fail(reason: Self.compensationReason, stockWasReserved: true, at: failedAt ?? now)
                viaOutbox = true
            } else {
                _ = try! order.apply(outcome, at: decidedAt)
            }
        }
        let document = OrderDocument(order)
        return Outcome(
            document: document, events: document.outcomeEvents(stockWasReserved: p.reply.result == .decided(.reserved)),
            viaOutbox: viaOutbox)
    }

    /// Produces every outcome event (and DealSoldOut where this batch took the last unit), all at
    /// once, and waits for every acknowledgement, retrying the ones that failed.
    func publish(_ outcomes: [Outcome], pending: [Pending]) async throws {
        var messages: [OutgoingEvent] = []
        for (outcome, p) in zip(outcomes, pending) {
            let traceparent = p.outgoingTraceparent
            // A redelivered FAILED order whose document is still waiting in the outbox: make sure it is there.
            if outcome.viaOutbox, p.reply.released == .failed, p.reply.replay {
                let document = outcome.document
                try await retrying("redis") { try await self.outbox.add([document]) }
            }
            for event in outcome.events {
                messages.append(OutgoingEvent(event: event, key: p.request.orderId.rawValue, traceparent: traceparent))
            }
            if p.reply.announcedSoldOut {
                let soldOut = DealSoldOut(
                    eventId: .derive(
                        type: .dealSoldOut, subject: p.request.dealId.rawValue,
                        discriminator: p.request.orderId.rawValue),
                    occurredAt: outcome.document.decidedAt, dealId: p.request.dealId)
                messages.append(
                    OutgoingEvent(
                        event: .dealSoldOut(soldOut), key: p.request.dealId.rawValue,
                        traceparent: traceparent))
                metrics.soldOutAnnounced()
            }
        }
        try await send(messages)
    }

    func markPublished(_ pending: [Pending]) async throws {
        var byDeal: [DealID: [OrderID]] = [:]
        for p in pending where !p.unknownDeal { byDeal[p.request.dealId, default: []].append(p.request.orderId) }
        for (deal, ids) in byDeal {
            try await retrying("redis") { try await self.reservations.markPublished(ids, deal: deal) }
        }
    }
}
