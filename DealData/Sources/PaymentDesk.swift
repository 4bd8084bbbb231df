public import Domain
public import Foundation

/// Records payments for orders of deals with a payment window: Redis first (atomically against the
/// deadline sweep, so a payment and an expiry never both win), then `paidAt` in MongoDB.
public struct PaymentDesk: Sendable {
    public let reservations: ReservationStore
    public let orders: OrderStore

    public init(reservations: ReservationStore, orders: OrderStore) {
        self.reservations = reservations
        self.orders = orders
    }

    public enum Result: Sendable, Equatable, CustomStringConvertible {
        /// Recorded now or before: the order keeps its units.
        case paid(OrderID, alreadyPaid: Bool)
        /// Too late: the order's units went back on sale (why: `reason`).
        case tooLate(OrderID, reason: String)
        /// Nothing to pay: no such order, not confirmed, or not persisted yet.
        case notPayable(OrderID, why: String)

        public var accepted: Bool { if case .paid = self { true } else { false } }

        public var description: String {
            switch self {
            case .paid(let id, let before): "\(id): PAID\(before ? " (recorded before)" : "")"
            case .tooLate(let id, let reason):
                "\(id): TOO_LATE — its units were released (\(reason)); refund the payment"
            case .notPayable(let id, let why): "\(id): NOT_PAYABLE — \(why)"
            }
        }
    }

    public func recordPayment(of order: OrderID, at now: Date = Date()) async throws -> Result {
        guard let document = try await orders.find(order) else {
            return .notPayable(order, why: "no such order in MongoDB (not decided yet, or unknown)")
        }
        guard document.status == .confirmed else {
            return .notPayable(
                order, why: "the order is \(document.status.rawValue)\(document.reason.map { " (\($0))" } ?? "")")
        }
        let reply = try await reservations.pay(order: order, deal: document.dealId, user: document.userId)
        switch reply.result {
        case .paid, .notDue:
            try await orders.markPaid(order, at: document.paidAt ?? now)
            return .paid(order, alreadyPaid: reply.result == .notDue && document.paidAt != nil)
        case .released:
            return .tooLate(order, reason: reply.released?.rawValue ?? "released")
        case .notHeld, .unknown, .wrongUser:
            return .notPayable(order, why: "Redis holds no reservation of it (\(reply.result.rawValue))")
        }
    }
}
