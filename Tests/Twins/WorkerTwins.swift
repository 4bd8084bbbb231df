public import DealData
public import Domain
import Foundation
public import Infrastructure
public import OrderWorker
import Synchronization

// In-memory implementations of the worker's ports (see `OrderWorker/Sources/Ports/WorkerPorts.swift`).

/// Stock reservations in memory, with the Redis functions' rules (``ReservationFunctions``): the
/// first answer for an order id is kept and replayed; DEAL_CLOSED after the end (plus grace), then
/// LIMIT_EXCEEDED, then SOLD_OUT; the reservation that takes the last unit announces the sold-out;
/// a release gives units back once. Payment windows, expiry and the expiring-deal set as well.
public final class InMemoryReservations: StockReservations, Sendable {
    private struct Record {
        var outcome: ReservationOutcome
        var quantity: Int
        var user: UserID
        var announced: Bool
        var released: StockReleaseReason?
        var published: Bool
        var decidedAtMs: Int64
    }
    private struct DealBook {
        var endsAt: Date
        var limit: Int
        var paymentWindow: Duration?
        var stock: Int
        var soldOutFlag = false
        var held: [UserID: Int] = [:]
        var records: [OrderID: Record] = [:]
        var unpaid: [OrderID: Int64] = [:]
        var expired: Set<OrderID> = []
    }
    private struct State {
        var deals: [DealID: DealBook] = [:]
        var sets: [String: Set<String>] = [:]
        var down = false
    }
    private let state = Mutex(State())
    private let clock: any WallClock

    public init(clock: any WallClock = SystemClock()) { self.clock = clock }

    /// What seeding a deal's state does: its end, limit, payment window and whole stock.
    public func seed(_ deal: Deal) {
        state.withLock {
            $0.deals[deal.id] = DealBook(
                endsAt: deal.endsAt, limit: deal.perCustomerLimit,
                paymentWindow: deal.paymentWindow, stock: deal.totalStock)
        }
    }
    /// Forgets a deal's state (Redis lost it).
    public func drop(_ deal: DealID) { _ = state.withLock { $0.deals.removeValue(forKey: deal) } }
    public func setDown(_ down: Bool) { state.withLock { $0.down = down } }
    public func stock(of deal: DealID) -> Int? { state.withLock { $0.deals[deal]?.stock } }
    public func isSoldOutFlagged(_ deal: DealID) -> Bool { state.withLock { $0.deals[deal]?.soldOutFlag ?? false } }
    public func held(_ user: UserID, in deal: DealID) -> Int { state.withLock { $0.deals[deal]?.held[user] ?? 0 } }
    public func isPublished(_ order: OrderID, in deal: DealID) -> Bool {
        state.withLock { $0.deals[deal]?.records[order]?.published ?? false }
    }

    private func locked<T>(_ body: (inout State) throws -> T) throws -> T {
        try state.withLock { state in
            if state.down { throw TwinUnavailable("the reservation store") }
            return try body(&state)
        }
    }

    private var nowMs: Int64 { Int64((clock.now.timeIntervalSince1970 * 1_000).rounded(.down)) }

    public func reserve(_ requests: [ReservationRequest], grace: Duration) async throws -> [ReservationReply] {
        let now = nowMs
        return try locked { state in
            requests.map { request in
                guard var book = state.deals[request.dealId] else {
                    return ReservationReply(
                        result: .noState, replay: false, announcedSoldOut: false, remaining: 0,
                        released: nil, published: false)
                }
                defer { state.deals[request.dealId] = book }
                if let record = book.records[request.orderId] {
                    return ReservationReply(
                        result: .decided(record.outcome), replay: true, announcedSoldOut: record.announced,
                        remaining: book.stock, released: record.released, published: record.published,
                        paymentDueMs: book.unpaid[request.orderId] ?? 0, decidedAtMs: record.decidedAtMs)
                }
                var outcome = ReservationOutcome.reserved
                var announced = false
                var due: Int64 = 0
                let endMs = Int64(book.endsAt.timeIntervalSince1970 * 1_000) + Int64(grace.seconds * 1_000)
                let held = book.held[request.userId] ?? 0
                if now >= endMs {
                    outcome = .dealClosed
                } else if held + request.quantity > book.limit {
                    outcome = .limitExceeded
                } else if book.stock < request.quantity {
                    outcome = .soldOut
                    if book.stock <= 0 && !book.soldOutFlag {
                        book.soldOutFlag = true
                        announced = true
                    }
                } else {
                    book.stock -= request.quantity
                    book.held[request.userId] = held + request.quantity
                    if book.stock <= 0 && !book.soldOutFlag {
                        book.soldOutFlag = true
                        announced = true
                    }
                    if let window = book.paymentWindow {
                        due = now + Int64(window.seconds * 1_000)
                        book.unpaid[request.orderId] = due
                    }
                }
                book.records[request.orderId] = Record(
                    outcome: outcome, quantity: request.quantity, user: request.userId,
                    announced: announced, released: nil, published: false,
                    decidedAtMs: now)
                return ReservationReply(
                    result: .decided(outcome), replay: false, announcedSoldOut: announced,
                    remaining: book.stock, released: nil, published: false, paymentDueMs: due,
                    decidedAtMs: now)
            }
        }
    }

    private static func giveBack(_ book: inout DealBook, _ order: OrderID, _ reason: StockReleaseReason) {
        guard var record = book.records[order] else { return }
        book.stock += record.quantity
        let held = (book.held[record.user] ?? 0) - record.quantity
        book.held[record.user] = held > 0 ? held : nil
        if book.stock > 0 { book.soldOutFlag = false }
        record.released = reason
        book.records[order] = record
        book.unpaid[order] = nil
    }

