import Admission
import ArgumentParser
import Credentials
import DealData
import Domain
import Foundation
import Infrastructure
import Logging

/// `flashdeal-bench gateway-prepare`: seeds the benchmark deal and takes N shoppers through the
/// real waiting room (join → pacing → pass issued, the same Redis functions the gateway runs), then
/// writes `userId<TAB>bearer<TAB>ticket<TAB>pass` lines for k6 (`k6/gateway-bench.js`), with the
/// order id a createOrder with idempotency key `<order-key-prefix><userId>` gets as a fifth column
/// when that prefix is given. `--no-admit` leaves the shoppers waiting (no pass); `--tokens-only`
/// seeds the deal and writes bearer tokens only (for shoppers who have yet to join).
struct GatewayPrepare: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway-prepare", abstract: "Seed the benchmark deal and admit N shoppers; write their passes.")

    @Option(help: "Deal id.") var deal = "bench-deal"
    @Option(help: "Shoppers to admit.") var users = 130_000
    @Option(help: "Output file.") var out = ".bench/passes.tsv"
    @Option(help: "Pass lifetime in seconds (long enough for the whole run).") var passLifetime = 1_800
    @Option(help: "Calls in flight.") var concurrency = 512
    @Flag(inversion: .prefixedNo, help: "Admit the shoppers (else they stay in the line).") var admit = true
    @Flag(help: "Seed the deal and write tokens only: nobody joins.") var tokensOnly = false
    @Option(help: "Writes each shopper's order id for the idempotency key <prefix><userId> as a fifth column.")
    var orderKeyPrefix: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let endpoints = try ServiceEndpoints.load(
            environment: environment,
            defaultFile: FileManager.default.currentDirectoryPath + "/.stack/endpoints.env")
        guard let secret = environment["FLASHDEAL_JWT_SECRET"], let keys = environment["FLASHDEAL_PASS_KEYS"] else {
            throw ValidationError("set FLASHDEAL_JWT_SECRET and FLASHDEAL_PASS_KEYS as for the gateway")
        }
        var keyMap: [SigningKeyID: [UInt8]] = [:]
        var current: SigningKeyID?
        for entry in keys.split(separator: ",") {
            let parts = entry.split(separator: ":", maxSplits: 1)
            let id = try SigningKeyID(String(parts[0]))
            keyMap[id] = Array(parts[1].utf8)
            if current == nil { current = id }
        }
        let keyring = try PassKeyring(keys: keyMap, current: current!)
        let redis = RedisClient(configuration: RedisConfiguration(host: endpoints.redisHost, port: endpoints.redisPort))
        let mongo = try MongoClient(configuration: MongoConfiguration(endpoints: endpoints))
        defer {
            redis.shutdown()
            mongo.shutdown()
        }

        let dealId = try DealID(deal)
        let product = try Product(id: try ProductID("bench-product"), name: "Benchmark product")
        let now = Date()
        let seeded = try Deal(
            id: dealId, productId: product.id, title: "Benchmark deal",
            price: Money(amountMinor: 100, currency: try CurrencyCode("EUR")),
            startsAt: now.addingTimeInterval(-1), endsAt: now.addingTimeInterval(7_200),
            totalStock: 10_000_000, perCustomerLimit: 10)
        try await DealCatalog(mongo: mongo).upsert(product)
        try await DealCatalog(mongo: mongo).upsert(seeded)
        let store = DealStateStore(redis: redis)
        try await store.prepare()
        _ = try await store.seed(seeded, reset: true)

        let settings = WaitingRoomSettings(
            admissionRatePerSecond: 1_000_000, admissionBurst: 5_000,
            maxActivePasses: 10_000_000, passLifetime: .seconds(passLifetime),
            abandonAfter: .seconds(7_200))
        let room = WaitingRoom(redis: redis, settings: settings, keyring: keyring, logger: Logger(label: "bench"))
        let issuer = try await ShopperTokenIssuer(
            key: .hs256(secret: Array(secret.utf8)), issuer: "flashdeal",
            audience: "flashdeal-gateway", lifetime: .seconds(7_200))
        let started = ContinuousClock.now
        let userIds = try (1...users).map { try UserID("bench-user-\($0)") }
        if tokensOnly {
            let lines = try await parallel(userIds, concurrency) { user -> String in
                "\(user.rawValue)\t\(try await issuer.issue(for: user, at: now))\t\t"
            }
            try write(lines)
            print("\(users) shoppers' tokens for \(deal) → \(out)")
            return
        }
        let tickets = try await parallel(userIds, concurrency) { user -> TicketID in
            switch try await room.join(deal: dealId, user: user) {
            case .joined(let t), .alreadyJoined(let t): return t.ticketId
            case let other: throw ValidationError("join for \(user) answered \(other)")
            }
        }
        // The draw (empty here: everyone joined after the opening) must be done before admission.
        while try await !room.drawIfDue(deal: dealId) { try await Task.sleep(for: .milliseconds(100)) }
        if !admit {
            let lines = try await parallel(Array(zip(userIds, tickets)), concurrency) { pair -> String in
                "\(pair.0.rawValue)\t\(try await issuer.issue(for: pair.0, at: now))\t\(pair.1.rawValue)\t"
            }
            try write(lines)
            print("\(users) shoppers waiting in \(deal) → \(out)")
            return
        }
        // Until nobody waits (a running gateway's pacer may admit some of them too).
        while try await room.advance(deal: dealId, lagFactor: 1).waiting > 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
        let lines = try await parallel(Array(zip(userIds, tickets)), concurrency) { pair -> String in
            let (user, ticket) = pair
            guard case .admitted(let issued) = try await room.status(ticket: ticket, deal: dealId, user: user) else {
                throw ValidationError("\(user) was not admitted")
            }
            let bearer = try await issuer.issue(for: user, at: now)
            var line = "\(user.rawValue)\t\(bearer)\t\(ticket.rawValue)\t\(issued.token)"
            if let orderKeyPrefix {
                let key = try IdempotencyKey(orderKeyPrefix + user.rawValue)
                line += "\t\(OrderID.derive(userId: user, dealId: dealId, idempotencyKey: key).rawValue)"
            }
            return line
        }
        try write(lines)
        print("admitted \(users) shoppers to \(deal) in \((ContinuousClock.now - started).seconds) s → \(out)")
    }

    func write(_ lines: [String]) throws {
        try FileManager.default.createDirectory(
            atPath: (out as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        try (lines.joined(separator: "\n") + "\n").write(toFile: out, atomically: true, encoding: .utf8)
    }

    func parallel<T: Sendable, R: Sendable>(
        _ items: [T], _ width: Int, _ body: @escaping @Sendable (T) async throws -> R
    )
        async throws -> [R]
    {
        try await withThrowingTaskGroup(of: [(Int, R)].self) { group in
            let lanes = max(1, min(width, items.count))
            for lane in 0..<lanes {
                group.addTask {
                    var out: [(Int, R)] = []
                    var i = lane
                    while i < items.count {
                        out.append((i, try await body(items[i])))
                        i += lanes
                    }
                    return out
                }
            }
            var results = [R?](repeating: nil, count: items.count)
            for try await chunk in group { for (i, r) in chunk { results[i] = r } }
            return results.map { $0! }
        }
    }
}
