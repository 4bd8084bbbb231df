import Synchronization

/// Local shares ("leases") of hot token buckets.
///
/// A bucket that this process charges at least ``hotAfter`` times within one lease period is hot:
/// instead of one Redis call per request, the limiter takes a share of the bucket's tokens at once
/// (``LeaseFunction``) and spends it here until the share is gone or the period ends. What is left
/// when a lease expires lapses — it is never given back — so gateways sharing a bucket can admit
/// less than it allows for a moment, never more. A share is at most ``share`` of the capacity and
/// about one period's demand seen here, so what can lapse stays small; buckets too small for a
/// share of two requests are never leased and stay exact.
final class BucketLeases: Sendable {
    enum Take: Equatable {
        /// Paid from the local share; `remaining` is the bucket's estimate (its tokens at the last
        /// grant plus the share left here).
        case local(remaining: Int)
        /// Hot, and the local share cannot pay: ask Redis for `want` tokens (at least the cost).
        case lease(want: Int)
        /// Not hot (or too small to lease): decide in Redis as usual.
        case direct
    }

    private struct Entry {
        var tokens = 0
        var expires: ContinuousClock.Instant
        var bucketRemaining = 0
        var windowStart: ContinuousClock.Instant
        var windowRequests = 0
        var windowCost = 0
        var lastWindowRequests = 0
        var lastWindowCost = 0
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var lastSweep: ContinuousClock.Instant
    }

    let period: Duration
    let share: Double
    let hotAfter: Int
    private let maxEntries: Int
    private let state: Mutex<State>

    init(period: Duration, share: Double, hotAfter: Int = 8, maxEntries: Int = 50_000) {
        self.period = period
        self.share = share
        self.hotAfter = hotAfter
        self.maxEntries = maxEntries
        state = Mutex(State(lastSweep: .now))
    }

    /// The largest share of a bucket of `capacity` one lease may hold.
    func largestShare(capacity: Int) -> Int { Int((Double(capacity) * share).rounded(.down)) }

    /// Counts one request of `cost` against `key` and pays it from the local share if it can.
    func take(_ key: String, cost: Int, capacity: Int, now: ContinuousClock.Instant) -> Take {
        let largest = largestShare(capacity: capacity)
        guard largest >= 2 * cost else { return .direct }
        return state.withLock { s in
            var entry = s.entries[key] ?? Entry(expires: now, windowStart: now)
            if now - entry.windowStart >= period {
                let adjacent = now - entry.windowStart < period * 2
                entry.lastWindowRequests = adjacent ? entry.windowRequests : 0
                entry.lastWindowCost = adjacent ? entry.windowCost : 0
                entry.windowRequests = 0
                entry.windowCost = 0
                entry.windowStart = now
            }
            entry.windowRequests += 1
            entry.windowCost += cost
            if now >= entry.expires { entry.tokens = 0 }
            let result: Take
            if entry.tokens >= cost {
                entry.tokens -= cost
                result = .local(remaining: entry.bucketRemaining + entry.tokens)
            } else if max(entry.lastWindowRequests, entry.windowRequests) >= hotAfter {
                let demand = max(entry.lastWindowCost, entry.windowCost)
                result = .lease(want: min(largest, max(cost, demand)))
            } else {
                result = .direct
            }
            s.entries[key] = entry
            if s.entries.count > maxEntries || now - s.lastSweep > period * 100 { sweep(&s, now: now) }
            return result
        }
    }

    /// Redis granted `tokens` for `key` (the bucket keeping `bucketRemaining`): the request that
    /// asked takes its `cost` first, the rest joins the local share. False when the grant cannot
    /// pay the cost (the bucket was short); nothing is kept then.
    func granted(
        _ key: String, tokens: Int, cost: Int, bucketRemaining: Int, now: ContinuousClock.Instant
    ) -> Bool {
        state.withLock { s in
            var entry = s.entries[key] ?? Entry(expires: now, windowStart: now)
            if now >= entry.expires { entry.tokens = 0 }
            guard tokens >= cost else {
                s.entries[key] = entry
                return false
            }
            entry.tokens += tokens - cost
            entry.expires = now + period
            entry.bucketRemaining = bucketRemaining
            s.entries[key] = entry
            return true
        }
    }

    /// Returns `cost` to the local share (the request was refused by another policy).
    func giveBack(_ key: String, cost: Int, now: ContinuousClock.Instant) {
        state.withLock { s in
            guard var entry = s.entries[key], now < entry.expires else { return }
            entry.tokens += cost
            s.entries[key] = entry
        }
    }

    /// Drops every share and every demand count (after a policy change buckets may differ).
    func clear() { state.withLock { $0.entries.removeAll() } }

    /// Tokens held locally for `key` now (for tests and diagnostics).
    func held(_ key: String, now: ContinuousClock.Instant = .now) -> Int {
        state.withLock { s in
            guard let entry = s.entries[key], now < entry.expires else { return 0 }
            return entry.tokens
        }
    }

    private func sweep(_ s: inout State, now: ContinuousClock.Instant) {
        s.entries = s.entries.filter { _, entry in now < entry.expires || now - entry.windowStart < period * 2 }
        s.lastSweep = now
    }
}
