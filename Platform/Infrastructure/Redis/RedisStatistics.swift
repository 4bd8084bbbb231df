import Synchronization

/// Counters of what a ``RedisClient`` sent: how many commands, in how many round trips.
/// `commands / roundTrips` is the pipelining factor.
public final class RedisStatistics: Sendable {
    private let commandCount = Atomic<Int>(0)
    private let roundTripCount = Atomic<Int>(0)

    public init() {}

    public var commands: Int { commandCount.load(ordering: .relaxed) }
    public var roundTrips: Int { roundTripCount.load(ordering: .relaxed) }

    func recordRoundTrip(commands: Int) {
        commandCount.add(commands, ordering: .relaxed)
        roundTripCount.add(1, ordering: .relaxed)
    }
}
