import Domain
public import Foundation

/// What operators have set on one deal's sale (Redis, `wr:{deal:<id>}:room` fields `paused`,
/// `rateOverride`, `grant`, `closed`, and the window in `deal:{deal:<id>}:info`). Every gateway's
/// pacing step and every shopper call reads it from Redis, so every replica obeys the same setting
/// from its next call on.
public struct SaleControl: Sendable, Equatable {
    /// Nobody is admitted by pacing (places are kept; ``pendingAdmissions`` still go in).
    public var paused: Bool
    /// The admission rate operators set in place of the configured one (the lag factor still applies).
    public var admissionRateOverride: Double?
    /// Admissions granted by "admit N now" and not made yet.
    public var pendingAdmissions: Int
    public var closure: SaleClosure?
    public var startsAt: Date
    public var endsAt: Date
    /// The pre-queue draw has started or is done: the opening has happened and cannot move.
    public var opened: Bool

    public init(
        paused: Bool = false, admissionRateOverride: Double? = nil, pendingAdmissions: Int = 0,
        closure: SaleClosure? = nil, startsAt: Date, endsAt: Date, opened: Bool = false
    ) {
        self.paused = paused
        self.admissionRateOverride = admissionRateOverride
        self.pendingAdmissions = pendingAdmissions
        self.closure = closure
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.opened = opened
    }
}

/// How operators closed a room.
public enum SaleClosure: String, Sendable, Equatable {
    /// No newcomers; shoppers already in line keep their places and are served.
    case queue
    /// The room answers sold out to everyone from now on, whatever stock remains (orders already
    /// accepted are still decided by the worker).
    case soldOut = "soldout"
}

/// One operator action on a deal's sale.
public enum OperatorAction: Sendable, Equatable {
    case pause
    case resume
    /// `nil` goes back to the configured rate.
    case setAdmissionRate(Double?)
    /// Admits up to this many shoppers at the head of the line now, on top of pacing (paused or not).
    case admit(Int)
    case closeQueue
    case markSoldOut
    /// Undoes ``closeQueue`` and ``markSoldOut``.
    case reopen
    /// Moves the opening (and the end, by the same amount) before the sale has opened.
    case moveOpening(Date)

    /// The action's name in the API, the CLI and the audit.
    public var name: String {
        switch self {
        case .pause: "PAUSE"
        case .resume: "RESUME"
        case .setAdmissionRate: "SET_ADMISSION_RATE"
        case .admit: "ADMIT"
        case .closeQueue: "CLOSE_QUEUE"
        case .markSoldOut: "MARK_SOLD_OUT"
        case .reopen: "REOPEN"
        case .moveOpening: "MOVE_OPENING"
        }
    }

    public static let names = [
        "PAUSE", "RESUME", "SET_ADMISSION_RATE", "ADMIT", "CLOSE_QUEUE", "MARK_SOLD_OUT", "REOPEN", "MOVE_OPENING",
    ]

    /// The action from its name and value (a rate, a count, an RFC 3339 instant; none for the others).
    public static func parse(_ name: String, value: String?) throws(SaleControlRefusal) -> OperatorAction {
        let value = value?.trimmingCharacters(in: .whitespaces)
        func needed() throws(SaleControlRefusal) -> String {
            guard let value, !value.isEmpty else { throw SaleControlRefusal(.invalid, "\(name) needs a value") }
            return value
        }
        switch name {
        case "PAUSE": return .pause
        case "RESUME": return .resume
        case "CLOSE_QUEUE": return .closeQueue
        case "MARK_SOLD_OUT": return .markSoldOut
        case "REOPEN": return .reopen
        case "SET_ADMISSION_RATE":
            guard let value, !value.isEmpty, value != "default" else { return .setAdmissionRate(nil) }
            guard let rate = Double(value), rate.isFinite else {
                throw SaleControlRefusal(
                    .invalid, "the admission rate must be a number of shoppers per second or `default`")
            }
            return .setAdmissionRate(rate)
        case "ADMIT":
            guard let count = Int(try needed()) else {
                throw SaleControlRefusal(.invalid, "ADMIT needs a whole number")
            }
            return .admit(count)
        case "MOVE_OPENING":
            guard let date = Timestamp.parse(try needed()) else {
                throw SaleControlRefusal(.invalid, "MOVE_OPENING needs an RFC 3339 instant, e.g. 2026-12-24T10:00:00Z")
            }
            return .moveOpening(date)
        default:
            throw SaleControlRefusal(.invalid, "unknown action \(name); one of \(names.joined(separator: ", "))")
        }
    }
}

