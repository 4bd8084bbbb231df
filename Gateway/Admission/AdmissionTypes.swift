public import Domain
public import Foundation

/// A deal's hot state as Redis holds it (keys `deal:{deal:<id>}:*`, see docs/admission.md).
public struct DealState: Sendable, Equatable {
    public var dealId: DealID
    public var startsAt: Date
    public var endsAt: Date
    public var totalStock: Int
    /// Units not yet reserved. Only the order worker decrements it; released stock comes back.
    public var remaining: Int
    public var perCustomerLimit: Int
    /// Set by the worker when the stock reaches zero, cleared when stock is released.
    public var soldOutFlag: Bool

    public init(
        dealId: DealID, startsAt: Date, endsAt: Date, totalStock: Int, remaining: Int,
        perCustomerLimit: Int, soldOutFlag: Bool
    ) {
        self.dealId = dealId
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.totalStock = totalStock
        self.remaining = remaining
        self.perCustomerLimit = perCustomerLimit
        self.soldOutFlag = soldOutFlag
    }

    public var isSoldOut: Bool { soldOutFlag || remaining <= 0 }

    /// The phase at `now`: the domain's rule (`Deal.phase`) on this state.
    public func phase(at now: Date, preQueueWindow: Duration) -> DealPhase {
        if now >= endsAt { return .ended }
        if now >= startsAt { return isSoldOut ? .soldOut : .open }
        return now >= startsAt.addingTimeInterval(-max(0, preQueueWindow.seconds)) ? .preQueue : .scheduled
    }
}

/// How one deal's waiting room admits shoppers. Defaults suit the local demo; operators set them
/// in the gateway configuration (docs/configuration.md).
public struct WaitingRoomSettings: Sendable, Equatable {
    /// Shoppers admitted per second while stock remains and the back end keeps up.
    public var admissionRatePerSecond: Double
    /// Admissions that may be granted at once after a pause (token-bucket capacity of the pacer).
    public var admissionBurst: Int
    /// Passes issued and neither used nor expired, at most.
    public var maxActivePasses: Int
    /// How long a pass may be used after it is issued.
    public var passLifetime: Duration
    /// How long before `startsAt` the pre-queue opens.
    public var preQueueWindow: Duration
    /// A waiting shopper who has not polled for this long loses the place (abandonment).
    public var abandonAfter: Duration
    /// Order-worker lag (messages) above which admission slows down.
    public var lagThreshold: Int
    /// Slowest pace under lag, as a fraction of `admissionRatePerSecond`.
    public var minimumLagFactor: Double
    /// Most pre-queue entrants shuffled per Redis call (bounds how long one call blocks Redis).
    public var drawChunk: Int

    public init(
        admissionRatePerSecond: Double = 200, admissionBurst: Int = 200, maxActivePasses: Int = 1_000,
        passLifetime: Duration = .seconds(120), preQueueWindow: Duration = .seconds(600),
        abandonAfter: Duration = .seconds(60), lagThreshold: Int = 5_000, minimumLagFactor: Double = 0.1,
        drawChunk: Int = 2_000
    ) {
        self.admissionRatePerSecond = admissionRatePerSecond
        self.admissionBurst = admissionBurst
        self.maxActivePasses = maxActivePasses
        self.passLifetime = passLifetime
        self.preQueueWindow = preQueueWindow
        self.abandonAfter = abandonAfter
        self.lagThreshold = lagThreshold
        self.minimumLagFactor = minimumLagFactor
        self.drawChunk = drawChunk
    }

    /// The pace factor for a measured worker lag: 1 up to the threshold, then `threshold / lag`,
    /// never below `minimumLagFactor`. `nil` lag (unknown) keeps full pace.
    public func lagFactor(lag: Int?) -> Double {
        guard let lag, lag > lagThreshold, lagThreshold > 0 else { return 1 }
        return max(minimumLagFactor, Double(lagThreshold) / Double(lag))
    }
}

