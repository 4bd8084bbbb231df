public import DealData
public import Domain
public import Foundation
public import Infrastructure

/// What the oracle saw of one deal and which invariants (ARCHITECTURE §5) it found broken.
public struct AuditReport: Sendable {
    public var deal: DealID
    public var totalStock: Int
    public var perCustomerLimit: Int
    public var redisStock: Int?
    public var soldOutFlag: Bool
    /// Distinct orders requested: through Kafka, or accepted by the gateway (a pass bound to the order,
    /// its request stored in Redis) whether or not the log still holds the request.
    public var requested = 0
    /// Orders the gateway accepted according to Redis (pass bindings and stored requests).
    public var accepted = 0
    /// Accepted orders still undecided in Redis (the re-sender sends their requests again).
    public var undecided = 0
    public var statuses: [OrderStatus: Int] = [:]
    /// Units held by CONFIRMED orders.
    public var sold = 0
    /// Outcome events delivered more than once (same event id): harmless, consumers deduplicate.
    public var duplicateDeliveries = 0
    public var outboxPending = 0
    /// The most units confirmed orders held at any moment, replaying the outcome events in the order
    /// of their decision time (OrderConfirmed adds, StockReleased of a confirmed order subtracts).
    public var peakHeld = 0
    public var violations: [String] = []

    public var passed: Bool { violations.isEmpty }

    /// A person's reading of the report.
    public var text: String {
        var lines = [
            "deal \(deal): total stock \(totalStock), per-customer limit \(perCustomerLimit)",
            "  requested orders : \(requested) (accepted by the gateway per Redis: \(accepted), still undecided: \(undecided))",
            "  in MongoDB       : "
                + OrderStatus.allCases.map { "\($0.rawValue) \(statuses[$0] ?? 0)" }.joined(separator: ", "),
            "  sold (confirmed) : \(sold) units (at most \(peakHeld) held at any moment, from the event log)",
            "  Redis stock      : \(redisStock.map(String.init) ?? "missing")\(soldOutFlag ? " (sold-out flag set)" : "")",
            "  outbox pending   : \(outboxPending)",
            "  duplicate event deliveries (same event id, deduplicated by consumers): \(duplicateDeliveries)",
        ]
        if violations.isEmpty {
            lines.append("invariants: PASS")
        } else {
            lines.append("invariants: FAIL — \(violations.count) violation\(violations.count == 1 ? "" : "s"):")
            for v in violations.prefix(50) { lines.append("  - \(v)") }
            if violations.count > 50 { lines.append("  … and \(violations.count - 50) more") }
        }
        return lines.joined(separator: "\n")
    }
}

/// The test oracle: checks a deal's invariants against Redis, MongoDB and both Kafka topics.
///
/// 1. no oversell: units of CONFIRMED orders ≤ total stock, now and at every moment of the event log
///    replayed in decision order;
/// 2. conservation: total stock = Redis stock + units held by CONFIRMED orders, and Redis's
///    per-shopper holdings and reservation records agree with MongoDB;
/// 3. nothing lost: every order a shopper was told is accepted — its pass bound to it or its request
///    stored in Redis by the gateway — and every order requested through Kafka is in MongoDB in a
///    decided state (not PENDING) with exactly one outcome event (OrderConfirmed / OrderRejected /
///    OrderFailed) matching it, and a StockReleased for every FAILED or CANCELLED order that had stock;
///    no accepted order is left undecided;
/// 4. no duplicates: never two different outcomes for one order, and never two different events
///    under one event id (a copy must be identical); per-customer limits hold;
/// 5. nothing waiting: the outbox holds nothing for the deal; sold-out flag ⇔ no stock; no unpaid
///    order holds its units long past its payment deadline (deals with a payment window).
public struct DealAudit: Sendable {
    public let reservations: ReservationStore
    public let orders: OrderStore
    public let outbox: Outbox
    public let catalog: DealCatalog

    public init(reservations: ReservationStore, orders: OrderStore, outbox: Outbox, catalog: DealCatalog) {
        self.reservations = reservations
        self.orders = orders
        self.outbox = outbox
        self.catalog = catalog
    }

