import Admission
import Credentials
import DealData
import Domain
import Foundation
import Gateway
import Infrastructure
import Logging
import OrderWorker
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The gateway and the worker, built as the executables build them, on the local stack: after a few
/// shoppers' journeys their `/metrics` pass `promtool check metrics` (no lint problem: HELP on
/// every metric, `_total` counters, base units), and every metric that the rules and dashboards read
/// is served by one of them (or recorded by a rule): dashboards cannot drift from the code.
@Suite("Live /metrics of the gateway and the worker", .timeLimit(.minutes(3)))
struct LiveMetricsTests {
    static let root = TestStack.root
    static let jwtSecret = "telemetry-tests-secret-0123456789abcdefghij"

    final class Running: Sendable {
        let port: Int
        let group: ServiceGroup
        let task: Task<Void, any Error>
        init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
            self.port = port
            self.group = group
            self.task = task
        }
        func stop() async {
            await group.triggerGracefulShutdown()
            _ = await task.result
        }
    }

    static func start(_ build: (@escaping @Sendable (Int) async -> Void) async throws -> ServiceGroup) async throws
        -> Running
    {
        let port = Mutex<Int?>(nil)
        let group = try await build { bound in port.withLock { $0 = bound } }
        let task = Task { try await group.run() }
        let deadline = ContinuousClock.now + .seconds(15)
        while port.withLock({ $0 }) == nil {
            if ContinuousClock.now > deadline {
                await group.triggerGracefulShutdown()
                throw NotYet("the server did not start listening")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return Running(port: port.withLock { $0 }!, group: group, task: task)
    }

    /// A gateway's or worker's environment in these tests: any free port, a short drain, the tests'
    /// secrets and `policyFile`; with `isolatedAs`, topics and a consumer group of its own on the
    /// shared broker.
    static func processEnvironment(policyFile: String, isolatedAs name: String? = nil) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["FLASHDEAL_HTTP_PORT"] = "0"
        environment["FLASHDEAL_DRAIN_MS"] = "200"
        environment["FLASHDEAL_JWT_SECRET"] = jwtSecret
        environment["FLASHDEAL_PASS_KEYS"] = "t1:telemetry-tests-pass-key-0123456789abcdef"
        environment["FLASHDEAL_POLICY_FILE"] = policyFile
        if let name {
            environment["FLASHDEAL_TOPIC_PREFIX"] = TestStack.uniqueName(name) + "."
            environment["FLASHDEAL_WORKER_GROUP"] = TestStack.uniqueName(name + "-workers")
        }
        return environment
    }

    static func get(_ port: Int, _ path: String) async throws -> (Int, String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        return ((response as? HTTPURLResponse)?.statusCode ?? -1, String(decoding: data, as: UTF8.self))
    }

    static func graphQL(
        _ port: Int, _ query: String, _ variables: [String: Any], token: String,
        traceparent: String? = nil
    ) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/graphql")!)
        request.httpMethod = "POST"
        if let traceparent { request.setValue(traceparent, forHTTPHeaderField: "traceparent") }
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = try JSONSerialization.data(withJSONObject: ["query": query, "variables": variables])
        request.timeoutInterval = 30
        let (data, _) = try await URLSession.shared.data(for: request)
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    /// The value of the first sample whose line starts with `prefix` (name and labels, in order).
    static func value(_ exposition: String, _ prefix: String) -> Double? {
        for line in exposition.split(separator: "\n") where line.hasPrefix(prefix) {
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }

    static let join = "mutation J($d: ID!) { joinWaitingRoom(dealId: $d) { ticket state pass { token } } }"
    static let admission = "query A($d: ID!, $t: ID!) { admission(dealId: $d, ticket: $t) { state pass { token } } }"
    static let createOrder = "mutation C($i: CreateOrderInput!) { createOrder(input: $i) { id status } }"
    static let order = "query O($id: ID!) { order(id: $id) { id status } }"

    /// One shopper: joins, polls until admitted, orders with the pass, polls the order until decided.
    /// Returns the codes of the business answers met on the way (SOLD_OUT…).
    static func shop(_ port: Int, deal: DealID, user: String, issuer: ShopperTokenIssuer) async throws -> [String] {
        let token = try await issuer.issue(for: try UserID(user), at: Date())
        func code(_ reply: [String: Any]) -> String? {
            ((reply["errors"] as? [[String: Any]])?.first?["extensions"] as? [String: Any])?["code"] as? String
        }
        let joined = try await graphQL(port, join, ["d": deal.rawValue], token: token)
        if let code = code(joined) { return [code] }
        let room = try #require((joined["data"] as? [String: Any])?["joinWaitingRoom"] as? [String: Any], "\(joined)")
        var pass = (room["pass"] as? [String: Any])?["token"] as? String
        if pass == nil {
            let ticket = try #require(room["ticket"] as? String, "\(room)")
            pass = try await eventually(timeout: .seconds(30)) {
                let polled = try await graphQL(port, admission, ["d": deal.rawValue, "t": ticket], token: token)
                if let code = code(polled) { return "!" + code }
                let status = try need((polled["data"] as? [String: Any])?["admission"] as? [String: Any], "\(polled)")
                return try need((status["pass"] as? [String: Any])?["token"] as? String, "not admitted yet")
            }
        }
        if let failed = pass, failed.hasPrefix("!") { return [String(failed.dropFirst())] }
        let input: [String: Any] = [
            "dealId": deal.rawValue, "quantity": 1, "idempotencyKey": "key-\(user)", "pass": pass!,
        ]
        let created = try await graphQL(port, createOrder, ["i": input], token: token)
        if let code = code(created) { return [code] }
        let id = try #require(
            ((created["data"] as? [String: Any])?["createOrder"] as? [String: Any])?["id"] as? String, "\(created)")
        let status = try await eventually(timeout: .seconds(60)) {
            let polled = try await graphQL(port, order, ["id": id], token: token)
            let status = try need(
                ((polled["data"] as? [String: Any])?["order"] as? [String: Any])?["status"] as? String, "\(polled)")
            guard status != "PENDING" else { throw NotYet("order \(id) still PENDING") }
            return status
        }
        return [status]
    }

    @Test func metricsPassPromtoolAndServeEveryMetricTheRulesAndDashboardsRead() async throws {
        let promtool = try Promtool.find()
        let endpointsFile = Self.root + "/.stack/endpoints.env"
        let policyFile = try TestStack.policyFile()
        defer { try? FileManager.default.removeItem(atPath: policyFile) }
        var environment = Self.processEnvironment(policyFile: policyFile, isolatedAs: "telemetry")
        environment["FLASHDEAL_READINESS_TIMEOUT_MS"] = "1000"
        environment["FLASHDEAL_ADMISSION_RATE"] = "500"
        var logger = Logger(label: "telemetry-test")
        logger.logLevel = .warning

        let workerConfiguration = try WorkerApp.configuration(environment: environment, endpointsFile: endpointsFile)
        let settings = try WorkerSettings.load(environment: environment)
        let worker = try await Self.start { onRunning in
            try WorkerApp.build(
                workerConfiguration, settings: settings, partitions: 3, logger: logger, onServerRunning: onRunning)
        }
        var gateway: Running?
        do {
            // Ready once its topics exist and it consumes (the gateway's lag probe reads that group).
            _ = try await eventually(timeout: .seconds(60)) {
                let (status, body) = try await Self.get(worker.port, "/readyz")
                guard status == 200 else { throw NotYet("worker not ready: \(body)") }
            }
            let gatewayConfiguration = try GatewayApp.configuration(
                environment: environment, endpointsFile: endpointsFile)
            let started = try await Self.start { onRunning in
                try await GatewayApp.build(gatewayConfiguration, logger: logger, onServerRunning: onRunning)
            }
            gateway = started
            try await traffic(gateway: started.port, worker: worker.port)

            let (gatewayStatus, gatewayMetrics) = try await Self.get(started.port, "/metrics")
            let (workerStatus, workerMetrics) = try await Self.get(worker.port, "/metrics")
            #expect(gatewayStatus == 200 && workerStatus == 200)

            for (name, exposition) in [("gateway", gatewayMetrics), ("worker", workerMetrics)] {
                let check = try promtool.run(["check", "metrics"], input: exposition)
                #expect(
                    check.status == 0 && check.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
                    "promtool check metrics on the \(name)'s /metrics (exit \(check.status)):\n\(check.output)")
                #expect(exposition.contains("# HELP flashdeal_build_info "), "\(name)")
            }

            // The new series record what happened: produce latency on both sides, MongoDB writes, stock, ETA.
            let prefix = environment["FLASHDEAL_TOPIC_PREFIX"]!
            let requests =
                "flashdeal_kafka_produce_duration_seconds_count{topic=\"\(prefix)flashdeal.order-requests\",result=\"ok\"}"
            let events =
                "flashdeal_kafka_produce_duration_seconds_count{topic=\"\(prefix)flashdeal.order-events\",result=\"ok\"}"
            #expect((Self.value(gatewayMetrics, requests) ?? 0) >= 2, "\(requests) in\n\(gatewayMetrics)")
            #expect((Self.value(workerMetrics, events) ?? 0) >= 2, "\(events) in\n\(workerMetrics)")
            let inserts = "flashdeal_mongo_write_duration_seconds_count{operation=\"insert_orders\",result=\"ok\"}"
            #expect((Self.value(workerMetrics, inserts) ?? 0) >= 1, "\(inserts) in\n\(workerMetrics)")
            #expect(gatewayMetrics.contains("flashdeal_waitingroom_eta_seconds{deal="), "\(gatewayMetrics)")
            #expect(
                gatewayMetrics.contains(
                    "flashdeal_kafka_consumer_lag_messages{group=\"\(environment["FLASHDEAL_WORKER_GROUP"]!)\""))

            let served = PromQLSources.sampleNames(in: gatewayMetrics).union(
                PromQLSources.sampleNames(in: workerMetrics))
            let recorded = try PromQLSources.recordedNames()
            var missing: [String] = []
            for expression in try PromQLSources.ruleExpressions() + PromQLSources.dashboardExpressions() {
                for name in PromQLSources.metricNames(in: expression.promQL) {
                    let known =
                        name.contains(":")
                        ? recorded.contains(name)
                        : served.contains(name) || PromQLSources.synthetic.contains(name)
                    if !known { missing.append("\(name) — read by \(expression.source)") }
                }
            }
            #expect(
                missing.isEmpty,
                "metrics read by the rules or dashboards that neither process serves:\n\(missing.joined(separator: "\n"))"
            )
        } catch {
            await gateway?.stop()
            await worker.stop()
            throw error
        }
        await gateway?.stop()
        await worker.stop()
    }

    /// `flashdeal_ratelimit_policy_version_info` is an info metric: after a reload only the version in
    /// force is exposed, at 1 (the previous version's series is removed, never left at 0).
    @Test func thePolicyVersionInfoNamesOnlyTheVersionInForce() async throws {
        let file = NSTemporaryDirectory() + TestStack.uniqueName("telemetry-reload") + ".yaml"
        defer { try? FileManager.default.removeItem(atPath: file) }
        func policies(_ capacity: Int) -> String {
            """
            version: 1
            defaults: {failMode: open, action: reject}
            policies:
              - name: everything
                key: global
                bucket: {capacity: \(capacity), refillPerSecond: 1000000}
            """
        }
        try policies(1_000_000).write(toFile: file, atomically: true, encoding: .utf8)
        let environment = Self.processEnvironment(policyFile: file)
        var logger = Logger(label: "telemetry-test")
        logger.logLevel = .warning
        let configuration = try GatewayApp.configuration(
            environment: environment, endpointsFile: Self.root + "/.stack/endpoints.env")
        let gateway = try await Self.start { onRunning in
            try await GatewayApp.build(configuration, logger: logger, onServerRunning: onRunning)
        }
        do {
            func versions() async throws -> [String: Double] {
                let (_, text) = try await Self.get(gateway.port, "/metrics")
                var out: [String: Double] = [:]
                for line in text.split(separator: "\n")
                where line.hasPrefix("flashdeal_ratelimit_policy_version_info{version=\"") {
                    let version = line.dropFirst("flashdeal_ratelimit_policy_version_info{version=\"".count).prefix {
                        $0 != "\""
                    }
                    out[String(version)] = line.split(separator: " ").last.flatMap { Double($0) }
                }
                return out
            }
            let first = try await versions()
            #expect(first.count == 1 && first.values.allSatisfy { $0 == 1 }, "\(first)")
            try policies(999_999).write(toFile: file, atomically: true, encoding: .utf8)
            let second = try await eventually(timeout: .seconds(10)) {
                let now = try await versions()
                guard now.keys.first != first.keys.first else { throw NotYet("not reloaded yet: \(now)") }
                return now
            }
            #expect(second.count == 1 && second.values.allSatisfy { $0 == 1 }, "after the reload: \(second)")
        } catch {
            await gateway.stop()
            throw error
        }
        await gateway.stop()
    }

    /// A few shoppers buy a two-unit deal (confirmed orders, a sold-out answer), one orders without a
    /// pass (an error); then waits until the worker has decided the orders and the gateway has read
    /// the workers' lag.
    /// Seeds a deal that opened a second ago, in MongoDB and Redis.
    static func seedOpenDeal(_ prefix: String, stock: Int) async throws -> DealID {
        let endpoints = try TestStack.endpoints()
        let redis = RedisClient(configuration: RedisConfiguration(host: endpoints.redisHost, port: endpoints.redisPort))
        let mongo = try MongoClient(configuration: MongoConfiguration(endpoints: endpoints))
        defer {
            redis.shutdown()
            mongo.shutdown()
        }
        let id = try DealID(TestStack.uniqueName(prefix))
        let product = try Product(id: try ProductID("prod-\(id.rawValue)"), name: "Telemetry test product")
        let opens = Date().addingTimeInterval(-1)
        let deal = try Deal(
            id: id, productId: product.id, title: "Telemetry deal",
            price: Money(amountMinor: 999, currency: try CurrencyCode("EUR")),
            startsAt: opens, endsAt: opens.addingTimeInterval(3600), totalStock: stock, perCustomerLimit: 1)
        let catalog = DealCatalog(mongo: mongo)
        try await catalog.upsert(product)
        try await catalog.upsert(deal)
        let store = DealStateStore(redis: redis)
        try await store.prepare()
        try await store.seed(deal, reset: true)
        return id
    }

    static func issuer() async throws -> ShopperTokenIssuer {
        try await ShopperTokenIssuer(
            key: .hs256(secret: Array(Self.jwtSecret.utf8)), issuer: "flashdeal",
            audience: "flashdeal-gateway", lifetime: .seconds(600))
    }

    func traffic(gateway: Int, worker: Int) async throws {
        let id = try await Self.seedOpenDeal("telemetry-deal", stock: 2)
        let issuer = try await Self.issuer()
        var outcomes: [String] = []
        for shopper in 1...3 {
            outcomes += try await Self.shop(
                gateway, deal: id, user: "telemetry-\(shopper)-\(id.rawValue)", issuer: issuer)
        }
        #expect(outcomes.filter { $0 == "CONFIRMED" }.count == 2, "\(outcomes)")
        // createOrder without a pass: an error outcome (PASS_REQUIRED).
        let token = try await issuer.issue(for: try UserID("telemetry-nopass-\(id.rawValue)"), at: Date())
        _ = try await Self.graphQL(
            gateway, Self.createOrder,
            ["i": ["dealId": id.rawValue, "quantity": 1, "idempotencyKey": "no-pass"]], token: token)

        try await eventually(timeout: .seconds(60)) {
            let (_, workerMetrics) = try await Self.get(worker, "/metrics")
            let confirmed = Self.value(workerMetrics, "flashdeal_worker_orders_total{status=\"CONFIRMED\"}") ?? 0
            guard confirmed >= 2 else { throw NotYet("worker confirmed \(confirmed) orders") }
            let (_, gatewayMetrics) = try await Self.get(gateway, "/metrics")
            guard gatewayMetrics.contains("flashdeal_kafka_consumer_lag_messages{") else {
                throw NotYet("the gateway has not read the workers' lag yet")
            }
        }
    }
}