    public func release(order: OrderID, deal: DealID, user: UserID?, reason: StockReleaseReason) async throws
        -> ReleaseReply
    {
        try locked { state in
            guard var book = state.deals[deal], let record = book.records[order] else {
                return ReleaseReply(result: .unknown, quantity: 0, remaining: state.deals[deal]?.stock ?? 0, userId: "")
            }
            let owner = record.user.rawValue
            if let user, user != record.user {
                return ReleaseReply(result: .wrongUser, quantity: record.quantity, remaining: book.stock, userId: owner)
            }
            if record.outcome != .reserved {
                return ReleaseReply(result: .notHeld, quantity: record.quantity, remaining: book.stock, userId: owner)
            }
            if record.released != nil {
                return ReleaseReply(
                    result: .alreadyReleased, quantity: record.quantity, remaining: book.stock, userId: owner)
            }
            Self.giveBack(&book, order, reason)
            state.deals[deal] = book
            return ReleaseReply(result: .released, quantity: record.quantity, remaining: book.stock, userId: owner)
        }
    }

    public func markPublished(_ orders: [OrderID], deal: DealID) async throws {
        try locked { state in
            for order in orders { state.deals[deal]?.records[order]?.published = true }
        }
    }

    public func expire(deal: DealID, limit: Int, endGrace: Duration) async throws -> ExpirySweep {
        let now = nowMs
        return try locked { state in
            guard var book = state.deals[deal] else { return ExpirySweep(expired: [], unpaid: 0, finished: true) }
            for (order, dueMs) in book.unpaid.sorted(by: { $0.value < $1.value }).prefix(limit) where dueMs <= now {
                guard let record = book.records[order], record.outcome == .reserved, record.released == nil else {
                    book.unpaid[order] = nil
                    continue
                }
                if record.published {
                    Self.giveBack(&book, order, .expired)
                    book.expired.insert(order)
                }
            }
            let parked = book.expired.sorted { $0.rawValue < $1.rawValue }.prefix(limit).compactMap { order in
                book.records[order].map {
                    ExpiredReservation(orderId: order, dealId: deal, userId: $0.user, quantity: $0.quantity)
                }
            }
            state.deals[deal] = book
            let endMs = Int64(book.endsAt.timeIntervalSince1970 * 1_000) + Int64(endGrace.seconds * 1_000)
            return ExpirySweep(
                expired: parked, unpaid: book.unpaid.count,
                finished: book.unpaid.isEmpty && book.expired.isEmpty && now >= endMs)
        }
    }

    public func expiredDone(_ orders: [OrderID], deal: DealID) async throws {
        try locked { state in
            for order in orders { state.deals[deal]?.expired.remove(order) }
        }
    }

    public func addExpiringDeals(_ deals: [DealID], key: String) async throws {
        try locked { state in
            for deal in deals { state.sets[key, default: []].insert(deal.rawValue) }
        }
    }

    public func expiringDeals(key: String) async throws -> [String] {
        try locked { Array($0.sets[key] ?? []).sorted() }
    }

    public func removeExpiringDeal(_ name: String, key: String) async throws {
        try locked { state in _ = state.sets[key]?.remove(name) }
    }
}

/// The outbox in memory.
public final class InMemoryOutbox: OutcomeOutbox, Sendable {
    private let state = Mutex<[OrderID: OrderDocument]>([:])
    public init() {}
    public func add(_ documents: [OrderDocument]) async throws {
        state.withLock { for d in documents { $0[d.orderId] = d } }
    }
    public func documents(_ ids: [OrderID]) async throws -> [OrderDocument] {
        state.withLock { stored in ids.compactMap { stored[$0] } }
    }
    public var pending: [OrderDocument] { state.withLock { Array($0.values) } }
}

/// The event log in memory: every appended message, in order. `failNext(n)` makes the next n appends fail.
public final class RecordingEventLog: EventLog, Sendable {
    public struct Message: Sendable {
        public var topic: String
        public var key: String?
        public var value: [UInt8]
        public var headers: [KafkaHeader]
        public var event: DomainEvent? { try? DomainEvent.decode(Data(value)) }
    }
    private let state = Mutex<(messages: [Message], failures: Int)>(([], 0))
    public init() {}

    public func append(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader]) async throws {
        try state.withLock { state in
            if state.failures > 0 {
                state.failures -= 1
                throw TwinUnavailable("the event log")
            }
            state.messages.append(
                Message(
                    topic: topic, key: key.map { String(decoding: $0, as: UTF8.self) },
                    value: value, headers: headers))
        }
    }

    public func failNext(_ count: Int) { state.withLock { $0.failures = count } }
    public var messages: [Message] { state.withLock { $0.messages } }
    public func events(on topic: String) -> [DomainEvent] { messages.filter { $0.topic == topic }.compactMap(\.event) }
}

extension InMemoryDeals: DealLookup {}

/// The rebuild after a Redis start, for the in-memory reservations (which never restart, so never
/// answer UNVERIFIED): counts the calls, so a test sees that none was needed.
public final class CountingStockRebuild: StockRebuild, Sendable {
    private let count = Atomic<Int>(0)

    public init() {}

    public var calls: Int { count.load(ordering: .relaxed) }

    public func rebuildAfterRestart() async throws { count.add(1, ordering: .relaxed) }
}
