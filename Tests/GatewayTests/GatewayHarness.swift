import Admission
import Credentials
import DealData
import Domain
import Foundation
import Gateway
import Infrastructure
import Logging
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A gateway process built by the same `GatewayApp.build` as the executable, listening on a free
/// port, against the real local stack. Orders go to a topic of the test's own.
struct GatewayHarness {
    static let jwtSecret = "gateway-tests-shared-secret-0123456789abcdef"
    static let passKeys =
        "k1:gateway-tests-pass-key-one-0123456789abcdef,k0:gateway-tests-pass-key-old-0123456789abcdef"
    static let root = TestStack.root

    let port: Int
    let topic: String
    let group: ServiceGroup
    let endpoints: ServiceEndpoints
    let redis: RedisClient
    let mongo: MongoClient

    /// Starts a gateway, runs `body`, stops it gracefully.
    static func with(
        policies: String = TestStack.permissivePolicies, environment extra: [String: String] = [:],
        _ body: (GatewayHarness) async throws -> Void
    ) async throws {
        let endpoints = try TestStack.endpoints()
        let topic = TestStack.uniqueName("gw-orders")
        let admin = try KafkaAdmin(brokers: endpoints.kafkaBrokers)
        try await admin.createTopics([TopicSpecification(name: topic, partitions: 3)])

        let policyFile = try TestStack.policyFile(policies)
        defer { try? FileManager.default.removeItem(atPath: policyFile) }

        var environment = ProcessInfo.processInfo.environment
        environment["FLASHDEAL_HTTP_PORT"] = "0"
        environment["FLASHDEAL_DRAIN_MS"] = "200"
        environment["FLASHDEAL_READINESS_TIMEOUT_MS"] = "500"
        environment["FLASHDEAL_JWT_SECRET"] = jwtSecret
        environment["FLASHDEAL_PASS_KEYS"] = passKeys
        environment["FLASHDEAL_POLICY_FILE"] = policyFile
        environment["FLASHDEAL_ORDER_DELIVERY_TIMEOUT_MS"] = "2000"
        environment["FLASHDEAL_ADMISSION_RATE"] = "500"
        environment.merge(extra) { _, new in new }
        var configuration = try GatewayApp.configuration(
            environment: environment,
            endpointsFile: root + "/.stack/endpoints.env")
        configuration.orders.topic = topic

        let port = Mutex<Int?>(nil)
        var logger = Logger(label: "gateway-test")
        logger.logLevel = .warning
        let group = try await GatewayApp.build(configuration, logger: logger) { bound in port.withLock { $0 = bound } }
        let task = Task { try await group.run() }
        let deadline = ContinuousClock.now + .seconds(15)
        while port.withLock({ $0 }) == nil {
            try #require(ContinuousClock.now < deadline, "the gateway did not start listening")
            try await Task.sleep(for: .milliseconds(20))
        }
        let redis = RedisClient(configuration: RedisConfiguration(host: endpoints.redisHost, port: endpoints.redisPort))
        let mongo = try MongoClient(configuration: MongoConfiguration(endpoints: endpoints))
        let harness = GatewayHarness(
            port: port.withLock { $0 }!, topic: topic, group: group, endpoints: endpoints,
            redis: redis, mongo: mongo)
        defer {
            redis.shutdown()
            mongo.shutdown()
        }
        do {
            try await body(harness)
        } catch {
            await group.triggerGracefulShutdown()
            _ = await task.result
            throw error
        }
        await group.triggerGracefulShutdown()
        try await task.value
    }

    // MARK: Shoppers and deals

    static func token(for user: String, secret: String = jwtSecret, lifetime: Duration = .seconds(600)) async throws
        -> String
    {
        let issuer = try await ShopperTokenIssuer(
            key: .hs256(secret: Array(secret.utf8)), issuer: "flashdeal",
            audience: "flashdeal-gateway", lifetime: lifetime)
        return try await issuer.issue(for: try UserID(user), at: Date())
    }

    /// A keyring that signs passes exactly as the gateway does (same keys).
    static func keyring(current: String = "k1") throws -> PassKeyring {
        var keys: [SigningKeyID: [UInt8]] = [:]
        for entry in passKeys.split(separator: ",") {
            let parts = entry.split(separator: ":", maxSplits: 1)
            keys[try SigningKeyID(String(parts[0]))] = Array(parts[1].utf8)
        }
        return try PassKeyring(keys: keys, current: try SigningKeyID(current))
    }

