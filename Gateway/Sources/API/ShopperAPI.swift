import Admission
import Credentials
import DealData
public import Domain
public import Foundation
import Infrastructure
import Logging
import Operations
import RateLimiting
import Tracing

/// What the shopper-facing operations do, independent of GraphQL: each method checks the rate
/// policies for its operation, then does its work, and fails only with ``APIError``.
public final class ShopperAPI: Sendable {
    public struct OrderReceipt: Sendable, Equatable {
        public var orderId: OrderID
        public var dealId: DealID
        public var quantity: Int
        /// True when this call repeated an accepted request (same idempotency key).
        public var replayed: Bool
    }

    public struct OrderView: Sendable, Equatable {
        public var orderId: String
        public var dealId: String
        public var userId: String
        public var quantity: Int
        public var status: String
        public var reason: String?
        public var createdAt: Date?
        public var updatedAt: Date?
    }

    let limiter: any RateDeciding
    let deals: any DealStateSource
    let catalog: any CatalogSource
    let room: any AdmissionGate
    let pacer: any AdmissionPacing
    let publisher: any OrderRequestSink
    let kept: any KeptOrderRequests
    let acceptingDeals: any AcceptedDealsRegistry
    let orders: any OrderLookup
    let clock: any WallClock
    let keyring: PassKeyring
    let settings: GatewayConfiguration
    let metrics: GatewayMetrics
    let logger: Logger

    init(
        ports: ShopperPorts, keyring: PassKeyring, settings: GatewayConfiguration, metrics: GatewayMetrics,
        logger: Logger
    ) {
        limiter = ports.limiter
        deals = ports.deals
        catalog = ports.catalog
        room = ports.room
        pacer = ports.pacer
        publisher = ports.publisher
        kept = ports.kept
        acceptingDeals = ports.acceptingDeals
        orders = ports.orders
        clock = ports.clock
        self.keyring = keyring
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
    }

    // MARK: Rate policies

    /// Asks the rate limiter about one operation; refusals become RATE_LIMITED / UNAVAILABLE.
    /// Returns whether a `queue` policy sent the request to the waiting room.
    @discardableResult
    func checkRate(_ operation: String, deal: DealID?, _ context: CallContext) async throws(APIError) -> Bool {
        let started = DefaultTracerClock.now
        let decision = await limiter.decide(
            RateLimitRequest(
                operation: operation, dealId: deal, userId: context.userId, clientIP: context.clientIP,
                headers: context.headers, labels: context.headers["x-api-key"] == nil ? [:] : ["tier": "partner"]))
        context.record(decision)
        if let span = FlashDealTracing.start("flashdeal.rate_limit", at: started) {
            if span.isRecording {
                let deciding = decision.verdicts.filter { $0.result == .limited || $0.result == .queued }
                span.updateAttributes { attributes in
                    attributes[FlashDealSpanAttribute.operation] = operation
                    attributes[FlashDealSpanAttribute.rateLimitDecision] = "\(decision.outcome)"
                    attributes[FlashDealSpanAttribute.policy] = (deciding.isEmpty ? decision.verdicts : deciding)
                        .map(\.policy).joined(separator: ",")
                    if let deal { attributes[FlashDealSpanAttribute.dealId] = deal.rawValue }
                }
            }
            span.end()
        }
        switch decision.outcome {
        case .allowed: return false
        case .queued: return true
        case .limited:
            let policies = decision.verdicts.filter { $0.result == .limited }.map(\.policy)
            throw APIError(
                .rateLimited, "rate limit reached (\(policies.joined(separator: ", "))); retry later",
                retryAfter: decision.retryAfter ?? .seconds(1),
                details: ["policy": policies.first ?? ""])
        case .unavailable:
            throw APIError(
                .unavailable, "rate limits cannot be checked right now; nothing was done, retry later",
                retryAfter: decision.retryAfter ?? .seconds(1))
        }
    }

    // MARK: Reads

    func dealList(limit: Int, _ context: CallContext) async throws(APIError) -> [Deal] {
        try await checkRate("deals", deal: nil, context)
        do { return try await catalog.deals(limit: max(1, min(limit, 100))) } catch {
            throw unavailable("the catalog", error)
        }
    }

    func deal(_ raw: String, _ context: CallContext) async throws(APIError) -> Deal? {
        let id = try Self.dealID(raw)
        try await checkRate("deal", deal: id, context)
        do { return try await catalog.deal(id) } catch { throw unavailable("the catalog", error) }
    }

