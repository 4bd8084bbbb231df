public import DealData
import Domain
import Foundation
public import Infrastructure
public import Logging

/// What a worker does when Redis answers UNVERIFIED: the server (or the function library) started
/// since the stock was last rebuilt, and with `appendfsync everysec` a crash of the machine can take
/// the last second of reservations with it — a stock that went back up is an oversell waiting to
/// happen. One worker (a Redis lock) waits until MongoDB's orders of every open deal stop changing
/// (every worker's reservations are paused meanwhile, so only batches in flight land), rewrites
/// what differs (``StockReconciler/fixAll(_:settle:attempts:)``), puts every open deal back in
/// ``AcceptingDeals`` and lets reservations go on.
public struct RedisStockRebuild: StockRebuild {
    static let lockKey = "flashdeal:stock-rebuild"
    static let release = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
    /// Takes the lock for ARGV[1] (free, or already its own) for ARGV[2] ms; 1 when taken.
    static let take = """
        local v = redis.call('GET', KEYS[1])
        if v == false or v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
        return 0
        """

    let redis: RedisClient
    /// This worker's name on the lock.
    let token = UUID().uuidString
    let reservations: ReservationStore
    let catalog: DealCatalog
    let reconciler: StockReconciler
    let accepting: AcceptingDeals
    let closeGrace: Duration
    let settle: Duration
    let metrics: WorkerMetrics
    let logger: Logger

    public init(
        redis: RedisClient, orders: OrderStore, catalog: DealCatalog, accepting: AcceptingDeals, closeGrace: Duration,
        settle: Duration = .seconds(2), metrics: WorkerMetrics, logger: Logger
    ) {
        self.accepting = accepting
        self.redis = redis
        reservations = ReservationStore(redis: redis)
        self.catalog = catalog
        reconciler = StockReconciler(reservations: reservations, orders: orders, catalog: catalog)
        self.closeGrace = closeGrace
        self.settle = settle
        self.metrics = metrics
        self.logger = logger
    }

    public func rebuildAfterRestart() async throws {
        // The lock lives 10 s and is renewed while the rebuild runs, so one that a crash of Redis
        // brought back (a restored file) or a worker that died leaves behind holds no one up for
        // long; the worker holding it takes it again at once after a failure.
        guard try await redis.send("EVAL", Self.take, "1", Self.lockKey, token, "10000").integerValue == 1 else {
            try await Task.sleep(for: .milliseconds(500))  // another worker rebuilds
            return
        }
        let renewal = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(3))
                _ = try? await redis.send("EVAL", Self.take, "1", Self.lockKey, token, "10000")
            }
        }
        defer { renewal.cancel() }
        let start = ContinuousClock.now
        logger.error(
            "Redis started since the stock was last rebuilt; reservations paused, rebuilding every open deal from MongoDB"
        )
        let nonce = UUID().uuidString
        try await reservations.beginRebuild(nonce)
        let cutoff = Date().addingTimeInterval(-Double(closeGrace.components.seconds))
        let deals = try await catalog.deals(endingAfter: cutoff).map(\.id)
        let written = try await reconciler.fixAll(deals, settle: settle)
        // The gateways' registrations of deals with accepted orders may be lost too (they register a
        // deal at most once a minute): every open deal goes back, so the re-sender sees its orders.
        try await accepting.add(deals)
        guard try await reservations.markVerified(rebuild: nonce) else {
            throw RedisError(.connectionLost, "Redis started again during the rebuild; rebuilding again")
        }
        metrics.stockRebuilt(deals: written.count)
        logger.warning(
            "stock rebuilt; reservations go on",
            metadata: [
                "open_deals": "\(deals.count)", "rewritten": "\(written.map(\.deal.id.rawValue))",
                "seconds": "\(ContinuousClock.now - start)",
            ])
        _ = try? await redis.send("EVAL", Self.release, "1", Self.lockKey, token)
    }
}
