import Admission
import Credentials
public import Domain
public import Foundation
import Operations
import Tracing
import Infrastructure
import Logging
import RateLimiting

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

    let limiter: RateLimiter
    let deals: DealStateCache
    let catalog: DealCatalog
    let room: WaitingRoom
    let pacer: WaitingRoomPacer
    let keyring: PassKeyring
    let publisher: OrderRequestPublisher
    let acceptingDeals: AcceptingDeals
    let orders: MongoCollection
    let settings: GatewayConfiguration
    let metrics: GatewayMetrics
    let logger: Logger

    init(limiter: RateLimiter, deals: DealStateCache, catalog: DealCatalog, room: WaitingRoom, pacer: WaitingRoomPacer,
         keyring: PassKeyring, publisher: OrderRequestPublisher, acceptingDeals: AcceptingDeals, orders: MongoCollection,
         settings: GatewayConfiguration, metrics: GatewayMetrics, logger: Logger) {
        self.limiter = limiter
        self.deals = deals
        self.catalog = catalog
        self.room = room
        self.pacer = pacer
        self.keyring = keyring
        self.publisher = publisher
        self.acceptingDeals = acceptingDeals
        self.orders = orders
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
        let decision = await limiter.decide(RateLimitRequest(
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
            throw APIError(.rateLimited, "rate limit reached (\(policies.joined(separator: ", "))); retry later",
                           retryAfter: decision.retryAfter ?? .seconds(1),
                           details: ["policy": policies.first ?? ""])
        case .unavailable:
            throw APIError(.unavailable, "rate limits cannot be checked right now; nothing was done, retry later",
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
        let document: BSONDocument?
        do { document = try await orders.findOne(id: .string(id.rawValue)) } catch {
            throw unavailable("the order store", error)
        }
        // Another shopper's order is reported as absent, not as forbidden: ids are not probed.
        guard let document, document["userId"]?.stringValue == user.rawValue else { return nil }
        return OrderView(orderId: id.rawValue, dealId: document["dealId"]?.stringValue ?? "",
                         userId: user.rawValue, quantity: document["quantity"]?.intValue ?? 0,
                         status: document["status"]?.stringValue ?? "PENDING",
                         reason: document["reason"]?.stringValue,
                         createdAt: document["createdAt"].flatMap(DealCatalog.instant),
                         updatedAt: document["updatedAt"].flatMap(DealCatalog.instant))
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
        if let span, span.isRecording { span.attributes[FlashDealSpanAttribute.admissionDecision] = Self.decision(outcome) }
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
            throw APIError(.dealNotOpen, "the waiting room for \(id) opens at \(Timestamp.format(opensAt))",
                           retryAfter: .seconds(max(1, opensAt.timeIntervalSinceNow.rounded(.up))),
                           details: ["opensAt": Timestamp.format(opensAt)])
        case .soldOut: throw APIError(.soldOut, "deal \(id) is sold out", details: ["dealId": id.rawValue])
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
        if let span, span.isRecording { span.attributes[FlashDealSpanAttribute.admissionDecision] = Self.caseName(status) }
        if case .unknownTicket = status { throw APIError(.notFound, "no ticket \(ticket) for this shopper in deal \(deal)") }
        return status
    }

    // MARK: Orders

    /// The createOrder path: rate policies → deal state (local) → pass (signature, then bound to the
    /// order in one Redis call) → OrderRequested acknowledged by Kafka → PENDING receipt.
    func createOrder(dealId rawDeal: String, quantity: Int, idempotencyKey rawKey: String, pass token: String?,
                     _ context: CallContext) async throws(APIError) -> OrderReceipt {
        let user = try context.requireUser()
        let deal = try Self.dealID(rawDeal)
        let key: IdempotencyKey
        do { key = try IdempotencyKey(rawKey) } catch { throw APIError(.badRequest, error.description) }
        guard (1...settings.orders.maxQuantity).contains(quantity) else {
            throw APIError(.badRequest, "quantity must be between 1 and \(settings.orders.maxQuantity), got \(quantity)")
        }

        // Round trip 1: rate policies.
        if try await checkRate("createOrder", deal: deal, context) {
            let (ticket, _, _) = try await joinRoom(deal, user: user)
            throw APIError(.queued, "too many orders right now: you have a place in the waiting room",
                           details: ["ticket": ticket.ticketId.rawValue, "dealId": deal.rawValue])
        }

        // Local: the deal's window and stock.
        guard let state = try await dealState(deal) else { throw APIError(.notFound, "no deal \(deal)") }
        let now = Date()
        switch state.phase(at: now, preQueueWindow: settings.waitingRoom.preQueueWindow) {
        case .scheduled, .preQueue:
            throw APIError(.dealNotOpen, "deal \(deal) opens at \(Timestamp.format(state.startsAt))",
                           retryAfter: .seconds(max(1, state.startsAt.timeIntervalSince(now))),
                           details: ["opensAt": Timestamp.format(state.startsAt)])
        case .ended: throw APIError(.dealEnded, "deal \(deal) has ended")
        case .soldOut: throw APIError(.soldOut, "deal \(deal) is sold out", details: ["dealId": deal.rawValue])
        case .open: break
        }
        guard quantity <= state.perCustomerLimit else {
            throw APIError(.limitExceeded, "at most \(state.perCustomerLimit) per shopper for deal \(deal)",
                           numbers: ["limit": Double(state.perCustomerLimit)])
        }

        // Local: the pass's signature, user, deal and lifetime.
        guard let token, !token.isEmpty else {
            throw APIError(.passRequired, "an admission pass is required: join the waiting room for \(deal) first",
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
        let event = DomainEvent.orderRequested(OrderRequested(
            eventId: EventID.derive(type: .orderRequested, orderId: orderId), occurredAt: now, orderId: orderId,
            dealId: deal, userId: user, quantity: quantity, idempotencyKey: key, requestedAt: now))
        var request = [UInt8](event.jsonData())
        let consumption: PassConsumption
        let passSpan = FlashDealTracing.start("flashdeal.pass.consume")
        do {
            consumption = try await room.consume(pass: pass, order: orderId, quantity: quantity, request: request,
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
            throw APIError(.passUsed, "this pass was already used for order \(other)", details: ["orderId": other.rawValue])
        case .conflictingRetry(let original):
            throw APIError(.idempotencyConflict,
                           "idempotency key \(key) was used for quantity \(original); use a new key for a different order",
                           numbers: ["quantity": Double(original)])
        case .unknown: throw APIError(.passInvalid, "this pass is not known to the waiting room", details: ["reason": "UNKNOWN"])
        case .expired: throw APIError(.passExpired, "this pass has expired; join the waiting room again")
        }

        // Kafka, acknowledged. From here on the order is kept (the pass is bound to it and its request
        // stored): a send that fails leaves it to a retry or to the worker's re-sender.
        do { try await publisher.publish(event, encoded: request, traceparent: context.traceparent) } catch {
            throw Self.publishError(error, orderId: orderId, kept: true)
        }
        return OrderReceipt(orderId: orderId, dealId: deal, quantity: quantity, replayed: replayed)
    }

    func cancelOrder(_ raw: String, _ context: CallContext) async throws(APIError) -> OrderView {
        let user = try context.requireUser()
        let id: OrderID
        do { id = try OrderID(raw) } catch { throw APIError(.badRequest, error.description) }
        try await checkRate("cancelOrder", deal: nil, context)
        guard let order = try await loadOrder(id, user: user) else {
            throw APIError(.notFound, "no order \(raw) for this shopper (orders appear once the worker has recorded them)")
        }
        guard order.status == "CONFIRMED" || order.status == "PENDING" else {
            throw APIError(.badRequest, "order \(raw) is \(order.status) and cannot be cancelled")
        }
        let orderId: OrderID
        let deal: DealID
        do {
            orderId = try OrderID(order.orderId)
            deal = try DealID(order.dealId)
        } catch {
            throw APIError(.internalError, "stored order has an invalid id")
        }
        let now = Date()
        let event = DomainEvent.orderCancellationRequested(OrderCancellationRequested(
            eventId: EventID.derive(type: .orderCancellationRequested, orderId: orderId), occurredAt: now,
            orderId: orderId, dealId: deal, userId: user, requestedAt: now))
        do { try await publisher.publish(event, traceparent: context.traceparent) } catch {
            throw Self.publishError(error, orderId: orderId)
        }
        return order
    }

    // MARK: Span attributes

    /// The waiting room's answer to a join, as `flashdeal.admission.decision`.
    static func decision(_ outcome: JoinOutcome) -> String {
        switch outcome {
        case .joined: "joined"
        case .alreadyJoined: "already_joined"
        case .notOpenYet: "not_open"
        case .soldOut: "sold_out"
        case .ended: "ended"
        case .unknownDeal: "unknown_deal"
        }
    }

    /// An enum value's case name without its associated values (`waiting`, `admitted`, `used`, …),
    /// for `flashdeal.admission.decision`.
    static func caseName(_ value: some Sendable) -> String {
        "\(value)".prefix { $0 != "(" }.description
    }

    // MARK: Error mapping

    static func dealID(_ raw: String) throws(APIError) -> DealID {
        do { return try DealID(raw) } catch { throw APIError(.badRequest, error.description) }
    }

    /// A dependency failed: the shopper hears UNAVAILABLE (retry later), the log gets the cause
    /// (inside the request's trace); internal error text never goes to the client.
    func unavailable(_ what: String, _ error: any Error) -> APIError {
        logger.warning("\(what) is unavailable; answered UNAVAILABLE", metadata: ["error": "\(error)"])
        return APIError(.unavailable, "\(what) is unavailable right now; retry later", retryAfter: .seconds(1))
    }

    static func passError(_ error: CredentialError) -> APIError {
        switch error.code {
        case .expired: APIError(.passExpired, "this pass has expired; join the waiting room again")
        case .notYetValid: APIError(.passInvalid, error.description, retryable: true, details: ["reason": "NOT_YET_VALID"])
        case .wrongUser: APIError(.passInvalid, "this pass belongs to another shopper", details: ["reason": "WRONG_USER"])
        case .wrongDeal: APIError(.passInvalid, "this pass is for another deal", details: ["reason": "WRONG_DEAL"])
        case .unknownKey: APIError(.passInvalid, "this pass was signed with a key no longer accepted", details: ["reason": "UNKNOWN_KEY"])
        case .badSignature: APIError(.passInvalid, "this pass's signature does not match", details: ["reason": "BAD_SIGNATURE"])
        default: APIError(.passInvalid, "this pass is malformed", details: ["reason": "MALFORMED"])
        }
    }

    /// A request that could not be published. `kept`: createOrder after the pass was bound — the
    /// order is recorded and will be delivered (a retry with the same idempotency key publishes it
    /// now; otherwise the worker's re-sender does, within its bound), so the shopper hears UNKNOWN,
    /// never NOT_ACCEPTED. Otherwise (shed before binding, a cancellation) nothing was kept.
    static func publishError(_ refusal: OrderRequestPublisher.Refusal, orderId: OrderID? = nil, kept: Bool = false)
        -> APIError
    {
        var details: [String: String] = [:]
        if let orderId { details["orderId"] = orderId.rawValue }
        if kept {
            let what: String =
                switch refusal {
                case .overloaded: "the order queue is at capacity"
                case .outcomeUnknown: "the order queue did not confirm in time"
                case .notSent: "the order queue refused the order for now"
                }
            details["outcome"] = "UNKNOWN"
            return APIError(.unavailable,
                            "\(what): the order is recorded and will be delivered; retrying with the same idempotency key is safe and never creates a second order",
                            retryAfter: .seconds(1), details: details)
        }
        switch refusal {
        case .overloaded:
            details["outcome"] = "NOT_ACCEPTED"
            return APIError(.unavailable, "the gateway is at capacity; nothing was done, retry shortly",
                            retryAfter: .seconds(1), details: details)
        case .outcomeUnknown:
            details["outcome"] = "UNKNOWN"
            return APIError(.unavailable,
                            "the queue did not confirm in time: the request may or may not be placed; retrying is safe",
                            retryAfter: .seconds(1), details: details)
        case .notSent:
            details["outcome"] = "NOT_ACCEPTED"
            return APIError(.unavailable, "the queue refused the request; nothing was placed, retry later",
                            retryAfter: .seconds(1), details: details)
        }
    }
}