    func product(_ raw: String, _ context: CallContext) async throws(APIError) -> Product? {
        let id: ProductID
        do { id = try ProductID(raw) } catch { throw APIError(.badRequest, error.description) }
        try await checkRate("product", deal: nil, context)
        do { return try await catalog.product(id) } catch { throw unavailable("the catalog", error) }
    }

    /// Live state for one deal (from the local copy, at most one refresh interval old).
    func stock(_ raw: String, _ context: CallContext) async throws(APIError) -> DealState? {
        let id = try Self.dealID(raw)
        try await checkRate("stock", deal: id, context)
        return try await dealState(id)
    }

    func dealState(_ id: DealID) async throws(APIError) -> DealState? {
        do { return try await deals.state(of: id) } catch { throw unavailable("deal state", error) }
    }

    func order(_ raw: String, _ context: CallContext) async throws(APIError) -> OrderView? {
        let user = try context.requireUser()
        let id: OrderID
        do { id = try OrderID(raw) } catch { throw APIError(.badRequest, error.description) }
        try await checkRate("order", deal: nil, context)
        return try await loadOrder(id, user: user)
    }

    func loadOrder(_ id: OrderID, user: UserID) async throws(APIError) -> OrderView? {
        try await loadDocument(id, user: user).map(Self.view)
    }

    static func view(_ document: OrderDocument) -> OrderView {
        OrderView(
            orderId: document.orderId.rawValue, dealId: document.dealId.rawValue, userId: document.userId.rawValue,
            quantity: document.quantity, status: document.status.rawValue, reason: document.reason,
            createdAt: document.createdAt, updatedAt: document.updatedAt)
    }

    func loadDocument(_ id: OrderID, user: UserID) async throws(APIError) -> OrderDocument? {
        let document: OrderDocument?
        do { document = try await orders.order(id) } catch let error as DealDataError {
            logger.error("a stored order document does not read", metadata: ["orderId": "\(id)", "error": "\(error)"])
            throw APIError(.internalError, "order \(id) cannot be read")
        } catch {
            throw unavailable("the order store", error)
        }
        // Another shopper's order is reported as absent, not as forbidden: ids are not probed.
        guard let document, document.userId == user else { return nil }
        return document
    }

    func draw(_ raw: String, _ context: CallContext) async throws(APIError) -> DrawRecord? {
        let id = try Self.dealID(raw)
        try await checkRate("waitingRoom", deal: id, context)
        do { return try await room.draw(deal: id) } catch { throw unavailable("the waiting room", error) }
    }

    // MARK: Waiting room

    func join(_ raw: String, _ context: CallContext) async throws(APIError) -> (WaitingTicket, AdmissionStatus, Bool) {
        let user = try context.requireUser()
        let id = try Self.dealID(raw)
        // A `queue` policy over this operation means "more arrivals than we admit": joining the
        // line is exactly the answer, so it is not an error here.
        try await checkRate("joinWaitingRoom", deal: id, context)
        return try await joinRoom(id, user: user)
    }

    func joinRoom(_ id: DealID, user: UserID) async throws(APIError) -> (WaitingTicket, AdmissionStatus, Bool) {
        let span = FlashDealTracing.start("flashdeal.waiting_room.join")
        span?.attributes[FlashDealSpanAttribute.dealId] = id.rawValue
        defer { span?.end() }
        let outcome: JoinOutcome
        do { outcome = try await room.join(deal: id, user: user) } catch {
            span?.attributes[FlashDealSpanAttribute.admissionDecision] = "unavailable"
            span?.recordError(error)
            throw unavailable("the waiting room", error)
        }
        if let span, span.isRecording {
            span.attributes[FlashDealSpanAttribute.admissionDecision] = Self.decision(outcome)
        }
        pacer.track(id)
        switch outcome {
        case .joined(let ticket), .alreadyJoined(let ticket):
            let status: AdmissionStatus
            do { status = try await room.status(ticket: ticket.ticketId, deal: id, user: user) } catch {
                throw unavailable("the waiting room", error)
            }
            if case .joined = outcome { metrics.joined(deal: id) }
            if case .alreadyJoined = outcome { return (ticket, status, true) }
            return (ticket, status, false)
        case .notOpenYet(let opensAt):
            throw APIError(
                .dealNotOpen, "the waiting room for \(id) opens at \(Timestamp.format(opensAt))",
                retryAfter: .seconds(max(1, opensAt.timeIntervalSince(clock.now).rounded(.up))),
                details: ["opensAt": Timestamp.format(opensAt)])
        case .soldOut: throw APIError(.soldOut, "deal \(id) is sold out", details: ["dealId": id.rawValue])
        case .queueClosed: throw APIError(.queueClosed, "the line for \(id) is closed", details: ["dealId": "\(id)"])
        case .ended: throw APIError(.dealEnded, "deal \(id) has ended", details: ["dealId": id.rawValue])
        case .unknownDeal: throw APIError(.notFound, "no deal \(id)")
        }
    }

