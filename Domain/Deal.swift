public import Foundation

/// A limited-stock sale of one product at one price during a time window.
///
/// A deal's *phase* is not stored: it follows from the clock and the remaining stock
/// (see `phase(at:remaining:preQueueWindow:)`). Instants are kept at millisecond precision.
public struct Deal: Hashable, Sendable {
    public static var maximumTitleLength: Int { 200 }

    public let id: DealID
    public let productId: ProductID
    public let title: String
    public let price: Money
    public let startsAt: Date
    public let endsAt: Date
    public let totalStock: Int
    /// Most units one shopper may hold (reserved or confirmed) at once.
    public let perCustomerLimit: Int
    /// How long a confirmed order keeps its units unpaid: past it, the order is CANCELLED (EXPIRED)
    /// and its units go back on sale. `nil`: confirmed orders keep their units until cancelled.
    public let paymentWindow: Duration?

    public static var maximumPaymentWindow: Duration { .seconds(7 * 24 * 3_600) }

    public init(
        id: DealID, productId: ProductID, title: String, price: Money,
        startsAt: Date, endsAt: Date, totalStock: Int, perCustomerLimit: Int, paymentWindow: Duration? = nil
    ) throws(DealValidationError) {
        let title = title.trimmingWhitespace()
        let startsAt = Timestamp.normalized(startsAt)
        let endsAt = Timestamp.normalized(endsAt)
        guard !title.isEmpty else { throw .emptyTitle }
        guard title.count <= Self.maximumTitleLength else {
            throw .titleTooLong(length: title.count, maximum: Self.maximumTitleLength)
        }
        guard price.amountMinor >= 0 else { throw .negativePrice(price.amountMinor) }
        guard totalStock > 0 else { throw .nonPositiveStock(totalStock) }
        guard perCustomerLimit >= 1 else { throw .perCustomerLimitBelowOne(perCustomerLimit) }
        guard endsAt > startsAt else { throw .endsNotAfterStart(startsAt: startsAt, endsAt: endsAt) }
        if let window = paymentWindow, window < .seconds(1) || window > Self.maximumPaymentWindow {
            throw .paymentWindowOutOfRange(seconds: window.seconds, maximum: Self.maximumPaymentWindow.seconds)
        }
        self.id = id
        self.productId = productId
        self.title = title
        self.price = price
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.totalStock = totalStock
        self.perCustomerLimit = perCustomerLimit
        self.paymentWindow = paymentWindow.map { .milliseconds($0.milliseconds) }
    }

    /// The phase at `now`. The pre-queue opens `preQueueWindow` before `startsAt`; the window
    /// `[startsAt, endsAt)` is open or sold out depending on `remaining`; from `endsAt` on the
    /// deal has ended whatever the stock.
    public func phase(at now: Date, remaining: Int, preQueueWindow: Duration) -> DealPhase {
        if now >= endsAt { return .ended }
        if now >= startsAt { return remaining > 0 ? .open : .soldOut }
        let lead = max(0, preQueueWindow.seconds)
        if now >= startsAt.addingTimeInterval(-lead) { return .preQueue }
        return .scheduled
    }

    /// Events announcing an observed phase change: `DealOpened` on entering `open`,
    /// `DealSoldOut` on entering `soldOut`, nothing otherwise. The event id is derived from the
    /// deal, the event type and `at` (millisecond), so re-publishing the same observation is a no-op.
    public func phaseChangeEvents(from old: DealPhase, to new: DealPhase, at: Date) -> [DomainEvent] {
        guard old != new else { return [] }
        let discriminator = String(Timestamp.epochMilliseconds(at))
        switch new {
        case .open:
            let id = EventID.derive(type: .dealOpened, subject: self.id.rawValue, discriminator: discriminator)
            return [.dealOpened(DealOpened(eventId: id, occurredAt: at, dealId: self.id))]
        case .soldOut:
            let id = EventID.derive(type: .dealSoldOut, subject: self.id.rawValue, discriminator: discriminator)
            return [.dealSoldOut(DealSoldOut(eventId: id, occurredAt: at, dealId: self.id))]
        case .scheduled, .preQueue, .ended:
            return []
        }
    }
}
