public import Domain
import Foundation
import Infrastructure

/// Compares a deal's Redis state with MongoDB (the system of record) and repairs Redis.
///
/// Units held = units of CONFIRMED orders in MongoDB + units Redis reserved for orders MongoDB does
/// not have yet (in flight). Expected stock = total stock − units held. The repair writes that stock,
/// the per-shopper holdings, the sold-out flag, the deal's info and a reservation record for every
/// order MongoDB has but Redis lost (so a redelivered request is a replay, never a second reservation),
/// and, for a deal with a payment window, the payment deadline of every unpaid confirmed order
/// (its confirmation time + the window).
public struct StockReconciler: Sendable {
    public let reservations: ReservationStore
    public let orders: OrderStore
    public let catalog: DealCatalog

    public init(reservations: ReservationStore, orders: OrderStore, catalog: DealCatalog) {
        self.reservations = reservations
        self.orders = orders
        self.catalog = catalog
    }

    public struct Plan: Sendable {
        public var deal: Deal
        public var redisStock: Int?
        public var expectedStock: Int
        public var expectedHeld: [String: Int]
        public var heldDifferences: [String]
        /// Records MongoDB implies that Redis lacks or contradicts.
        public var records: [String: ReservationRecord]
        public var inFlight: Int
        /// Payment deadlines (epoch ms) of unpaid confirmed orders that Redis lost.
        public var unpaid: [String: Int64] = [:]

        public var isConsistent: Bool {
            redisStock == expectedStock && heldDifferences.isEmpty && records.isEmpty && unpaid.isEmpty
        }

        public var text: String {
            var lines = [
                "deal \(deal.id): total stock \(deal.totalStock)",
                "  Redis stock    : \(redisStock.map(String.init) ?? "missing")",
                "  expected stock : \(expectedStock) (total − confirmed in MongoDB − \(inFlight) in flight)",
                "  holdings that differ : \(heldDifferences.count)",
                "  reservation records to restore : \(records.count)",
                "  payment deadlines to restore : \(unpaid.count)",
            ]
            for d in heldDifferences.prefix(20) { lines.append("    - \(d)") }
            lines.append(isConsistent ? "consistent" : "NOT consistent")
            return lines.joined(separator: "\n")
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case unknownDeal(DealID)
        case notSettled(DealID)

        public var description: String {
            switch self {
            case .unknownDeal(let d): "the catalog (MongoDB deals) has no deal \(d)"
            case .notSettled(let d): "orders of \(d) kept changing in MongoDB; stop the workers (or wait) and run again"
            }
        }
    }

    public func plan(_ id: DealID) async throws -> Plan {
        guard let deal = try await catalog.deal(id) else { throw Failure.unknownDeal(id) }
        let documents = try await orders.documents(of: id).compactMap(OrderDocument.init(bson:))
        let (records, _) = try await reservations.records(of: id)
        var held: [String: Int] = [:]
        var restore: [String: ReservationRecord] = [:]
        var inMongo = Set<String>()
        for d in documents {
            inMongo.insert(d.orderId.rawValue)
            let implied = Self.record(for: d)
            if d.status == .confirmed { held[d.userId.rawValue, default: 0] += d.quantity }
            let current = records[d.orderId.rawValue]
            if current?.outcome != implied.outcome || current?.holds != implied.holds {
                var fixed = implied
                fixed.published = false
                fixed.announcedSoldOut = current?.announcedSoldOut ?? false
                restore[d.orderId.rawValue] = fixed
            }
        }
        var inFlight = 0
        for (order, record) in records where record.holds > 0 && !inMongo.contains(order) {
            held[record.userId, default: 0] += record.holds
            inFlight += 1
        }
        var unpaid: [String: Int64] = [:]
        if let window = deal.paymentWindow {
            let known = try await reservations.unpaid(in: id)
            for d in documents where d.status == .confirmed && d.paidAt == nil && known[d.orderId.rawValue] == nil {
                unpaid[d.orderId.rawValue] = Timestamp.epochMilliseconds(d.updatedAt) + window.milliseconds
            }
        }
        let expected = deal.totalStock - held.values.reduce(0, +)
        let current = try await reservations.held(in: id)
        var differences: [String] = []
        for user in Set(held.keys).union(current.keys).sorted() where held[user] ?? 0 != current[user] ?? 0 {
            differences.append("user \(user): Redis \(current[user] ?? 0), expected \(held[user] ?? 0)")
        }
        return Plan(
            deal: deal, redisStock: try await reservations.stock(of: id), expectedStock: expected,
            expectedHeld: held, heldDifferences: differences, records: restore, inFlight: inFlight,
            unpaid: unpaid)
    }

