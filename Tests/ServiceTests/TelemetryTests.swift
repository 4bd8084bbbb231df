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

/// prometheus/ and grafana/ checked with promtool: the configuration and rules are valid, the alert
/// unit tests pass and cover every alert both ways, and every PromQL expression parses.
@Suite("Prometheus rules, configuration and Grafana dashboards (promtool)")
struct PrometheusRulesTests {
    static let root = TestStack.root

    @Test func promtoolIsInstalled() throws {
        let promtool = try Promtool.find()
        let version = try promtool.run(["--version"])
        #expect(version.status == 0, "\(version.output)")
        #expect(version.output.contains("version 2."), "\(version.output)")
    }

    @Test func configurationAndRuleFilesPassPromtoolChecks() throws {
        let promtool = try Promtool.find()
        let config = try promtool.run(["check", "config", "prometheus/prometheus.yml"])
        #expect(config.status == 0, "promtool check config:\n\(config.output)")
        #expect(config.output.contains("SUCCESS"), "\(config.output)")
        let rules = try promtool.run(["check", "rules"] + PromQLSources.ruleFiles)
        #expect(rules.status == 0, "promtool check rules:\n\(rules.output)")
        #expect(!rules.output.contains("FAILED"), "\(rules.output)")
    }

    static func testFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root + "/prometheus/tests")
            .filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }.sorted().map { "prometheus/tests/" + $0 }
    }

    @Test func alertUnitTestsPass() throws {
        let promtool = try Promtool.find()
        let files = try Self.testFiles()
        try #require(!files.isEmpty, "no promtool unit tests under prometheus/tests")
        let result = try promtool.run(["test", "rules"] + files)
        #expect(result.status == 0, "promtool test rules:\n\(result.output)")
        #expect(result.output.contains("SUCCESS") && !result.output.contains("FAILED"), "\(result.output)")
    }

    /// Each alert has a unit test where it fires and one where it stays silent.
    @Test func everyAlertIsTestedFiringAndSilent() throws {
        let rules = try String(contentsOfFile: Self.root + "/prometheus/rules/flashdeal-alerts.yml", encoding: .utf8)
        let alerts = rules.components(separatedBy: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("- alert:")
                ? trimmed.dropFirst("- alert:".count).trimmingCharacters(in: .whitespaces) : nil
        }
        try #require(alerts.count >= 6, "\(alerts)")
        var firing: Set<String> = []
        var silent: Set<String> = []
        for file in try Self.testFiles() {
            let lines = try String(contentsOfFile: Self.root + "/" + file, encoding: .utf8).components(
                separatedBy: "\n")
            for (i, line) in lines.enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard trimmed.hasPrefix("alertname:"), i + 1 < lines.count else { continue }
                let name = trimmed.dropFirst("alertname:".count).trimmingCharacters(in: .whitespaces)
                let next = lines[i + 1].trimmingCharacters(in: .whitespaces)
                if next == "exp_alerts: []" {
                    silent.insert(name)
                } else if next == "exp_alerts:" {
                    firing.insert(name)
                }
            }
        }
        for alert in alerts {
            #expect(firing.contains(alert), "no unit test where \(alert) fires")
            #expect(silent.contains(alert), "no unit test where \(alert) stays silent")
        }
    }

    @Test func everyRuleAndDashboardExpressionParses() throws {
        let promtool = try Promtool.find()
        let expressions = try PromQLSources.ruleExpressions() + PromQLSources.dashboardExpressions()
        try #require(expressions.count >= 50, "found only \(expressions.count) expressions")
        for expression in expressions {
            #expect(
                !expression.promQL.contains("$"),
                "a Grafana variable is left in \(expression.source): \(expression.promQL)")
            #expect(
                !expression.promQL.trimmingCharacters(in: .whitespaces).isEmpty,
                "empty expression in \(expression.source)")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "every-expression-\(UUID().uuidString).yml")
        try PromQLSources.rulesFile(for: expressions).write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try promtool.run(["check", "rules", file.path])
        // On failure promtool names the rule (check:expression_N); say where N comes from.
        let sources = expressions.enumerated().map {
            "check:expression_\($0.offset) = \($0.element.source): \($0.element.promQL)"
        }
        #expect(
            result.status == 0,
            "promtool could not parse every expression:\n\(result.output)\n\(sources.joined(separator: "\n"))")
        #expect(result.output.contains("SUCCESS: \(expressions.count) rules found"), "\(result.output)")
    }

    @Test func theMetricNameExtractorSeesMetricsOnly() {
        let names = PromQLSources.metricNames(
            in: """
                histogram_quantile(0.99, sum by (operation, le) (rate(a_seconds_bucket{outcome=~"ok|x_total",le="0.5"}[5m] offset 1h)))
                / on (operation) group_left sum without (instance) (b_total) > 1e3 and c:recorded:ratio_rate5m or vector(0)
                """)
        #expect(names == ["a_seconds_bucket", "b_total", "c:recorded:ratio_rate5m"], "\(names)")
    }

    @Test func dashboardsAndProvisioningAreWellFormed() throws {
        var uids: Set<String> = []
        for file in PromQLSources.dashboards {
            let data = try Data(contentsOf: URL(fileURLWithPath: Self.root + "/" + file))
            let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(file)")
            let uid = try #require(dashboard["uid"] as? String, "\(file) has no uid")
            #expect(uids.insert(uid).inserted, "uid \(uid) used twice")
            #expect((dashboard["title"] as? String)?.isEmpty == false, "\(file) has no title")
            let panels = try #require(dashboard["panels"] as? [[String: Any]], "\(file) has no panels")
            var ids: Set<Int> = []
            for panel in panels {
                let id = try #require(panel["id"] as? Int, "\(file): a panel without id")
                #expect(ids.insert(id).inserted, "\(file): panel id \(id) used twice")
                let grid = try #require(panel["gridPos"] as? [String: Int], "\(file): panel \(id) has no gridPos")
                #expect((grid["x"] ?? 0) + (grid["w"] ?? 0) <= 24, "\(file): panel \(id) is wider than the grid")
                if panel["type"] as? String == "row" { continue }
                let targets = try #require(panel["targets"] as? [[String: Any]], "\(file): panel \(id) has no targets")
                #expect(!targets.isEmpty, "\(file): panel \(id) (\(panel["title"] ?? "")) queries nothing")
                for target in targets {
                    #expect(target["expr"] is String, "\(file): panel \(id) has a target without expr")
                    #expect(
                        (target["datasource"] as? [String: String])?["type"] == "prometheus", "\(file): panel \(id)")
                }
            }
        }
        #expect(uids == ["flashdeal-hot-path", "flashdeal-slo"])
        for file in [
            "grafana/provisioning/datasources/prometheus.yaml", "grafana/provisioning/dashboards/flashdeal.yaml",
        ] {
            let text = try String(contentsOfFile: Self.root + "/" + file, encoding: .utf8)
            #expect(text.contains("apiVersion: 1"), "\(file)")
        }
    }
}

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
                throw NotYet(message: "the server did not start listening")
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
            guard status != "PENDING" else { throw NotYet(message: "order \(id) still PENDING") }
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
                guard status == 200 else { throw NotYet(message: "worker not ready: \(body)") }
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
                guard now.keys.first != first.keys.first else { throw NotYet(message: "not reloaded yet: \(now)") }
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
            guard confirmed >= 2 else { throw NotYet(message: "worker confirmed \(confirmed) orders") }
            let (_, gatewayMetrics) = try await Self.get(gateway, "/metrics")
            guard gatewayMetrics.contains("flashdeal_kafka_consumer_lag_messages{") else {
                throw NotYet(message: "the gateway has not read the workers' lag yet")
            }
        }
    }
}

struct NotYet: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Unwraps inside `eventually` blocks: a plain thrown error (retried), not a recorded issue.
func need<T>(_ value: T?, _ message: @autoclosure () -> String = "missing value") throws -> T {
    guard let value else { throw NotYet(message: message()) }
    return value
}
