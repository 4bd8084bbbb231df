public import Admission
import Domain
import Foundation
import Operations
public import Infrastructure
public import Logging
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

    let reservations: ReservationStore
    let orders: OrderStore
    let outbox: Outbox
    let catalog: DealCatalog
    let producer: KafkaProducer
    let settings: WorkerSettings
    let metrics: WorkerMetrics
    let logger: Logger

    public init(reservations: ReservationStore, orders: OrderStore, outbox: Outbox, catalog: DealCatalog,
                producer: KafkaProducer, settings: WorkerSettings, metrics: WorkerMetrics, logger: Logger) {
        self.reservations = reservations
        self.orders = orders
        self.outbox = outbox
        self.catalog = catalog
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
                if !ordered { try await beforeOrderedWork(); ordered = true }
                // Requests before the cancellation come first: it may cancel one of them.
                try await publishDecided(try await decide(requests))
                requests = []
                // The stock path in the trace: process → flashdeal.release, the event carrying it on.
                let span = startProcessSpan(message, orderId: cancellation.orderId, dealId: cancellation.dealId,
                                            eventId: cancellation.eventId, at: DefaultTracerClock.now)
                let traceparent = span.flatMap { FlashDealTracing.traceparent(of: $0.context) }
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
                if !ordered { try await beforeOrderedWork(); ordered = true }
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
    static func classify(_ message: KafkaMessage, topics: WorkerTopics) -> Work {
        let event: DomainEvent
        do { event = try DomainEvent.decode(Data(message.value)) } catch {
            return .poison(reason: error.description, message)
        }
        switch event {
        case .orderRequested(let request):
            let expected = OrderID.derive(userId: request.userId, dealId: request.dealId,
                                          idempotencyKey: request.idempotencyKey)
            guard expected == request.orderId else {
                return .poison(reason: "orderId \(request.orderId) is not the id derived from user, deal and idempotency key (\(expected))", message)
            }
            guard message.keyString == request.orderId.rawValue else {
                return .poison(reason: "message key \(message.keyString.map { $0.debugDescription } ?? "(none)") is not the order id \(request.orderId)", message)
            }
            return .request(request, message)
        case .orderCancellationRequested(let cancellation):
            guard message.keyString == cancellation.orderId.rawValue else {
                return .poison(reason: "message key \(message.keyString.map { $0.debugDescription } ?? "(none)") is not the order id \(cancellation.orderId)", message)
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
            pending.append(Pending(request: request, traceparent: message.header("traceparent"), reply: reply,
                                   unknownDeal: reply.result == .noState,
                                   span: traceReservation(request, message, reply, batch: batch.count,
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
            if span.isRecording { span.attributes[FlashDealSpanAttribute.orderStatus] = outcome.document.status.rawValue }
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
                let missing = Set(zip(requests, replies).filter { $0.1.result == .noState }.map(\.0.dealId))
                var lost: [DealID] = []
                for deal in missing where try await catalog.deal(deal) != nil { lost.append(deal) }
                if lost.isEmpty {
                    metrics.paused(false)
                    let holding = Set(zip(requests, replies).filter { $0.1.paymentDueMs > 0 }.map(\.0.dealId.rawValue))
                    if !holding.isEmpty {
                        try await reservations.redis.send(["SADD", settings.expiringDealsKey] + holding.sorted())
                    }
                    return replies
                }
                logger.error("Redis holds no state for deals the catalog knows; waiting (run flashdeal reconcile --deal ID --fix)",
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
        var order = try! Order(id: r.orderId, dealId: r.dealId, userId: r.userId, quantity: r.quantity,
                               idempotencyKey: r.idempotencyKey, requestedAt: r.requestedAt, state: .pending,
                               updatedAt: r.requestedAt, version: 1)
        let decidedAt = p.reply.decidedAtMs > 0 ? Timestamp.date(epochMilliseconds: p.reply.decidedAtMs) : now
        var viaOutbox = false
        switch p.reply.result {
        case .noState:
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
        return Outcome(document: document, events: document.outcomeEvents(stockWasReserved: p.reply.result == .decided(.reserved)),
                       viaOutbox: viaOutbox)
    }

    /// When earlier compensations of these orders were decided: from the outbox (MongoDB was down),
    /// else from MongoDB. An order found in neither (the process stopped between the release and the
    /// outbox) is decided now; so is every order when MongoDB does not answer at once.
    func storedFailureTimes(_ ids: [OrderID]) async throws -> [OrderID: Date] {
        var times: [OrderID: Date] = [:]
        let parked = try await retrying("redis") { try await self.outbox.documents(ids) }
        for d in parked where d.status == .failed { times[d.orderId] = d.decidedAt }
        let rest = ids.filter { times[$0] == nil }
        guard !rest.isEmpty, let stored = try? await orders.find(rest) else { return times }
        for (id, d) in stored where d.status == .failed { times[id] = d.decidedAt }
        return times
    }

    static let compensationReason = "MONGODB_UNAVAILABLE"

    /// Inserts new orders, retrying while MongoDB fails. `false` when it stayed unavailable past
    /// the retry budget (the caller compensates).
    func persist(_ documents: [OrderDocument]) async throws -> Bool {
        guard !documents.isEmpty else { return true }
        let deadline = ContinuousClock.now + settings.mongoRetryBudget
        var backoff = Backoff(settings.retryBackoff)
        while true {
            do {
                _ = try await orders.insertNew(documents)
                metrics.paused(false)
                return true
            } catch {
                metrics.retry(dependency: "mongo")
                guard ContinuousClock.now < deadline else {
                    logger.error("MongoDB unavailable past the retry budget; failing the batch and releasing its stock",
                                 metadata: ["orders": "\(documents.count)", "error": "\(error)"])
                    return false
                }
                logger.warning("persisting orders failed; retrying", metadata: ["error": "\(error)"])
            }
            metrics.paused(true)
            try await backoff.wait()
        }
    }

    /// MongoDB stayed down past the budget: reserved stock goes back (idempotent), the orders that
    /// held it become FAILED, turned-away orders stay REJECTED, and every document goes to the
    /// outbox so MongoDB records it once it answers again.
    func compensate(_ pending: [Pending], at now: Date) async throws -> [Outcome] {
        var outcomes: [Outcome] = []
        for p in pending {
            if case .decided(.reserved) = p.reply.result {
                let reply = try await retrying("redis") {
                    try await self.reservations.release(order: p.request.orderId, deal: p.request.dealId,
                                                        user: nil, reason: .failed)
                }
                metrics.release(reason: StockReleaseReason.failed.rawValue, result: reply.result.rawValue)
                var failed = p
                failed.reply.released = .failed
                outcomes.append(Self.outcome(of: failed, at: now))
            } else {
                var outcome = Self.outcome(of: p, at: now)
                outcome.viaOutbox = true
                outcomes.append(outcome)
            }
        }
        metrics.compensation(count: outcomes.filter { $0.document.status == .failed }.count)
        let documents = outcomes.map(\.document)
        try await retrying("redis") { try await self.outbox.add(documents) }
        return outcomes
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
                    eventId: .derive(type: .dealSoldOut, subject: p.request.dealId.rawValue,
                                     discriminator: p.request.orderId.rawValue),
                    occurredAt: outcome.document.decidedAt, dealId: p.request.dealId)
                messages.append(OutgoingEvent(event: .dealSoldOut(soldOut), key: p.request.dealId.rawValue,
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

    // MARK: Spans

    /// Starts the message's `process` span (continuing the gateway's trace from its `traceparent`)
    /// with its finished `flashdeal.reserve` child. Reservations run as one pipelined batch, so
    /// every message's reserve span covers the batch's time; `flashdeal.batch.size` says how many shared it.
    func traceReservation(_ request: OrderRequested, _ message: KafkaMessage, _ reply: ReservationReply, batch: Int,
                          from start: DefaultTracerClock.Instant, to end: DefaultTracerClock.Instant) -> (any Span)? {
        guard let process = startProcessSpan(message, orderId: request.orderId, dealId: request.dealId,
                                             eventId: request.eventId, at: start) else { return nil }
        // Not sampled: the span only carries the context on (to the outcome events); no children.
        guard process.isRecording else { return process }
        if let reserve = FlashDealTracing.start("flashdeal.reserve", context: process.context, at: start) {
            reserve.updateAttributes { attributes in
                attributes.redisFunction(ReservationFunctions.reserve)
                attributes[FlashDealSpanAttribute.orderId] = request.orderId.rawValue
                attributes[FlashDealSpanAttribute.dealId] = request.dealId.rawValue
                attributes[FlashDealSpanAttribute.batchSize] = batch
                attributes[FlashDealSpanAttribute.reservationResult] = switch reply.result {
                case .decided(let outcome): outcome.rawValue
                case .noState: "NO_STATE"
                }
                if reply.replay { attributes["flashdeal.reservation.replay"] = true }
            }
            reserve.end(at: end)
        }
        return process
    }

    /// A message's `process` span, continuing the trace of its `traceparent` header; nil when tracing is off.
    func startProcessSpan(_ message: KafkaMessage, orderId: OrderID, dealId: DealID, eventId: EventID,
                          at start: DefaultTracerClock.Instant) -> (any Span)? {
        guard FlashDealTracing.isEnabled else { return nil }
        let parent = FlashDealTracing.context(traceparent: message.header("traceparent")?.stringValue)
        guard let process = FlashDealTracing.start("process \(message.topic)", kind: .consumer, context: parent, at: start)
        else { return nil }
        guard process.isRecording else { return process }
        let group = settings.groupID
        process.updateAttributes { attributes in
            attributes.kafka("process", topic: message.topic)
            attributes["messaging.destination.partition.id"] = String(message.partition)
            attributes["messaging.kafka.offset"] = Int(message.offset)
            attributes["messaging.kafka.message.key"] = orderId.rawValue
            attributes["messaging.consumer.group.name"] = group
            attributes["messaging.message.id"] = eventId.rawValue
            attributes[FlashDealSpanAttribute.orderId] = orderId.rawValue
            attributes[FlashDealSpanAttribute.dealId] = dealId.rawValue
        }
        return process
    }

    /// The `flashdeal.persist` child of each message's span: one `insertMany` for the batch.
    func tracePersistence(_ pending: [Pending], _ outcomes: [Outcome], persisted: Bool,
                          from start: DefaultTracerClock.Instant, to end: DefaultTracerClock.Instant) {
        guard FlashDealTracing.isEnabled else { return }
        let inserted = outcomes.filter { !$0.viaOutbox }.count
        for (p, outcome) in zip(pending, outcomes) where !outcome.viaOutbox {
            guard let parent = p.span, parent.isRecording,
                  let span = FlashDealTracing.start("flashdeal.persist", context: parent.context, at: start) else { continue }
            span.updateAttributes { attributes in
                attributes["db.system.name"] = "mongodb"
                attributes["db.operation.name"] = "insertMany"
                attributes["db.collection.name"] = OrderStore.collectionName
                attributes["db.operation.batch.size"] = inserted
                attributes[FlashDealSpanAttribute.orderId] = p.request.orderId.rawValue
                attributes[FlashDealSpanAttribute.orderStatus] = outcome.document.status.rawValue
                if !persisted { attributes[FlashDealSpanAttribute.errorCode] = Self.compensationReason }
            }
            if !persisted {
                span.setStatus(.init(code: .error, message: "MongoDB unavailable past the retry budget; compensated"))
            }
            span.end(at: end)
        }
    }

    /// The `send` child of each message's span: its outcome events, produced and acknowledged.
    func tracePublication(_ decided: Decided, from start: DefaultTracerClock.Instant, to end: DefaultTracerClock.Instant) {
        guard FlashDealTracing.isEnabled else { return }
        for (p, outcome) in zip(decided.pending, decided.outcomes) {
            guard let parent = p.span, parent.isRecording,
                  let span = FlashDealTracing.start("send \(settings.topics.events)", kind: .producer,
                                                    context: parent.context, at: start) else { continue }
            let topic = settings.topics.events
            span.updateAttributes { attributes in
                attributes.kafka("send", topic: topic)
                attributes["messaging.batch.message_count"] = outcome.events.count
                attributes[FlashDealSpanAttribute.orderId] = p.request.orderId.rawValue
            }
            span.end(at: end)
        }
    }

    // MARK: Cancellation

    /// Gives a confirmed order's stock back, records CANCELLED and publishes StockReleased(CANCELLED).
    /// A cancellation of an order that holds nothing (turned away, unknown, another shopper's) changes nothing.
    func cancel(_ c: OrderCancellationRequested, traceparent: KafkaHeader?, span: (any Span)? = nil) async throws {
        let releaseSpan = span.flatMap { $0.isRecording ? FlashDealTracing.start("flashdeal.release", context: $0.context) : nil }
        let reply = try await retrying("redis") {
            try await self.reservations.release(order: c.orderId, deal: c.dealId, user: c.userId, reason: .cancelled)
        }
        if let releaseSpan {
            releaseSpan.updateAttributes { attributes in
                attributes.redisFunction(ReservationFunctions.release)
                attributes[FlashDealSpanAttribute.orderId] = c.orderId.rawValue
                attributes[FlashDealSpanAttribute.dealId] = c.dealId.rawValue
                attributes[FlashDealSpanAttribute.releaseResult] = reply.result.rawValue
                attributes[FlashDealSpanAttribute.releaseReason] = StockReleaseReason.cancelled.rawValue
            }
            releaseSpan.end()
        }
        metrics.release(reason: StockReleaseReason.cancelled.rawValue, result: reply.result.rawValue)
        switch reply.result {
        case .released, .alreadyReleased:
            let now = Date()
            var at = now
            let changed = try await retrying("mongo") { try await self.orders.cancel(c.orderId, reason: .shopper, at: now) }
            // Recorded before (a redelivery): the event keeps the first cancellation's time.
            if !changed, let stored = try await retrying("mongo", { try await self.orders.find(c.orderId) }),
               stored.status == .cancelled {
                at = stored.updatedAt
            }
            let event = StockReleased(eventId: .derive(type: .stockReleased, orderId: c.orderId), occurredAt: at,
                                      orderId: c.orderId, dealId: c.dealId, quantity: reply.quantity, reason: .cancelled)
            try await send([OutgoingEvent(event: .stockReleased(event), key: c.orderId.rawValue, traceparent: traceparent)])
            metrics.order(status: OrderStatus.cancelled.rawValue)
        case .notHeld, .unknown, .wrongUser:
            logger.info("cancellation changes nothing", metadata: ["order": "\(c.orderId)", "result": "\(reply.result.rawValue)"])
        }
    }

    // MARK: Payment deadlines

    /// Releases the reservations of every deal with a payment window whose deadline passed, records
    /// them CANCELLED (EXPIRED) and publishes StockReleased(EXPIRED). Idempotent: an order released
    /// but not yet recorded (a crash in between) is recorded on a later call, by this worker or another.
    func expireUnpaid(limit: Int = 500) async throws {
        let deals = try await reservations.redis.send(["SMEMBERS", settings.expiringDealsKey]).arrayValue?.compactMap(\.stringValue) ?? []
        for raw in deals {
            guard let deal = try? DealID(raw) else {
                try await reservations.redis.send(["SREM", settings.expiringDealsKey, raw])
                continue
            }
            let sweep = try await reservations.expire(deal: deal, limit: limit, endGrace: settings.closeGrace)
            var recorded: [OrderID] = []
            var events: [OutgoingEvent] = []
            let now = Date()
            for expired in sweep.expired {
                var at = now
                if try await !orders.cancel(expired.orderId, reason: .expired, at: now) {
                    let stored = try await orders.find(expired.orderId)
                    // Not persisted yet (its request is being redelivered): recorded on a later sweep.
                    guard let stored, stored.status != .pending else { continue }
                    // Recorded before: the event keeps that time.
                    if stored.status == .cancelled { at = stored.updatedAt }
                }
                let event = StockReleased(eventId: .derive(type: .stockReleased, orderId: expired.orderId), occurredAt: at,
                                          orderId: expired.orderId, dealId: deal, quantity: expired.quantity, reason: .expired)
                events.append(OutgoingEvent(event: .stockReleased(event), key: expired.orderId.rawValue, traceparent: nil))
                recorded.append(expired.orderId)
            }
            try await send(events)
            try await reservations.expiredDone(recorded, deal: deal)
            for _ in recorded {
                metrics.release(reason: StockReleaseReason.expired.rawValue, result: ReleaseResult.released.rawValue)
                metrics.order(status: OrderStatus.cancelled.rawValue)
            }
            if !recorded.isEmpty {
                logger.info("unpaid orders expired; their units are back on sale",
                            metadata: ["deal": "\(deal)", "orders": "\(recorded.count)", "stillUnpaid": "\(sweep.unpaid)"])
            }
            if sweep.finished { try await reservations.redis.send(["SREM", settings.expiringDealsKey, raw]) }
        }
    }

    // MARK: Dead letters

    /// The message, unchanged, to the dead-letter topic with why it was refused in headers.
    func deadLetter(_ message: KafkaMessage, reason: String) async throws {
        logger.warning("message sent to the dead-letter topic",
                       metadata: ["source": "\(message.topicPartition)@\(message.offset)", "reason": "\(reason)"])
        let headers = message.headers + [
            KafkaHeader(name: DeadLetterHeaders.reason, value: reason),
            KafkaHeader(name: DeadLetterHeaders.source, value: "\(message.topic)/\(message.partition)/\(message.offset)"),
            KafkaHeader(name: DeadLetterHeaders.at, value: Timestamp.format(Date())),
        ]
        try await retrying("kafka") {
            try await self.producer.send(topic: self.settings.topics.deadLetters, key: message.key, value: message.value,
                                         headers: headers)
        }
        metrics.deadLettered()
    }

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
                            try await producer.send(topic: topic, key: Array(outgoing.key.utf8),
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
            logger.warning("publishing events failed; retrying",
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

/// Headers the worker adds to a dead-lettered message.
public enum DeadLetterHeaders {
    /// Why the message was refused, readable by a person.
    public static let reason = "flashdeal-dlq-reason"
    /// `topic/partition/offset` it came from.
    public static let source = "flashdeal-dlq-source"
    /// When it was dead-lettered (RFC 3339).
    public static let at = "flashdeal-dlq-at"
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