/// A place in a deal's waiting room.
public struct WaitingTicket: Sendable, Equatable {
    public var ticketId: TicketID
    public var dealId: DealID
    public var userId: UserID
    public var joinedAt: Date
    /// Joined before the opening: the place is decided by the draw.
    public var preQueue: Bool

    public init(ticketId: TicketID, dealId: DealID, userId: UserID, joinedAt: Date, preQueue: Bool) {
        self.ticketId = ticketId
        self.dealId = dealId
        self.userId = userId
        self.joinedAt = joinedAt
        self.preQueue = preQueue
    }
}

public enum JoinOutcome: Sendable, Equatable {
    /// A new place.
    case joined(WaitingTicket)
    /// The shopper already had a place in this room: the same ticket (one place per user).
    case alreadyJoined(WaitingTicket)
    case notOpenYet(opensAt: Date)
    case soldOut
    /// An operator closed the line to newcomers (places already taken are kept and served).
    case queueClosed
    case ended
    case unknownDeal
}

/// A pass handed to an admitted shopper: the signed token and what it says.
public struct IssuedPass: Sendable, Equatable {
    public var pass: AdmissionPass
    public var token: String

    public init(pass: AdmissionPass, token: String) {
        self.pass = pass
        self.token = token
    }
}

/// What a ticket holder sees when polling.
public enum AdmissionStatus: Sendable, Equatable {
    /// Joined before the opening; the draw assigns places at `drawAt`.
    case preQueue(drawAt: Date, entrants: Int)
    /// `position` is 1 for the next shopper to be admitted. `ratePerSecond` is the measured
    /// admission rate; `eta` is `position / rate` when the rate is known.
    case waiting(position: Int, ratePerSecond: Double, eta: Duration?)
    /// In line while an operator has paused admission: the place is kept, nobody is admitted.
    case paused(position: Int)
    case admitted(IssuedPass)
    /// The pass was used for this order.
    case passUsed(orderId: OrderID)
    /// The pass or the place expired unused; join again for a new place at the back.
    case expired
    case soldOut
    case ended
    /// No such ticket for this user.
    case unknownTicket
}

/// The public record of a deal's pre-queue draw (commit–reveal).
public struct DrawRecord: Sendable, Equatable {
    /// Hex SHA-256 of the seed's UTF-8 bytes, published before the opening.
    public var seedCommitment: String
    /// Revealed once the draw is done.
    public var seed: String?
    public var entrants: Int
    public var drawnAt: Date?

    public init(seedCommitment: String, seed: String?, entrants: Int, drawnAt: Date?) {
        self.seedCommitment = seedCommitment
        self.seed = seed
        self.entrants = entrants
        self.drawnAt = drawnAt
    }
}

/// Result of binding a pass to an order (one Redis call, atomic).
public enum PassConsumption: Sendable, Equatable {
    /// The pass was free and is now bound to this order.
    case accepted
    /// Already bound to this very order (same idempotency key, same quantity): accept again. `request`
    /// is the OrderRequested stored at the first binding (nil if none was stored), to be published
    /// again byte for byte.
    case alreadyAccepted(request: [UInt8]?)
    /// Bound to another order.
    case used(by: OrderID)
    /// Bound to this order id with a different quantity: the idempotency key was reused.
    case conflictingRetry(quantity: Int)
    /// Not issued by this room, or expired and reclaimed.
    case unknown
    case expired
}

/// One pacing step's result, for metrics and tests.
public struct AdvanceResult: Sendable, Equatable {
    public var admitted: Int
    public var waiting: Int
    public var activePasses: Int
    public var reclaimedPasses: Int
    public var ratePerSecond: Double

    public init(admitted: Int, waiting: Int, activePasses: Int, reclaimedPasses: Int, ratePerSecond: Double) {
        self.admitted = admitted
        self.waiting = waiting
        self.activePasses = activePasses
        self.reclaimedPasses = reclaimedPasses
        self.ratePerSecond = ratePerSecond
    }
}
