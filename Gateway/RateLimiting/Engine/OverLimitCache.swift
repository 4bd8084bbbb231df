import Synchronization

/// Remembers buckets known to be empty, until their next token is due, so a hot over-limit key is
/// answered in-process instead of by Redis.
final class OverLimitCache: Sendable {
    private struct State {
        var blockedUntil: [String: ContinuousClock.Instant] = [:]
        var lastSweep = ContinuousClock.now
    }
    private let state = Mutex(State())
    private let maxEntries: Int

    init(maxEntries: Int = 100_000) { self.maxEntries = maxEntries }

    /// When `key` is known empty at `now`, the time until it can pay again.
    func wait(for key: String, at now: ContinuousClock.Instant) -> Duration? {
        state.withLock { s in
            guard let until = s.blockedUntil[key] else { return nil }
            if until <= now {
                s.blockedUntil[key] = nil
                return nil
            }
            return until - now
        }
    }

    func block(_ key: String, until: ContinuousClock.Instant, now: ContinuousClock.Instant) {
        state.withLock { s in
            s.blockedUntil[key] = max(until, s.blockedUntil[key] ?? until)
            if s.blockedUntil.count > maxEntries || now - s.lastSweep > .seconds(10) {
                s.blockedUntil = s.blockedUntil.filter { $0.value > now }
                s.lastSweep = now
            }
        }
    }

    func clear() { state.withLock { $0.blockedUntil.removeAll() } }
}
