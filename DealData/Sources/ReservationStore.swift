public import Domain
import Foundation
public import Infrastructure

/// One reservation request of a batch.
public struct ReservationRequest: Sendable, Hashable {
    public var orderId: OrderID
    public var dealId: DealID
    public var userId: UserID
    public var quantity: Int

    public init(orderId: OrderID, dealId: DealID, userId: UserID, quantity: Int) {
        self.orderId = orderId
        self.dealId = dealId
        self.userId = userId
        self.quantity = quantity
    }
}

/// Stock reservations in Redis: atomic, idempotent by order id, with the per-customer limit checked
/// in the same step (function library ``ReservationFunctions``).
public struct ReservationStore: Sendable {
    public let redis: RedisClient

    public init(redis: RedisClient) {
        self.redis = redis
    }

    /// Loads the function library (and registers it for re-loading after a Redis restart).
    public func prepare() async throws {
        try await redis.load(ReservationFunctions.library)
    }

    /// Whether reservations may go on: false from every start of the Redis server (and every new
    /// version of the function library) until ``markVerified()``.
    public func isVerified() async throws -> Bool {
        try await redis.fcall(ReservationFunctions.verified, keys: [], arguments: ["get"]).integerValue == 1
    }

    /// Starts a rebuild of the open deals' stock on this Redis process, named by `nonce`.
    public func beginRebuild(_ nonce: String) async throws {
        _ = try await redis.fcall(ReservationFunctions.verified, keys: [], arguments: ["begin", nonce])
    }

    /// Lets reservations go on once every open deal's stock was rebuilt from MongoDB
    /// (``StockReconciler``) by the rebuild `nonce`; false when the server started again since that
    /// rebuild began (it must start over).
    public func markVerified(rebuild nonce: String) async throws -> Bool {
        try await redis.fcall(ReservationFunctions.verified, keys: [], arguments: ["set", nonce]).integerValue == 1
    }

    /// Lets reservations go on now, for a state seeded from the catalog a moment ago (tests, tools).
    public func markVerified() async throws {
        let nonce = UUID().uuidString
        try await beginRebuild(nonce)
        _ = try await markVerified(rebuild: nonce)
    }

    /// Reserves for every request in one round trip, in order (a duplicate later in the batch gets
    /// the first answer as a replay). Throws when any call failed: the batch is then retried as a
    /// whole, which is safe because every call is idempotent.
    public func reserve(_ requests: [ReservationRequest], grace: Duration) async throws -> [ReservationReply] {
        let graceMs = String(grace.components.seconds * 1_000 + grace.components.attoseconds / 1_000_000_000_000_000)
        let calls = requests.map { r in
            (
                function: ReservationFunctions.reserve, keys: OrderKeys(r.dealId).all,
                arguments: [r.orderId.rawValue, r.userId.rawValue, String(r.quantity), graceMs]
            )
        }
        let results = await redis.fcallPipeline(calls)
        return try results.map { try Self.parseReservation(try $0.get()) }
    }

    static func parseReservation(_ value: RedisValue) throws -> ReservationReply {
        let reply = try FunctionReply(value, from: ReservationFunctions.reserve)
        let outcome = try reply.string(0)
        let result: ReservationResult
        if outcome == "NO_STATE" {
            result = .noState
        } else if outcome == "UNVERIFIED" {
            result = .unverified
        } else {
            guard let decided = ReservationOutcome(rawValue: outcome) else { throw reply.invalid("unknown outcome") }
            result = .decided(decided)
        }
        let released = try reply.string(4)
        return ReservationReply(
            result: result, replay: try reply.int(1) == 1, announcedSoldOut: try reply.int(2) == 1,
            remaining: try reply.int(3),
            released: released.isEmpty ? nil : StockReleaseReason(rawValue: released),
            published: try reply.int(5) == 1, paymentDueMs: Int64(try reply.int(6)),
            decidedAtMs: value.arrayValue.map { $0.count > 7 } == true ? Int64(try reply.int(7)) : 0)
    }

    /// Gives an order's reserved units back (idempotent). `user` = nil releases whoever holds it.
    public func release(order: OrderID, deal: DealID, user: UserID?, reason: StockReleaseReason) async throws
        -> ReleaseReply
    {
        let value = try await redis.fcall(
            ReservationFunctions.release, keys: OrderKeys(deal).all,
            arguments: [order.rawValue, user?.rawValue ?? "", reason.rawValue])
        return try Self.parseRelease(value)
    }

    static func parseRelease(_ value: RedisValue) throws -> ReleaseReply {
        let reply = try FunctionReply(value, from: ReservationFunctions.release)
        guard let result = ReleaseResult(rawValue: try reply.string(0)) else { throw reply.invalid("unknown result") }
        return ReleaseReply(
            result: result, quantity: try reply.int(1), remaining: try reply.int(2),
            userId: try reply.string(3))
    }

