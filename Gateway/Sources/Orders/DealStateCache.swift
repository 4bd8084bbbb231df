public import Admission
public import Domain
import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

/// The gateway's local copy of each deal's hot state (window, stock, sold-out flag), so the
/// createOrder path answers SOLD_OUT and DEAL_NOT_OPEN without a Redis call.
///
/// A deal is loaded on first use (one Redis call) and then refreshed every `refresh` by ``run()``
/// for as long as it keeps being asked for, so a copy is at most about one refresh interval stale.
/// If a refresh fails the last good copy is kept and its age grows; `maximumAge` bounds how old a
/// copy may be and still be trusted.
public final class DealStateCache: Service, Sendable {
    struct Entry: Sendable {
        var state: DealState?
        var loadedAt: ContinuousClock.Instant
        var lastUsed: ContinuousClock.Instant
    }

    private let store: DealStateStore
    private let refresh: Duration
    private let maximumAge: Duration
    private let logger: Logger
    private let entries = Mutex<[DealID: Entry]>([:])
    /// Deals not asked for during this long stop being refreshed (and are forgotten).
    private let idleAfter: Duration = .seconds(60)
    private let onRefresh: @Sendable (DealState) -> Void

    public init(
        store: DealStateStore, refresh: Duration, logger: Logger,
        onRefresh: @escaping @Sendable (DealState) -> Void = { _ in }
    ) {
        self.store = store
        self.refresh = refresh
        self.maximumAge = max(refresh * 20, .seconds(1))
        self.logger = logger
        self.onRefresh = onRefresh
    }

    /// The deal's state; `nil` for a deal Redis does not know.
    /// - Throws: the Redis error when the deal is not cached (or too old) and Redis cannot answer.
    public func state(of deal: DealID) async throws -> DealState? {
        let now = ContinuousClock.now
        let cached: Entry? = entries.withLock { entries in
            guard var entry = entries[deal] else { return nil }
            entry.lastUsed = now
            entries[deal] = entry
            return entry
        }
        if let cached, now - cached.loadedAt < maximumAge { return cached.state }
        return try await load(deal)
    }

    /// Deals currently tracked (for the waiting-room pacer and metrics).
    public var trackedDeals: [DealID] { entries.withLock { Array($0.keys) } }

    @discardableResult
    func load(_ deal: DealID) async throws -> DealState? {
        let state = try await store.state(of: deal, budget: .milliseconds(250))
        let now = ContinuousClock.now
        entries.withLock { entries in
            let lastUsed = entries[deal]?.lastUsed ?? now
            entries[deal] = Entry(state: state, loadedAt: now, lastUsed: lastUsed)
        }
        if let state { onRefresh(state) }
        return state
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.refresh)
                let now = ContinuousClock.now
                let deals: [DealID] = self.entries.withLock { entries in
                    entries = entries.filter { now - $0.value.lastUsed < self.idleAfter }
                    return Array(entries.keys)
                }
                await withTaskGroup(of: Void.self) { group in
                    for deal in deals {
                        group.addTask {
                            do { try await self.load(deal) } catch {
                                self.logger.debug(
                                    "deal state refresh failed", metadata: ["deal": "\(deal)", "error": "\(error)"])
                            }
                        }
                    }
                }
            }
        }
    }
}
