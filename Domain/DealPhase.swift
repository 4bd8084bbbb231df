/// Where a deal is in its life: `scheduled → preQueue → open ⇄ soldOut`, and `open | soldOut → ended`.
public enum DealPhase: String, Hashable, Sendable, Codable, CaseIterable {
    case scheduled = "SCHEDULED"
    case preQueue = "PRE_QUEUE"
    case open = "OPEN"
    case soldOut = "SOLD_OUT"
    case ended = "ENDED"

    /// Direct successors in the lifecycle. `soldOut → open` happens when stock is released
    /// while the window is still open; `ended` has no successors.
    public var successors: Set<DealPhase> {
        switch self {
        case .scheduled: [.preQueue]
        case .preQueue: [.open]
        case .open: [.soldOut, .ended]
        case .soldOut: [.open, .ended]
        case .ended: []
        }
    }

    public func canTransition(to next: DealPhase) -> Bool { successors.contains(next) }

    /// Whether `later` can follow `self` through zero or more lifecycle steps. Observers that
    /// sample the phase now and then may skip steps, but never go against this order.
    public func canReach(_ later: DealPhase) -> Bool {
        var seen: Set<DealPhase> = [self]
        var frontier = [self]
        while let phase = frontier.popLast() {
            for next in phase.successors where seen.insert(next).inserted { frontier.append(next) }
        }
        return seen.contains(later)
    }

    public var isTerminal: Bool { self == .ended }
}