    /// Records that these orders' outcomes are persisted and published: a redelivery skips them.
    public func markPublished(_ orders: [OrderID], deal: DealID) async throws {
        guard !orders.isEmpty else { return }
        try await redis.fcall(
            ReservationFunctions.markPublished, keys: OrderKeys(deal).all,
            arguments: orders.map(\.rawValue))
    }

    /// A sorted set's members and scores.
    func scores(_ key: String) async throws -> [String: Int64] {
        let reply = try await redis.send(["ZRANGE", key, "0", "-1", "WITHSCORES"])
        let items = reply.arrayValue ?? []
        var result: [String: Int64] = [:]
        var i = 0
        while i + 1 < items.count {
            if let order = items[i].stringValue, let score = items[i + 1].stringValue.flatMap(Double.init) {
                result[order] = Int64(score)
            }
            i += 2
        }
        return result
    }

    /// Every reservation record of a deal (order id → record); unreadable records are returned apart.
    public func records(of deal: DealID) async throws -> (
        records: [String: ReservationRecord], unreadable: [String: String]
    ) {
        let fields = try await hash(OrderKeys(deal).reservations)
        var records: [String: ReservationRecord] = [:]
        var unreadable: [String: String] = [:]
        for (order, packed) in fields {
            if let record = ReservationRecord(packed: packed) {
                records[order] = record
            } else {
                unreadable[order] = packed
            }
        }
        return (records, unreadable)
    }

    /// Units each shopper holds in a deal.
    public func held(in deal: DealID) async throws -> [String: Int] {
        try await hash(OrderKeys(deal).held).compactMapValues { Int($0) }
    }

    /// Units left, or nil when Redis has no stock for the deal.
    public func stock(of deal: DealID) async throws -> Int? {
        let value = try await redis.send("GET", OrderKeys(deal).stock)
        return value.isNull ? nil : value.integerValue.map(Int.init)
    }

    public func isFlaggedSoldOut(_ deal: DealID) async throws -> Bool {
        let value = try await redis.send("GET", OrderKeys(deal).soldOut)
        return !value.isNull && value.stringValue != "0"
    }

    /// Overwrites a deal's stock, holdings and sold-out flag, writes its info, and adds `records`
    /// (reconciliation). One function call per 2,000 records; stock and holdings in the last one.
    public func restore(
        deal: Deal, stock: Int, held: [String: Int], records: [String: ReservationRecord],
        unpaid: [String: Int64] = [:], expiringDealsKey: String = OrderKeys.expiringDeals
    ) async throws {
        let keys = OrderKeys(deal.id).all
        let header = [
            String(Timestamp.epochMilliseconds(deal.startsAt)), String(Timestamp.epochMilliseconds(deal.endsAt)),
            String(deal.totalStock), String(deal.perCustomerLimit), String(deal.paymentWindow?.milliseconds ?? 0),
        ]
        let pairs = records.sorted { $0.key < $1.key }
        var start = 0
        repeat {
            let chunk = pairs[start..<min(start + 2_000, pairs.count)]
            start += chunk.count
            let last = start >= pairs.count
            if last {
                let holdings = held.filter { $0.value > 0 }.sorted { $0.key < $1.key }
                var arguments = [String(stock)] + header + [String(holdings.count), String(chunk.count)]
                for (user, units) in holdings { arguments += [user, String(units)] }
                for (order, record) in chunk { arguments += [order, record.packed] }
                try await redis.fcall(ReservationFunctions.restore, keys: keys, arguments: arguments)
            } else {
                var command = ["HSET", OrderKeys(deal.id).reservations]
                for (order, record) in chunk { command += [order, record.packed] }
                try await redis.send(command)
            }
        } while start < pairs.count
        if !unpaid.isEmpty {
            var command = ["ZADD", OrderKeys(deal.id).unpaid, "NX"]
            for (order, due) in unpaid.sorted(by: { $0.key < $1.key }) { command += [String(due), order] }
            try await redis.send(command)
            try await redis.send(["SADD", expiringDealsKey, deal.id.rawValue])
        }
    }

    /// Deletes the worker's own keys of a deal (used when a deal is seeded again with `--reset`).
    public func reset(_ deal: DealID) async throws {
        let keys = OrderKeys(deal)
        try await redis.send(["DEL", keys.reservations, keys.held, keys.unpaid, keys.expired, keys.unseen])
    }

    /// A hash's fields, read with HSCAN.
    func hash(_ key: String) async throws -> [String: String] {
        var fields: [String: String] = [:]
        var cursor = "0"
        repeat {
            let reply = try await redis.send(["HSCAN", key, cursor, "COUNT", "1000"])
            guard let parts = reply.arrayValue, parts.count == 2, let next = parts[0].stringValue,
                let items = parts[1].arrayValue
            else { throw RedisError(.invalidReply, "HSCAN replied \(reply)") }
            var i = 0
            while i + 1 < items.count {
                if let field = items[i].stringValue, let value = items[i + 1].stringValue { fields[field] = value }
                i += 2
            }
            cursor = next
        } while cursor != "0"
        return fields
    }
}