    /// The reservation record an order implies (FAILED and CANCELLED orders had their units given
    /// back), with its decision time: a redelivery after the repair
    /// replays the stored decision, and publishes exactly what was published before.
    static func record(for d: OrderDocument) -> ReservationRecord {
        let decided = Timestamp.epochMilliseconds(d.decidedAt)
        let user = d.userId.rawValue
        switch d.status {
        case .pending, .confirmed:
            return ReservationRecord(outcome: .reserved, quantity: d.quantity, userId: user, decidedAtMs: decided)
        case .cancelled:
            let reason = d.reason.flatMap(CancellationReason.init(rawValue:))?.stockReleaseReason ?? .cancelled
            return ReservationRecord(
                outcome: .reserved, quantity: d.quantity, userId: user, released: reason,
                decidedAtMs: decided)
        case .failed:
            return ReservationRecord(
                outcome: .reserved, quantity: d.quantity, userId: user, released: .failed,
                decidedAtMs: decided)
        case .rejected:
            let outcome = d.reason.flatMap(ReservationOutcome.init(rawValue:)) ?? .dealClosed
            return ReservationRecord(outcome: outcome, quantity: d.quantity, userId: user, decidedAtMs: decided)
        }
    }

    /// Plans until MongoDB's orders stop changing for `settle` (in-flight batches land first), then
    /// writes the plan to Redis. Returns the plan that was applied.
    public func fix(_ id: DealID, settle: Duration = .seconds(2), attempts: Int = 10) async throws -> Plan {
        try await waitUntilSettled([id], settle: settle, attempts: attempts)
        let plan = try await plan(id)
        try await apply(plan)
        return plan
    }

    /// ``fix(_:settle:attempts:)`` for many deals at once (after a Redis restart, every open deal):
    /// waits until the orders of all of them have stopped changing for `settle`, then writes each
    /// plan that differs from Redis. Returns the plans written.
    public func fixAll(_ ids: [DealID], settle: Duration = .seconds(2), attempts: Int = 30) async throws -> [Plan] {
        try await waitUntilSettled(ids, settle: settle, attempts: attempts)
        var written: [Plan] = []
        for id in ids {
            let plan = try await plan(id)
            if plan.isConsistent { continue }
            try await apply(plan)
            written.append(plan)
        }
        return written
    }

    private func apply(_ plan: Plan) async throws {
        try await reservations.restore(
            deal: plan.deal, stock: plan.expectedStock, held: plan.expectedHeld, records: plan.records,
            unpaid: plan.unpaid)
    }

    /// Returns once the orders of every deal of `ids` were the same `settle` apart.
    private func waitUntilSettled(_ ids: [DealID], settle: Duration, attempts: Int) async throws {
        guard let first = ids.first else { return }
        var previous: [[String]] = []
        for id in ids { previous.append(try await fingerprint(id)) }
        for _ in 0..<attempts {
            try await Task.sleep(for: settle)
            var now: [[String]] = []
            for id in ids { now.append(try await fingerprint(id)) }
            if now == previous { return }
            previous = now
        }
        throw Failure.notSettled(first)
    }

    private func fingerprint(_ id: DealID) async throws -> [String] {
        try await orders.documents(of: id).compactMap(OrderDocument.init(bson:))
            .map { "\($0.orderId)|\($0.status.rawValue)" }.sorted()
    }
}