    /// Requests and events of every deal read so far from the topics (accumulated across calls).
    public struct Log: Sendable {
        /// order id → the request (first seen) for each deal.
        public var requests: [DealID: [OrderID: OrderRequested]] = [:]
        /// order id → event id → event type.
        public var events: [OrderID: [String: DomainEventType]] = [:]
        public var deliveries: [String: Int] = [:]
        /// event id → each distinct content delivered under it (the message value).
        public var contents: [String: Set<[UInt8]>] = [:]
        /// Per deal, order id → when it was confirmed and for how many units, and when its units
        /// were released (the event log's own times: Redis's clock at the decision).
        public var confirmations: [DealID: [OrderID: (at: Date, units: Int)]] = [:]
        public var releases: [DealID: [OrderID: Date]] = [:]

        public init() {}

        /// The most units held by confirmed orders at any moment of the log, and when; at equal
        /// times releases count first (two events of one millisecond have no order between them).
        public func peakHeld(_ deal: DealID) -> (units: Int, at: Date?) {
            let confirmed = confirmations[deal] ?? [:]
            var moves = confirmed.map { (at: $0.value.at, units: $0.value.units) }
            for (order, at) in releases[deal] ?? [:] {
                if let c = confirmed[order] { moves.append((at: at, units: -c.units)) }
            }
            moves.sort { $0.at != $1.at ? $0.at < $1.at : $0.units < $1.units }
            var held = 0
            var peak: (units: Int, at: Date?) = (0, nil)
            for m in moves {
                held += m.units
                if held > peak.units { peak = (held, m.at) }
            }
            return peak
        }

        /// Requests count from the order-requests topic and events from the order-events topic
        /// only (whatever their prefix): anything else on a topic is poison the worker dead-letters.
        public mutating func add(_ messages: [KafkaMessage]) {
            for m in messages {
                guard let event = try? DomainEvent.decode(Data(m.value)) else { continue }
                let onRequests = m.topic.hasSuffix(FlashDealTopics.orderRequests)
                let onEvents = m.topic.hasSuffix(FlashDealTopics.orderEvents)
                switch event {
                case .orderRequested(let r) where onRequests:
                    // Requests whose id is not derived from their fields are poison: the worker dead-letters them.
                    guard
                        OrderID.derive(userId: r.userId, dealId: r.dealId, idempotencyKey: r.idempotencyKey)
                            == r.orderId,
                        m.keyString == r.orderId.rawValue
                    else { continue }
                    if requests[r.dealId]?[r.orderId] == nil { requests[r.dealId, default: [:]][r.orderId] = r }
                case .orderConfirmed, .orderRejected, .orderFailed, .stockReleased:
                    guard onEvents, let order = event.orderId else { continue }
                    if case .orderConfirmed(let c) = event {
                        confirmations[c.dealId, default: [:]][order] = (c.occurredAt, c.quantity)
                    } else if case .stockReleased(let r) = event {
                        releases[r.dealId, default: [:]][order] = r.occurredAt
                    }
                    events[order, default: [:]][event.eventId.rawValue] = event.type
                    deliveries[event.eventId.rawValue, default: 0] += 1
                    contents[event.eventId.rawValue, default: []].insert(m.value)
                default: break
                }
            }
        }
    }

    /// How long past its payment deadline an unpaid order may still hold its units (the sweep runs
    /// every second; a worker restart or a MongoDB outage delays it).
    public static let expiryTolerance: Duration = .seconds(60)

