import Synchronization

/// Stops waiting on a Redis that keeps failing.
///
/// The breaker opens when, over the last `window`, at least `threshold` calls failed **and** they
/// are at least half of the calls made; it then stays open for `openDuration` (decisions apply the
/// fail modes at once), lets one probe through, and the probe's success closes it again.
///
/// The ratio is what tells a dead Redis from a busy process: when every call fails, the breaker
/// opens after `threshold` failures, as a plain consecutive-failure count would; when a scheduling
/// stall makes the few calls in flight miss their budget together while hundreds of others
/// succeed around them, it stays closed — only those few requests see their fail mode, instead of
/// every request for the next `openDuration`.
public final class CircuitBreaker: Sendable {
    enum Phase: Equatable {
        case closed
        case open(until: ContinuousClock.Instant)
        case halfOpen
    }

    /// Calls counted in two half-window buckets: the current one and the one before it.
    struct Counts {
        var bucketStart: ContinuousClock.Instant
        var successes = 0, failures = 0
        var previousSuccesses = 0, previousFailures = 0

        mutating func roll(to now: ContinuousClock.Instant, half: Duration) {
            let elapsed = now - bucketStart
            guard elapsed >= half else { return }
            if elapsed >= half * 2 {
                previousSuccesses = 0
                previousFailures = 0
            } else {
                previousSuccesses = successes
                previousFailures = failures
            }
            successes = 0
            failures = 0
            bucketStart = now
        }

        mutating func reset(at now: ContinuousClock.Instant) { self = Counts(bucketStart: now) }
    }

    struct State {
        var phase = Phase.closed
        var counts: Counts
    }

    private let state: Mutex<State>
    private let threshold: Int
    private let openDuration: Duration
    private let half: Duration

    public init(
        threshold: Int, openDuration: Duration, window: Duration = .seconds(1),
        now: ContinuousClock.Instant = .now
    ) {
        self.threshold = max(1, threshold)
        self.openDuration = openDuration
        self.half = window / 2
        self.state = Mutex(State(counts: Counts(bucketStart: now)))
    }

    /// Whether a call to Redis may be made now. Moves an expired open breaker to half-open and lets
    /// exactly one caller probe.
    public func allowsCall(at now: ContinuousClock.Instant) -> Bool {
        state.withLock { s in
            switch s.phase {
            case .closed: return true
            case .halfOpen: return false
            case .open(let until):
                guard now >= until else { return false }
                s.phase = .halfOpen
                return true
            }
        }
    }

    /// - Returns: `true` when this success closed an open (half-open) breaker.
    @discardableResult
    public func recordSuccess(at now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { s in
            switch s.phase {
            case .closed:
                s.counts.roll(to: now, half: half)
                s.counts.successes += 1
                return false
            case .open, .halfOpen:
                s.phase = .closed
                s.counts.reset(at: now)
                return true
            }
        }
    }

    /// - Returns: `true` when this failure opened the breaker.
    @discardableResult
    public func recordFailure(at now: ContinuousClock.Instant) -> Bool {
        state.withLock { s in
            switch s.phase {
            case .halfOpen:
                s.phase = .open(until: now + openDuration)
                return true
            case .open:
                return false
            case .closed:
                s.counts.roll(to: now, half: half)
                s.counts.failures += 1
                let failures = s.counts.failures + s.counts.previousFailures
                let calls = failures + s.counts.successes + s.counts.previousSuccesses
                guard failures >= threshold, failures * 2 >= calls else { return false }
                s.phase = .open(until: now + openDuration)
                s.counts.reset(at: now)
                return true
            }
        }
    }

    public var isOpen: Bool {
        state.withLock { if case .open = $0.phase { true } else { false } }
    }
}
