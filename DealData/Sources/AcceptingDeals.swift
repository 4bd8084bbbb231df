public import Domain
import Foundation
public import Infrastructure
import Synchronization

/// The Redis set of deals that have accepted orders, one set per order-requests topic: where the
/// order worker's re-sender looks for orders that were accepted and are still undecided
/// (`wr:{deal:<id>}:undecided`). Not under a deal's hash tag: it names deals, it holds none of their state.
///
/// The gateway registers a deal when it accepts an order for it, at most once per
/// ``reregisterAfter`` per process (so the set is rebuilt soon after a loss, and a deal the worker
/// dropped after its end is back once orders come again). The worker removes a deal once it has
/// ended and nothing of it is left to re-send.
public final class AcceptingDeals: Sendable {
    public static let defaultRequestsTopic = FlashDealTopics.orderRequests
    public static let reregisterAfter: Duration = .seconds(60)

    /// `flashdeal:accepting-deals` for the contract's topic, with `:<topic>` appended for any other
    /// (isolated runs on a shared stack keep sets of their own).
    public static func key(requestsTopic: String) -> String {
        requestsTopic == defaultRequestsTopic
            ? "flashdeal:accepting-deals" : "flashdeal:accepting-deals:\(requestsTopic)"
    }

    public let redis: RedisClient
    public let key: String
    private let registered = Mutex<[DealID: ContinuousClock.Instant]>([:])

    public init(redis: RedisClient, requestsTopic: String) {
        self.redis = redis
        self.key = Self.key(requestsTopic: requestsTopic)
    }

    /// Adds `deal` to the set unless this process did so recently. Best effort: a failure is retried
    /// with the next accepted order.
    public func register(_ deal: DealID) async {
        let now = ContinuousClock.now
        let due = registered.withLock { map in
            if let at = map[deal], now - at < Self.reregisterAfter { return false }
            map[deal] = now
            return true
        }
        guard due else { return }
        do { try await redis.send(["SADD", key, deal.rawValue]) } catch {
            _ = registered.withLock { $0.removeValue(forKey: deal) }
        }
    }

    /// Adds `deals` to the set now, whatever this process did before: after Redis restarted from a
    /// file that may lack its last writes, the worker puts every open deal back (a registration
    /// lost with those writes would hide a deal's undecided orders from the re-sender).
    public func add(_ deals: [DealID]) async throws {
        guard !deals.isEmpty else { return }
        try await redis.send(["SADD", key] + deals.map(\.rawValue))
    }

    /// Every deal in the set; names that are not deal ids are removed.
    public func members() async throws -> [DealID] {
        let names = try await redis.send(["SMEMBERS", key]).arrayValue?.compactMap(\.stringValue) ?? []
        var deals: [DealID] = []
        for name in names {
            if let deal = try? DealID(name) { deals.append(deal) } else { try await redis.send(["SREM", key, name]) }
        }
        return deals.sorted { $0.rawValue < $1.rawValue }
    }

    public func remove(_ deal: DealID) async throws {
        try await redis.send(["SREM", key, deal.rawValue])
    }
}