    /// - Parameter told: order ids shoppers were given for this deal (an accepted receipt, or an
    ///   UNKNOWN outcome naming the order), known from outside the system: each must be decided too.
    public func audit(_ deal: DealID, log: Log, told: Set<OrderID> = []) async throws -> AuditReport {
        guard let info = try await catalog.deal(deal) else {
            var r = AuditReport(deal: deal, totalStock: 0, perCustomerLimit: 0, redisStock: nil, soldOutFlag: false)
            r.violations.append("the catalog (MongoDB deals) has no deal \(deal)")
            return r
        }
        var report = AuditReport(
            deal: deal, totalStock: info.totalStock, perCustomerLimit: info.perCustomerLimit,
            redisStock: try await reservations.stock(of: deal),
            soldOutFlag: try await reservations.isFlaggedSoldOut(deal))
        var v: [String] = []
        let documents = try await orders.documents(of: deal)
        var stored: [OrderID: OrderDocument] = [:]
        for raw in documents {
            guard let d = OrderDocument(bson: raw) else {
                v.append("order document \(raw["_id"]?.description ?? "?") lacks contract fields")
                continue
            }
            stored[d.orderId] = d
            report.statuses[d.status, default: 0] += 1
        }
        let confirmed = stored.values.filter { $0.status == .confirmed }
        report.sold = confirmed.reduce(0) { $0 + $1.quantity }

        // 1. No oversell.
        if report.sold > info.totalStock {
            v.append("oversold: \(report.sold) units confirmed, stock was \(info.totalStock)")
        }

        // … at any moment, from the log.
        let peak = log.peakHeld(deal)
        report.peakHeld = peak.units
        if peak.units > info.totalStock, let at = peak.at {
            v.append(
                "oversold at \(at.formatted(.iso8601)): confirmed orders held \(peak.units) units, stock was \(info.totalStock)"
            )
        }

        // 2. Conservation.
        if let stock = report.redisStock {
            if stock + report.sold != info.totalStock {
                v.append(
                    "conservation: Redis stock \(stock) + confirmed \(report.sold) = \(stock + report.sold), expected \(info.totalStock)"
                )
            }
            if stock < 0 { v.append("Redis stock is negative (\(stock))") }
        } else {
            v.append("Redis holds no stock for the deal (run flashdeal reconcile --deal \(deal) --fix)")
        }
        var perUser: [String: Int] = [:]
        for d in confirmed { perUser[d.userId.rawValue, default: 0] += d.quantity }
        let held = try await reservations.held(in: deal)
        for user in Set(perUser.keys).union(held.keys) where (perUser[user] ?? 0) != (held[user] ?? 0) {
            v.append(
                "user \(user) holds \(held[user] ?? 0) units in Redis but \(perUser[user] ?? 0) in confirmed orders")
        }
        let (records, unreadable) = try await reservations.records(of: deal)
        for (order, raw) in unreadable { v.append("reservation record of \(order) unreadable: \(raw)") }
        for d in stored.values {
            let record = records[d.orderId.rawValue]
            let holds = record?.holds ?? 0
            if d.status == .confirmed, holds != d.quantity {
                v.append("order \(d.orderId) is CONFIRMED but its Redis reservation holds \(holds) units")
            } else if d.status != .confirmed, d.status != .pending, holds != 0 {
                v.append(
                    "order \(d.orderId) is \(d.status.rawValue) but its Redis reservation still holds \(holds) units")
            }
        }
        let storedIds = Set(stored.keys.map(\.rawValue))
        for (order, record) in records where record.holds > 0 && !storedIds.contains(order) {
            v.append("Redis holds \(record.holds) units for order \(order), which MongoDB does not have")
        }

        // 3 + 4. Every accepted or requested order decided once, with exactly one matching outcome event.
        var requests: [OrderID: OrderRequested?] = (log.requests[deal] ?? [:]).mapValues { $0 }
        var accepted = Set<String>(try await reservations.boundOrders(of: deal))
        for (order, json) in try await reservations.acceptedRequests(of: deal) {
            accepted.insert(order)
            guard let id = try? OrderID(order) else { continue }
            if requests[id] == nil, case .orderRequested(let r)? = try? DomainEvent.decode(json) { requests[id] = r }
        }
        accepted.formUnion(told.map(\.rawValue))
        report.accepted = accepted.count
        for order in accepted {
            guard let id = try? OrderID(order) else {
                v.append("a pass is bound to \(order.debugDescription), which is not an order id")
                continue
            }
            if requests[id] == nil { requests[id] = .some(nil) }
        }
        let undecided = try await reservations.undecided(in: deal)
        report.undecided = undecided.count
        if !undecided.isEmpty {
            v.append(
                "\(undecided.count) accepted orders are still undecided (the worker's re-sender sends their requests again): "
                    + undecided.keys.sorted().prefix(10).joined(separator: ", "))
        }
        report.requested = requests.count
        for (id, request) in requests {
            guard let d = stored[id] else {
                v.append(
                    accepted.contains(id.rawValue) && log.requests[deal]?[id] == nil
                        ? "order \(id) was accepted (its pass is bound to it, or a shopper was given it) but is neither in MongoDB nor in the requests topic"
                        : "order \(id) was requested but is not in MongoDB")
                continue
            }
            if d.status == .pending { v.append("order \(id) is still PENDING") }
            if let request, d.userId != request.userId || d.quantity != request.quantity {
                v.append("order \(id) in MongoDB does not match its request (user/quantity)")
            }
            for eventId in (log.events[id] ?? [:]).keys where (log.contents[eventId]?.count ?? 0) > 1 {
                v.append(
                    "order \(id) has \(log.contents[eventId]!.count) different events under event id \(eventId) (a copy must be identical)"
                )
            }
            let events = log.events[id] ?? [:]
            let outcomes = events.values.filter { [.orderConfirmed, .orderRejected, .orderFailed].contains($0) }
            if outcomes.count != 1 {
                v.append(
                    "order \(id) has \(outcomes.count) outcome events (\(outcomes.map(\.rawValue).sorted())), expected exactly 1"
                )
            } else {
                let expected: DomainEventType? =
                    switch d.status {
                    case .confirmed, .cancelled: .orderConfirmed
                    case .rejected: .orderRejected
                    case .failed: .orderFailed
                    case .pending: nil
                    }
                if let expected, outcomes[0] != expected {
                    v.append("order \(id) is \(d.status.rawValue) but its outcome event is \(outcomes[0].rawValue)")
                }
            }
            let reserved = records[id.rawValue]?.outcome == .reserved
            if d.status == .cancelled || (d.status == .failed && reserved), !events.values.contains(.stockReleased) {
                v.append("order \(id) is \(d.status.rawValue) but no StockReleased was published")
            }
        }
        // Liveness of the payment window: no unpaid hold stays on the shelf long past its deadline.
        if let window = info.paymentWindow {
            let now = Date()
            let deadlines = try await reservations.unpaid(in: deal)
            for d in confirmed where d.paidAt == nil {
                let due =
                    deadlines[d.orderId.rawValue].map { Date(timeIntervalSince1970: Double($0) / 1_000) }
                    ?? d.updatedAt.addingTimeInterval(window.seconds)
                if now.timeIntervalSince(due) > Self.expiryTolerance.seconds {
                    v.append(
                        "order \(d.orderId) is CONFIRMED and unpaid \(Int(now.timeIntervalSince(due))) s past its payment deadline"
                    )
                }
            }
        }
        for id in stored.keys where requests[id] == nil && !requests.isEmpty {
            v.append("order \(id) is in MongoDB but was never requested through Kafka")
        }
        for (user, units) in perUser where units > info.perCustomerLimit {
            v.append("user \(user) holds \(units) units, over the per-customer limit \(info.perCustomerLimit)")
        }
        report.duplicateDeliveries = requests.keys.reduce(0) { sum, id in
            sum + (log.events[id] ?? [:]).keys.reduce(0) { $0 + max(0, (log.deliveries[$1] ?? 1) - 1) }
        }

        // 5. Nothing waiting; the flag tells the truth.
        let pending = try await outbox.pending(limit: 100_000).documents.filter { $0.dealId == deal }
        report.outboxPending = pending.count
        if !pending.isEmpty { v.append("\(pending.count) decided orders still wait in the outbox for MongoDB") }
        if let stock = report.redisStock {
            if stock <= 0 && !report.soldOutFlag { v.append("no stock left but the sold-out flag is not set") }
            if stock > 0 && report.soldOutFlag { v.append("stock \(stock) remains but the sold-out flag is set") }
        }
        report.violations = v.sorted()
        return report
    }
}
