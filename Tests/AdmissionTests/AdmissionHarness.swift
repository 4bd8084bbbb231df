import Admission
import Credentials
import DealData
import Domain
import Foundation
import Infrastructure
import TestSupport
import Testing

/// Shared set-up for the admission tests: a Redis client on the local stack, a keyring, and deals
/// with ids no other test uses. A missing stack fails loudly (`TestStack.endpoints()` throws).
struct AdmissionHarness {
    let redis: RedisClient
    let store: DealStateStore
    let keyring: PassKeyring

    init() async throws {
        let e = try TestStack.endpoints()
        redis = RedisClient(configuration: RedisConfiguration(host: e.redisHost, port: e.redisPort, connections: 2))
        store = DealStateStore(redis: redis)
        keyring = try Self.makeKeyring()
        try await store.prepare()
    }

    static func makeKeyring() throws -> PassKeyring {
        try PassKeyring(
            keys: [try SigningKeyID("test-k1"): Array("admission-test-key-0123456789abcdef".utf8)],
            current: try SigningKeyID("test-k1"))
    }

    func room(_ settings: WaitingRoomSettings) -> WaitingRoom {
        WaitingRoom(redis: redis, settings: settings, keyring: keyring)
    }

    /// Settings for a test: nothing abandoned, no pre-queue restrictions unless asked.
    static func settings(
        rate: Double = 1_000, burst: Int = 1_000, maxActive: Int = 10_000,
        passLifetime: Duration = .seconds(120), abandonAfter: Duration = .seconds(600),
        preQueueWindow: Duration = .seconds(600), drawChunk: Int = 2_000
    ) -> WaitingRoomSettings {
        WaitingRoomSettings(
            admissionRatePerSecond: rate, admissionBurst: burst, maxActivePasses: maxActive,
            passLifetime: passLifetime, preQueueWindow: preQueueWindow, abandonAfter: abandonAfter,
            drawChunk: drawChunk)
    }

    /// A deal with a fresh id, `startsIn` from Redis time (negative: already open), seeded with `reset`.
    func deal(
        stock: Int = 1_000, limit: Int = 2, startsIn: Duration = .seconds(-1), lasts: Duration = .seconds(3_600),
        seed: Bool = true
    ) async throws -> Deal {
        let now = try await redisTime()
        let id = try DealID(TestStack.uniqueName("adm-deal"))
        let startsAt = now.addingTimeInterval(startsIn.seconds)
        let deal = try Deal(
            id: id, productId: try ProductID("prod-\(id.rawValue)"), title: "Deal \(id.rawValue)",
            price: Money(amountMinor: 1999, currency: try CurrencyCode("EUR")), startsAt: startsAt,
            endsAt: startsAt.addingTimeInterval(lasts.seconds), totalStock: stock, perCustomerLimit: limit)
        if seed { try await store.seed(deal, reset: true) }
        return deal
    }

    /// Redis server time.
    func redisTime() async throws -> Date { try await redis.serverTime() }

    /// Waits until Redis time is at least `instant`.
    func waitForRedisTime(_ instant: Date) async throws { try await redis.waitForServerTime(instant) }

    func setStock(_ deal: DealID, _ units: Int) async throws {
        try await redis.send(["SET", AdmissionKeys(deal).stock, String(units)])
    }

    static func users(_ count: Int, _ prefix: String = "u") throws -> [UserID] {
        try (0..<count).map { try UserID("\(prefix)-\($0)") }
    }

    /// Joins `users` one after the other (so their arrival order is the array's) and returns the tickets.
    func join(_ room: WaitingRoom, _ deal: DealID, _ users: [UserID]) async throws -> [WaitingTicket] {
        var tickets: [WaitingTicket] = []
        for user in users {
            switch try await room.join(deal: deal, user: user) {
            case .joined(let ticket): tickets.append(ticket)
            case let other:
                Issue.record("join of \(user) gave \(other)")
                throw JoinFailed()
            }
        }
        return tickets
    }

    struct JoinFailed: Error {}

    func position(_ room: WaitingRoom, _ ticket: WaitingTicket) async throws -> Int? {
        if case .waiting(let position, _, _) = try await room.status(
            ticket: ticket.ticketId, deal: ticket.dealId,
            user: ticket.userId)
        {
            return position
        }
        return nil
    }

    func issuedPass(_ room: WaitingRoom, _ ticket: WaitingTicket) async throws -> IssuedPass? {
        if case .admitted(let issued) = try await room.status(
            ticket: ticket.ticketId, deal: ticket.dealId,
            user: ticket.userId)
        {
            return issued
        }
        return nil
    }

    /// Calls `advance` until it stops admitting (the bucket is drained or the line is empty); returns the total.
    @discardableResult
    func drain(_ room: WaitingRoom, _ deal: DealID, lagFactor: Double = 1) async throws -> Int {
        var total = 0
        while true {
            let step = try await room.advance(deal: deal, lagFactor: lagFactor)
            total += step.admitted
            if step.admitted == 0 { return total }
        }
    }

    /// Every key in Redis whose name mentions the deal id.
    func keys(mentioning deal: DealID) async throws -> [String] {
        var cursor = "0"
        var found: [String] = []
        repeat {
            let reply = try await redis.send(["SCAN", cursor, "MATCH", "*\(deal.rawValue)*", "COUNT", "1000"])
            let parts = try #require(reply.arrayValue)
            cursor = try #require(parts[0].stringValue)
            found += try #require(parts[1].arrayValue).compactMap { $0.stringValue }
        } while cursor != "0"
        return found.sorted()
    }
}

/// Redis Cluster's key slot: CRC16-XMODEM of the hash tag (or the whole key) modulo 16384.
func clusterSlot(_ key: String) -> Int {
    var bytes = Array(key.utf8)
    if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
        let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
    {
        bytes = Array(bytes[(open + 1)..<close])
    }
    var crc: UInt16 = 0
    for byte in bytes {
        crc ^= UInt16(byte) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
    }
    return Int(crc) % 16_384
}
