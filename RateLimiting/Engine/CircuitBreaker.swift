import Synchronization

/// Stops waiting on a Redis that keeps failing: after `threshold` consecutive failures the breaker
/// opens for `openDuration` (decisions apply the fail modes at once), then lets one probe through;
/// the probe's success closes it again.
final class CircuitBreaker: Sendable {
    enum State: Equatable {
        case closed(failures: Int)
        case open(until: ContinuousClock.Instant)
        case halfOpen
    }

    private let state = Mutex(State.closed(failures: 0))
    private let threshold: Int
    private let openDuration: Duration

    init(threshold: Int, openDuration: Duration) {
        self.threshold = max(1, threshold)
        self.openDuration = openDuration
    }

    /// Whether a call to Redis may be made now. Moves an expired open breaker to half-open and lets
    /// exactly one caller probe.
    func allowsCall(at now: ContinuousClock.Instant) -> Bool {
        state.withLock { s in
            switch s {
            case .closed: return true
            case .halfOpen: return false
            case .open(let until):
                guard now >= until else { return false }
                s = .halfOpen
                return true
            }
        }
    }

    /// - Returns: `true` when this success closed an open (half-open) breaker.
    @discardableResult
    func recordSuccess() -> Bool {
        state.withLock { s in
            defer { s = .closed(failures: 0) }
            if case .closed = s { return false }
            return true
        }
    }

    /// - Returns: `true` when this failure opened the breaker.
    @discardableResult
    func recordFailure(at now: ContinuousClock.Instant) -> Bool {
        state.withLock { s in
            switch s {
            case .halfOpen:
                s = .open(until: now + openDuration)
                return true
            case .closed(let failures) where failures + 1 >= threshold:
                s = .open(until: now + openDuration)
                return true
            case .closed(let failures):
                s = .closed(failures: failures + 1)
                return false
            case .open:
                return false
            }
        }
    }

    var isOpen: Bool {
        state.withLock { if case .open = $0 { true } else { false } }
    }
}