/// The limits an action must stay within (gateway configuration `operator`).
public struct OperatorGuardrails: Sendable, Equatable {
    /// Highest admission rate an operator may set, shoppers per second.
    public var maxAdmissionRate: Double
    /// Most shoppers one "admit N now" may let in.
    public var maxAdmitAtOnce: Int
    /// A moved opening is at least this far in the future (shoppers and autoscalers need notice).
    public var minimumOpeningLead: Duration
    /// A moved opening is at most this far from the current one.
    public var maximumOpeningMove: Duration

    public init(
        maxAdmissionRate: Double = 2_000, maxAdmitAtOnce: Int = 1_000, minimumOpeningLead: Duration = .seconds(10),
        maximumOpeningMove: Duration = .seconds(7 * 86_400)
    ) {
        self.maxAdmissionRate = maxAdmissionRate
        self.maxAdmitAtOnce = maxAdmitAtOnce
        self.minimumOpeningLead = minimumOpeningLead
        self.maximumOpeningMove = maximumOpeningMove
    }
}

/// An action refused, and why; nothing was changed.
public struct SaleControlRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The value is malformed or outside the guardrails.
        case invalid
        /// The deal has opened: its opening can no longer move.
        case opened
        case unknownDeal
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// An action's effect: the controls before and after (a preview, or what was applied).
public struct SaleControlChange: Sendable, Equatable {
    public var before: SaleControl
    public var after: SaleControl

    public init(before: SaleControl, after: SaleControl) {
        self.before = before
        self.after = after
    }
}

extension SaleControl {
    /// The controls after `action`, or why it is refused: the rule that the Redis function applies
    /// (``SaleControlStore/apply(_:to:guardrails:)``), checked here first so a preview and a refusal
    /// need no write.
    public func applying(_ action: OperatorAction, now: Date, guardrails: OperatorGuardrails) throws(SaleControlRefusal)
        -> SaleControl
    {
        var next = self
        switch action {
        case .pause: next.paused = true
        case .resume: next.paused = false
        case .setAdmissionRate(let rate):
            if let rate, !(rate > 0 && rate <= guardrails.maxAdmissionRate) {
                throw SaleControlRefusal(
                    .invalid,
                    "the admission rate must be above 0 and at most \(guardrails.maxAdmissionRate) per second (use PAUSE to stop)"
                )
            }
            next.admissionRateOverride = rate
        case .admit(let count):
            guard (1...max(1, guardrails.maxAdmitAtOnce)).contains(count) else {
                throw SaleControlRefusal(.invalid, "ADMIT takes 1 to \(guardrails.maxAdmitAtOnce) shoppers at once")
            }
            next.pendingAdmissions += count
        case .closeQueue: next.closure = .queue
        case .markSoldOut: next.closure = .soldOut
        case .reopen: next.closure = nil
        case .moveOpening(let opening):
            if opened || now >= startsAt {
                throw SaleControlRefusal(.opened, "the sale opened at \(Timestamp.format(startsAt)): it cannot move")
            }
            guard opening >= now.addingTimeInterval(guardrails.minimumOpeningLead.seconds) else {
                throw SaleControlRefusal(
                    .invalid, "the new opening must be at least \(guardrails.minimumOpeningLead) from now")
            }
            guard abs(opening.timeIntervalSince(startsAt)) <= guardrails.maximumOpeningMove.seconds else {
                throw SaleControlRefusal(
                    .invalid, "an opening moves by at most \(guardrails.maximumOpeningMove) at once")
            }
            // Whole milliseconds, as Redis and MongoDB keep them.
            let milliseconds = (opening.timeIntervalSince1970 * 1_000).rounded()
            next.startsAt = Date(timeIntervalSince1970: milliseconds / 1_000)
            next.endsAt = endsAt.addingTimeInterval(next.startsAt.timeIntervalSince(startsAt))
        }
        return next
    }
}