    /// Seeds a deal in MongoDB and Redis, opening `opensIn` from now.
    func seedDeal(
        stock: Int = 100, limit: Int = 2, opensIn: Duration = .seconds(-1),
        lasts: Duration = .seconds(3600)
    ) async throws -> DealID {
        let id = try DealID(TestStack.uniqueName("deal"))
        let product = try Product(id: try ProductID("prod-\(id.rawValue)"), name: "Test product \(id.rawValue)")
        let startsAt = Date().addingTimeInterval(opensIn.seconds)
        let deal = try Deal(
            id: id, productId: product.id, title: "Deal \(id.rawValue)",
            price: Money(amountMinor: 1999, currency: try CurrencyCode("EUR")),
            startsAt: startsAt, endsAt: startsAt.addingTimeInterval(lasts.seconds),
            totalStock: stock, perCustomerLimit: limit)
        let catalog = DealCatalog(mongo: mongo)
        try await catalog.upsert(product)
        try await catalog.upsert(deal)
        let store = DealStateStore(redis: redis)
        try await store.prepare()
        try await store.seed(deal, reset: true)
        return id
    }

    // MARK: HTTP

    struct Reply {
        let status: Int
        let headers: [String: String]
        let body: Data

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var data: [String: Any]? { json["data"] as? [String: Any] }
        var errors: [[String: Any]] { json["errors"] as? [[String: Any]] ?? [] }
        var codes: [String] { errors.compactMap { ($0["extensions"] as? [String: Any])?["code"] as? String } }
        var firstExtensions: [String: Any] { errors.first?["extensions"] as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    func post(
        _ query: String, variables: [String: Any] = [:], token: String? = nil, operationName: String? = nil,
        extensions: [String: Any]? = nil, headers: [String: String] = [:]
    ) async throws -> Reply {
        var body: [String: Any] = ["query": query, "variables": variables]
        if let operationName { body["operationName"] = operationName }
        if let extensions { body["extensions"] = extensions }
        var allHeaders = ["Content-Type": "application/json"]
        if let token { allHeaders["Authorization"] = "Bearer \(token)" }
        allHeaders.merge(headers) { _, new in new }
        return try await raw(
            method: "POST", path: "/graphql", body: try JSONSerialization.data(withJSONObject: body),
            headers: allHeaders)
    }

    func raw(method: String, path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 30
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var out: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { out[name.lowercased()] = value }
        }
        return Reply(status: http.statusCode, headers: out, body: data)
    }

    func metric(_ name: String, labels: String) async throws -> Double {
        let reply = try await raw(method: "GET", path: "/metrics")
        for line in reply.text.split(separator: "\n") where line.hasPrefix(name + "{") && line.contains(labels) {
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
        }
        return 0
    }

    // MARK: The shopper journey

    static let join =
        "mutation J($d: ID!) { joinWaitingRoom(dealId: $d) { ticket state position alreadyJoined pass { token expiresAt keyId } } }"
    static let admission =
        "query A($d: ID!, $t: ID!) { admission(dealId: $d, ticket: $t) { state position etaSeconds admissionRatePerSecond pass { token expiresAt } orderId pollAfterMs } }"
    static let createOrder =
        "mutation C($i: CreateOrderInput!) { createOrder(input: $i) { id status dealId quantity replayed } }"

    /// Joins and polls until admitted; returns the pass token.
    func admit(_ deal: DealID, token: String) async throws -> String {
        let joined = try await post(Self.join, variables: ["d": deal.rawValue], token: token)
        let room = try #require(joined.data?["joinWaitingRoom"] as? [String: Any], "join failed: \(joined.text)")
        if let pass = (room["pass"] as? [String: Any])?["token"] as? String { return pass }
        let ticket = try #require(room["ticket"] as? String)
        return try await eventually(timeout: .seconds(20)) {
            let polled = try await post(Self.admission, variables: ["d": deal.rawValue, "t": ticket], token: token)
            let status = try need(polled.data?["admission"] as? [String: Any], "poll failed: \(polled.text)")
            return try need((status["pass"] as? [String: Any])?["token"] as? String, "not admitted yet: \(status)")
        }
    }

    func order(_ deal: DealID, token: String, pass: String?, key: String, quantity: Int = 1) async throws -> Reply {
        var input: [String: Any] = ["dealId": deal.rawValue, "quantity": quantity, "idempotencyKey": key]
        if let pass { input["pass"] = pass }
        return try await post(Self.createOrder, variables: ["i": input], token: token)
    }

    /// Every message on the harness's topic so far (reads from the beginning with a fresh group).
    func messages(expecting count: Int, timeout: Duration = .seconds(20)) async throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                brokers: endpoints.kafkaBrokers, groupID: TestStack.uniqueName("gw-read"),
                autoOffsetReset: "earliest"),
            topics: [topic])
        var seen: [KafkaMessage] = []
        let deadline = ContinuousClock.now + timeout
        while seen.count < count && ContinuousClock.now < deadline {
            seen += try await consumer.poll(maxMessages: 500, timeout: .milliseconds(200))
        }
        // A little longer, to catch messages that should not be there.
        let settle = ContinuousClock.now + .milliseconds(500)
        while ContinuousClock.now < settle {
            seen += try await consumer.poll(maxMessages: 500, timeout: .milliseconds(100))
        }
        await consumer.close(joinTimeout: .seconds(5))
        return seen
    }
}
