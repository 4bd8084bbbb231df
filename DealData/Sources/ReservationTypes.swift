public import Domain
import Infrastructure

/// The Redis keys the order worker's functions take, in order: the deal's info, stock and sold-out
/// flag (shared with the gateway, see docs/admission.md) and the worker's own keys.
public struct OrderKeys: Sendable, Hashable {
    public let deal: DealID
    private let admission: AdmissionKeys

    public init(_ deal: DealID) {
        self.deal = deal
        self.admission = AdmissionKeys(deal)
    }

    public var info: String { admission.info }
    public var stock: String { admission.stock }
    public var soldOut: String { admission.soldOut }
    /// Hash: order id → reservation record (see ``ReservationFunctions``).
    public var reservations: String { "ord:\(admission.hashTag):res" }
    /// Hash: user id → units the user holds (reserved and not released), for the per-customer limit.
    public var held: String { "ord:\(admission.hashTag):held" }
    /// Sorted set: order id → payment deadline (epoch ms), for deals with a payment window.
    public var unpaid: String { "ord:\(admission.hashTag):unpaid" }
    /// Set: orders released for want of payment whose CANCELLED document and event are not recorded yet.
    public var expired: String { "ord:\(admission.hashTag):expired" }
    /// Sorted set (the gateway's): orders accepted and not yet decided (see ``AdmissionKeys/undecided``).
    public var undecided: String { admission.undecided }
    /// Sorted set: orders whose outcome is published but not yet read back from the log, scored by
    /// when they were published (or last re-published), epoch ms.
    public var unseen: String { "ord:\(admission.hashTag):unseen" }
    /// Hash (the gateway's): order id → the accepted request as published (see ``AdmissionKeys/requests``).
    public var requests: String { admission.requests }

    public var all: [String] {
        [info, stock, soldOut, reservations, held, unpaid, expired, undecided, unseen, requests]
    }

    /// Set (not under a deal's hash tag): deals that may have reservations due for payment
    /// (the worker's `expiringDealsKey` setting).
    public static let expiringDeals = "flashdeal:orders:expiring-deals"
}

/// What a reservation attempt found: the first answer for this order id.
public enum ReservationResult: Sendable, Hashable {
    case decided(ReservationOutcome)
    /// Redis does not hold the deal (never seeded, or its data was lost): nothing was written.
    case noState
    /// Redis started (or its library was loaded) since the open deals' stock was last rebuilt from
    /// MongoDB: its stock may lack the last writes before a crash, so nothing was written.
    case unverified
}

/// One order's reservation as Redis records it.
public struct ReservationRecord: Sendable, Hashable {
    public var outcome: ReservationOutcome
    public var quantity: Int
    public var userId: String
    /// This reservation took the last unit.
    public var announcedSoldOut: Bool
    public var released: StockReleaseReason?
    /// The outcome is persisted and its events acknowledged.
    public var published: Bool
    /// When the outcome was decided (Redis time, epoch ms); 0 for records written before it was kept.
    public var decidedAtMs: Int64

    public init(
        outcome: ReservationOutcome, quantity: Int, userId: String, announcedSoldOut: Bool = false,
        released: StockReleaseReason? = nil, published: Bool = false, decidedAtMs: Int64 = 0
    ) {
        self.outcome = outcome
        self.quantity = quantity
        self.userId = userId
        self.announcedSoldOut = announcedSoldOut
        self.released = released
        self.published = published
        self.decidedAtMs = decidedAtMs
    }

    /// Units this order keeps off the shelf.
    public var holds: Int { outcome == .reserved && released == nil ? quantity : 0 }

    /// `outcome|quantity|userId|announced|released|published|decidedAtMs`.
    public var packed: String {
        [
            outcome.rawValue, String(quantity), userId, announcedSoldOut ? "1" : "0", released?.rawValue ?? "",
            published ? "1" : "0", String(decidedAtMs),
        ].joined(separator: "|")
    }