    func admission(ticket rawTicket: String, deal rawDeal: String, _ context: CallContext) async throws(APIError)
        -> AdmissionStatus
    {
        let user = try context.requireUser()
        let deal = try Self.dealID(rawDeal)
        let ticket: TicketID
        do { ticket = try TicketID(rawTicket) } catch { throw APIError(.badRequest, error.description) }
        try await checkRate("admission", deal: deal, context)
        pacer.track(deal)
        let span = FlashDealTracing.start("flashdeal.waiting_room.status")
        span?.attributes[FlashDealSpanAttribute.dealId] = deal.rawValue
        defer { span?.end() }
        let status: AdmissionStatus
        do { status = try await room.status(ticket: ticket, deal: deal, user: user) } catch {
            span?.attributes[FlashDealSpanAttribute.admissionDecision] = "unavailable"
            span?.recordError(error)
            throw unavailable("the waiting room", error)
        }
        if let span, span.isRecording {
            span.attributes[FlashDealSpanAttribute.admissionDecision] = Self.caseName(status)
        }
        if case .unknownTicket = status {
            throw APIError(.notFound, "no ticket \(ticket) for this shopper in deal \(deal)")
        }
        return status
    }

    // MARK: Orders

    /// The createOrder path: rate policies → deal state (local) → pass (signature, then bound to the
    /// order in one Redis call) → OrderRequested acknowledged by Kafka → PENDING receipt.
    func createOrder(
        dealId rawDeal: String, quantity: Int, idempotencyKey rawKey: String, pass token: String?,
        _ context: CallContext
    ) async throws(APIError) -> OrderReceipt {
        let user = try context.requireUser()
        let deal = try Self.dealID(rawDeal)
        let key: IdempotencyKey
        do { key = try IdempotencyKey(rawKey) } catch { throw APIError(.badRequest, error.description) }
        guard (1...settings.orders.maxQuantity).contains(quantity) else {
            throw APIError(
                .badRequest, "quantity must be between 1 and \(settings.orders.maxQuantity), got \(quantity)")
        }

        // Round trip 1: rate policies.
        if try await checkRate("createOrder", deal: deal, context) {
            let (ticket, _, _) = try await joinRoom(deal, user: user)
            throw APIError(
                .queued, "too many orders right now: you have a place in the waiting room",
                details: ["ticket": ticket.ticketId.rawValue, "dealId": deal.rawValue])
        }

        // Local: the deal's window and stock.
        guard let state = try await dealState(deal) else { throw APIError(.notFound, "no deal \(deal)") }
        let now = clock.now
        switch state.phase(at: now, preQueueWindow: settings.waitingRoom.preQueueWindow) {
        case .scheduled, .preQueue:
            throw APIError(
                .dealNotOpen, "deal \(deal) opens at \(Timestamp.format(state.startsAt))",
                retryAfter: .seconds(max(1, state.startsAt.timeIntervalSince(now))),
                details: ["opensAt": Timestamp.format(state.startsAt)])
        case .ended: throw APIError(.dealEnded, "deal \(deal) has ended")
        case .soldOut: throw APIError(.soldOut, "deal \(deal) is sold out", details: ["dealId": deal.rawValue])
        case .open: break
        }
        guard quantity <= state.perCustomerLimit else {
            throw APIError(
                .limitExceeded, "at most \(state.perCustomerLimit) per shopper for deal \(deal)",
                numbers: ["limit": Double(state.perCustomerLimit)])
        }

        // Local: the pass's signature, user, deal and lifetime.
        guard let token, !token.isEmpty else {
            throw APIError(
                .passRequired, "an admission pass is required: join the waiting room for \(deal) first",
                details: ["dealId": deal.rawValue])
        }
        let pass: AdmissionPass
        do { pass = try keyring.verify(token, user: user, deal: deal, at: now) } catch {
            throw Self.passError(error)
        }

        // Shed before binding the pass, so a refused shopper keeps it.
        if let refusal = publisher.overloaded() {
            if case .overloaded(let inFlight, _) = refusal {
                metrics.shed(reason: inFlight >= settings.orders.maxInFlight ? "in_flight" : "producer_queue")
            }
            throw Self.publishError(refusal)
        }

        // Round trip 2: bind the pass to this order, atomically, keeping the request beside the
        // binding (the worker sends it again should the broker lose it).
        let orderId = OrderID.derive(userId: user, dealId: deal, idempotencyKey: key)
        let event = DomainEvent.orderRequested(
            OrderRequested(
                eventId: EventID.derive(type: .orderRequested, orderId: orderId), occurredAt: now, orderId: orderId,
                dealId: deal, userId: user, quantity: quantity, idempotencyKey: key, requestedAt: now))
        var request = [UInt8](event.jsonData())
        let consumption: PassConsumption
        let passSpan = FlashDealTracing.start("flashdeal.pass.consume")
        do {
            consumption = try await room.consume(
                pass: pass, order: orderId, quantity: quantity, request: request,
                budget: settings.orders.redisBudget)
            if let passSpan, passSpan.isRecording {
                passSpan.updateAttributes { attributes in
                    attributes[FlashDealSpanAttribute.dealId] = deal.rawValue
                    attributes[FlashDealSpanAttribute.orderId] = orderId.rawValue
                    attributes[FlashDealSpanAttribute.admissionDecision] = Self.caseName(consumption)
                }
            }
            passSpan?.end()
        } catch {
            passSpan?.attributes[FlashDealSpanAttribute.admissionDecision] = "unavailable"
            passSpan?.recordError(error)
            passSpan?.end()
            throw unavailable("the waiting room", error)
        }
        var replayed = false
        switch consumption {
        case .accepted: await acceptingDeals.register(deal)
        case .alreadyAccepted(let stored):
            replayed = true
            // The same request as the first time, byte for byte (its occurredAt is the first one's).
            if let stored { request = stored }
        case .used(let other):
            throw APIError(
                .passUsed, "this pass was already used for order \(other)", details: ["orderId": other.rawValue])
        case .conflictingRetry(let original):
            throw APIError(
                .idempotencyConflict,
                "idempotency key \(key) was used for quantity \(original); use a new key for a different order",
                numbers: ["quantity": Double(original)])
        case .unknown:
            throw APIError(.passInvalid, "this pass is not known to the waiting room", details: ["reason": "UNKNOWN"])
        case .expired: throw APIError(.passExpired, "this pass has expired; join the waiting room again")
        }

        // Kafka, acknowledged. From here on the order is kept (the pass is bound to it and its request
        // stored): a send that fails is sent again from here, and by the worker's re-sender from Redis.
        do { try await publisher.publish(event, encoded: request, traceparent: context.traceparent) } catch {
            kept.keep(event, encoded: request, traceparent: context.traceparent)
            throw Self.publishError(error, orderId: orderId, kept: true)
        }
        if replayed { kept.acknowledged(orderId) }
        return OrderReceipt(orderId: orderId, dealId: deal, quantity: quantity, replayed: replayed)
    }

    func cancelOrder(_ raw: String, _ context: CallContext) async throws(APIError) -> OrderView {
        let user = try context.requireUser()
        let id: OrderID
        do { id = try OrderID(raw) } catch { throw APIError(.badRequest, error.description) }
        try await checkRate("cancelOrder", deal: nil, context)
        guard let order = try await loadDocument(id, user: user) else {
            throw APIError(
                .notFound, "no order \(raw) for this shopper (orders appear once the worker has recorded them)")
        }
        guard order.status == .confirmed || order.status == .pending else {
            throw APIError(.badRequest, "order \(raw) is \(order.status.rawValue) and cannot be cancelled")
        }
        let orderId = order.orderId
        let deal = order.dealId
        let now = clock.now
        let event = DomainEvent.orderCancellationRequested(
            OrderCancellationRequested(
                eventId: EventID.derive(type: .orderCancellationRequested, orderId: orderId), occurredAt: now,
                orderId: orderId, dealId: deal, userId: user, requestedAt: now))
        do { try await publisher.publish(event, traceparent: context.traceparent) } catch {
            throw Self.publishError(error, orderId: orderId)
        }
        return Self.view(order)
    }
}
