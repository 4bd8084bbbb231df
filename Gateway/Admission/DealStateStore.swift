import DealData
public import Domain
import Foundation
public import Infrastructure

/// What ``DealStateStore/seed(_:reset:)`` found and left in Redis.
public struct DealSeeding: Sendable, Equatable {
    /// The stock key was written now (a new deal, or `reset`); `false` when an existing deal kept its stock.
    public var createdStock: Bool
    /// Units remaining after seeding.
    public var remaining: Int
    /// The draw's seed commitment in effect (hex SHA-256 of the seed), published from now on.
    public var seedCommitment: String

    public init(createdStock: Bool, remaining: Int, seedCommitment: String) {
        self.createdStock = createdStock
        self.remaining = remaining
        self.seedCommitment = seedCommitment
    }
}

/// A deal's waiting room in numbers (see docs/admission.md, key `wr:{deal:<id>}:room`).
public struct WaitingRoomCounters: Sendable, Equatable {
    /// Shoppers who joined before the opening (the draw's entrants).
    public var preQueueEntrants: Int
    /// Shoppers who joined from the opening on (including those who joined again).
    public var joinedAfterOpening: Int
    /// Places the head of the line has passed: admitted or skipped.
    public var served: Int
    public var admitted: Int
    /// Places passed over because their shopper had stopped polling.
    public var skipped: Int
    /// Admissions that expired unused and gave their capacity back.
    public var reclaimed: Int
    public var passesIssued: Int
    public var passesUsed: Int
    public var activePasses: Int
    /// Measured admission rate (moving average).
    public var ratePerSecond: Double

    public init(
        preQueueEntrants: Int, joinedAfterOpening: Int, served: Int, admitted: Int, skipped: Int,
        reclaimed: Int, passesIssued: Int, passesUsed: Int, activePasses: Int, ratePerSecond: Double
    ) {
        self.preQueueEntrants = preQueueEntrants
        self.joinedAfterOpening = joinedAfterOpening
        self.served = served
        self.admitted = admitted
        self.skipped = skipped
        self.reclaimed = reclaimed
        self.passesIssued = passesIssued
        self.passesUsed = passesUsed
        self.activePasses = activePasses
        self.ratePerSecond = ratePerSecond
    }

    /// Places still in line (some may be abandoned and skipped when the head reaches them).
    public var waiting: Int { max(0, preQueueEntrants + joinedAfterOpening - served) }
}

/// A deal's hot state in Redis: its window, stock and sold-out flag, and the waiting room's seed.
///
/// Keys: ``AdmissionKeys`` (`deal:{deal:<id>}:info`, `:stock`, `:soldout`, `wr:{deal:<id>}:draw`).
public final class DealStateStore: Sendable {
    private let redis: RedisClient

    public init(redis: RedisClient) {
        self.redis = redis
    }

    /// Loads ``AdmissionFunctions/library`` (and registers it with the client, which re-loads it
    /// after a server restart).
    public func prepare() async throws {
        try await redis.load(AdmissionFunctions.library)
    }

    /// Writes the deal's info and stock to Redis and creates its waiting-room seed and commitment.
    ///
    /// Idempotent: an existing deal gets its info (window, total stock, limit) rewritten but keeps
    /// its remaining stock, its sold-out flag, its waiting room and its seed. With `reset`, stock,
    /// sold-out flag and the whole waiting room (line, tickets, passes, draw) start over, with a new seed.
    @discardableResult
    public func seed(_ deal: Deal, reset: Bool) async throws -> DealSeeding {
        let arguments = Self.seedArguments(deal, reset: reset)
        let raw = try await AdmissionFunctions.call(redis, AdmissionFunctions.seed, AdmissionKeys(deal.id), arguments)
        return try Self.parseSeeding(raw)
    }

    // Argument building and reply parsing stay synchronous, outside the async functions: the
    // release optimizer crashes on some async functions that do both inline.
    static func seedArguments(_ deal: Deal, reset: Bool) -> [String] {
        let seed = PreQueueDraw.makeSeed()
        return [
            String(Timestamp.epochMilliseconds(deal.startsAt)), String(Timestamp.epochMilliseconds(deal.endsAt)),
            String(deal.totalStock), String(deal.perCustomerLimit), seed, PreQueueDraw.commitment(of: seed),
            reset ? "1" : "0", String(deal.paymentWindow?.milliseconds ?? 0),
        ]
    }

    static func parseSeeding(_ raw: RedisValue) throws -> DealSeeding {
        let reply = try Reply(raw, from: AdmissionFunctions.seed)
        return DealSeeding(
            createdStock: try reply.int(0) == 1, remaining: try reply.int(1),
            seedCommitment: try reply.string(2))
    }

    /// The pre-queue draw's public record: the seed commitment always, the seed once the draw is
    /// done. `nil` for a deal Redis does not know. One function call.
    public func draw(of deal: DealID) async throws -> DrawRecord? {
        let function = AdmissionFunctions.drawRecord
        let value = try await AdmissionFunctions.call(redis, function, AdmissionKeys(deal), [])
        if value.isNull { return nil }
        let reply = try Reply(value, from: function)
        let seed = try reply.string(1)
        let drawnAt = try reply.string(3)
        return DrawRecord(
            seedCommitment: try reply.string(0), seed: seed.isEmpty ? nil : seed,
            entrants: try reply.int(2),
            drawnAt: Int64(drawnAt).map { Timestamp.date(epochMilliseconds: $0) })
    }

    /// The waiting room's counters, for operators (one round trip).
    public func counters(of deal: DealID) async throws -> WaitingRoomCounters {
        let keys = AdmissionKeys(deal)
        let fields = ["joined", "served", "admitted", "skipped", "reclaimed", "issued", "used", "rate"]
        let results = await redis.pipeline([
            ["HMGET", keys.room] + fields, ["LLEN", keys.entrants], ["ZCARD", keys.active],
        ])
        let room = try results[0].get().arrayValue ?? []
        func number(_ name: String) -> Int {
            fields.firstIndex(of: name).flatMap { $0 < room.count ? room[$0].integerValue : nil }.map(Int.init) ?? 0
        }
        let entrants = Int(try results[1].get().integerValue ?? 0)
        let rateIndex = fields.firstIndex(of: "rate")!
        return WaitingRoomCounters(
            preQueueEntrants: entrants, joinedAfterOpening: number("joined"), served: number("served"),
            admitted: number("admitted"), skipped: number("skipped"), reclaimed: number("reclaimed"),
            passesIssued: number("issued"), passesUsed: number("used"),
            activePasses: Int(try results[2].get().integerValue ?? 0),
            ratePerSecond: rateIndex < room.count ? room[rateIndex].stringValue.flatMap(Double.init) ?? 0 : 0)
    }

    /// The deal's hot state, in one function call; `nil` for a deal Redis does not know.
    public func state(of deal: DealID, budget: Duration?) async throws -> DealState? {
        let value = try await AdmissionFunctions.call(
            redis, AdmissionFunctions.state, AdmissionKeys(deal), [],
            budget: budget)
        if value.isNull { return nil }
        let reply = try Reply(value, from: AdmissionFunctions.state)
        return DealState(
            dealId: deal,
            startsAt: Timestamp.date(epochMilliseconds: Int64(try reply.int(0))),
            endsAt: Timestamp.date(epochMilliseconds: Int64(try reply.int(1))),
            totalStock: try reply.int(2), remaining: try reply.int(4),
            perCustomerLimit: try reply.int(3), soldOutFlag: try reply.int(5) == 1)
    }
}
