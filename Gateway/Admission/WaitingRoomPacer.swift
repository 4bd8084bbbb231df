public import Domain
public import Logging
public import ServiceLifecycle
import Synchronization

/// Paces the waiting rooms of the deals it is told about: every `interval`, for each tracked deal,
/// runs the pre-queue draw when it is due, then one pacing step at the configured admission rate
/// scaled by the order worker's lag (``WaitingRoomSettings/lagFactor(lag:)``).
///
/// Every gateway replica may run one: a pacing step is a token bucket on Redis time, so several
/// pacers together admit no faster than one. A deal that has ended, or that Redis does not know, is
/// dropped until ``track(_:)`` is called for it again. Stops on graceful shutdown.
public final class WaitingRoomPacer: Service, Sendable {
    private let room: WaitingRoom
    private let interval: Duration
    private let lag: @Sendable () async -> Int?
    private let logger: Logger
    private let onStep: @Sendable (DealID, AdvanceResult) -> Void
    private let deals = Mutex<Set<DealID>>([])
    private let lastWarning = Mutex<ContinuousClock.Instant?>(nil)

    public init(
        room: WaitingRoom, interval: Duration = .milliseconds(100), lag: @escaping @Sendable () async -> Int?,
        logger: Logger = Logger(label: "flashdeal.admission.pacer"),
        onStep: @escaping @Sendable (DealID, AdvanceResult) -> Void = { _, _ in }
    ) {
        self.room = room
        self.interval = interval
        self.lag = lag
        self.logger = logger
        self.onStep = onStep
    }

    /// Starts pacing `deal` (idempotent).
    public func track(_ deal: DealID) {
        _ = deals.withLock { $0.insert(deal) }
    }

    /// The deals being paced.
    public var trackedDeals: [DealID] {
        deals.withLock { Array($0) }.sorted()
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let started = ContinuousClock.now
                await self.tick()
                try? await Task.sleep(until: started + self.interval, clock: .continuous)
            }
        }
    }

    /// One round over every tracked deal: draw when due, then one pacing step each, concurrently.
    public func tick() async {
        let deals = trackedDeals
        guard !deals.isEmpty else { return }
        let factor = room.settings.lagFactor(lag: await lag())
        await withTaskGroup(of: Void.self) { group in
            for deal in deals {
                group.addTask { await self.pace(deal, lagFactor: factor) }
            }
        }
    }

    private func pace(_ deal: DealID, lagFactor: Double) async {
        do {
            _ = try await room.drawIfDue(deal: deal)
            let step = try await room.step(deal: deal, lagFactor: lagFactor)
            onStep(deal, step.result)
            if step.phase == .ended || step.phase == .unknown {
                _ = deals.withLock { $0.remove(deal) }
                logger.debug("stopped pacing", metadata: ["deal": "\(deal)", "phase": "\(step.phase.rawValue)"])
            }
        } catch {
            // At ten steps a second, an outage would flood the log: warn at most every five seconds.
            let now = ContinuousClock.now
            let warn = lastWarning.withLock { last in
                guard last.map({ now - $0 >= .seconds(5) }) ?? true else { return false }
                last = now
                return true
            }
            if warn {
                logger.warning("waiting-room pacing failed", metadata: ["deal": "\(deal)", "error": "\(error)"])
            }
        }
    }
}