    /// Reads a record; six-field records (written before `decidedAtMs` was kept) read with 0.
    public init?(packed: String) {
        let parts = packed.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6 || parts.count == 7, let outcome = ReservationOutcome(rawValue: parts[0]),
            let quantity = Int(parts[1])
        else { return nil }
        var decidedAtMs: Int64 = 0
        if parts.count == 7 {
            guard let value = Int64(parts[6]), value >= 0 else { return nil }
            decidedAtMs = value
        }
        let released: StockReleaseReason?
        if parts[4].isEmpty {
            released = nil
        } else {
            guard let reason = StockReleaseReason(rawValue: parts[4]) else { return nil }
            released = reason
        }
        self.init(
            outcome: outcome, quantity: quantity, userId: parts[2], announcedSoldOut: parts[3] == "1",
            released: released, published: parts[5] == "1", decidedAtMs: decidedAtMs)
    }
}

/// The answer to one ``ReservationStore/reserve(_:grace:)`` request.
public struct ReservationReply: Sendable, Hashable {
    public var result: ReservationResult
    /// The order id had an answer already (a redelivery or a retried request).
    public var replay: Bool
    public var announcedSoldOut: Bool
    /// Units left after this call.
    public var remaining: Int
    public var released: StockReleaseReason?
    public var published: Bool
    /// When the deal has a payment window: the reservation's payment deadline (epoch ms).
    public var paymentDueMs: Int64 = 0
    /// When the outcome was first decided (Redis time, epoch ms; 0 when unknown: no state, or a
    /// record older than this field). Every replay gets the same value.
    public var decidedAtMs: Int64 = 0

    public init(
        result: ReservationResult, replay: Bool, announcedSoldOut: Bool, remaining: Int,
        released: StockReleaseReason?, published: Bool, paymentDueMs: Int64 = 0, decidedAtMs: Int64 = 0
    ) {
        self.result = result
        self.replay = replay
        self.announcedSoldOut = announcedSoldOut
        self.remaining = remaining
        self.released = released
        self.published = published
        self.paymentDueMs = paymentDueMs
        self.decidedAtMs = decidedAtMs
    }
}

/// The answer to ``ReservationStore/release(order:deal:user:reason:)``.
public enum ReleaseResult: String, Sendable, Hashable {
    /// Units went back now.
    case released = "RELEASED"
    case alreadyReleased = "ALREADY_RELEASED"
    /// The order was turned away: it holds nothing.
    case notHeld = "NOT_HELD"
    /// Redis has no reservation for this order.
    case unknown = "UNKNOWN"
    case wrongUser = "WRONG_USER"
}

public struct ReleaseReply: Sendable, Hashable {
    public var result: ReleaseResult
    public var quantity: Int
    public var remaining: Int
    public var userId: String

    public init(result: ReleaseResult, quantity: Int, remaining: Int, userId: String) {
        self.result = result
        self.quantity = quantity
        self.remaining = remaining
        self.userId = userId
    }
}

/// The answer to ``ReservationStore/pay(order:deal:user:)``.
public enum PaymentResult: String, Sendable, Hashable {
    /// Recorded now: the order keeps its units.
    case paid = "PAID"
    /// Nothing was due: paid before, or the deal has no payment window.
    case notDue = "NOT_DUE"
    /// Too late: the units went back (``PaymentReply/released`` says why).
    case released = "RELEASED"
    case notHeld = "NOT_HELD"
    case unknown = "UNKNOWN"
    case wrongUser = "WRONG_USER"
}

public struct PaymentReply: Sendable, Hashable {
    public var result: PaymentResult
    public var released: StockReleaseReason?
}

/// A reservation released for want of payment, whose cancellation the worker records.
public struct ExpiredReservation: Sendable, Hashable {
    public var orderId: OrderID
    public var dealId: DealID
    public var userId: UserID
    public var quantity: Int

    public init(orderId: OrderID, dealId: DealID, userId: UserID, quantity: Int) {
        self.orderId = orderId
        self.dealId = dealId
        self.userId = userId
        self.quantity = quantity
    }
}

/// What one ``ReservationStore/expire(deal:limit:endGrace:)`` call found.
public struct ExpirySweep: Sendable {
    public var expired: [ExpiredReservation]
    /// Reservations still waiting for payment.
    public var unpaid: Int
    /// Nothing due, nothing parked, and the deal takes no more orders: it can leave the sweep.
    public var finished: Bool

    public init(expired: [ExpiredReservation], unpaid: Int, finished: Bool) {
        self.expired = expired
        self.unpaid = unpaid
        self.finished = finished
    }
}
