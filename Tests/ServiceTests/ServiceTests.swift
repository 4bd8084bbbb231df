import Domain
import Foundation
import Gateway
import Infrastructure
import Logging
import Operations
import OrderWorker
import RateLimiting
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Black-box tests of the two processes over HTTP on a free port, against the real local stack.
@Suite("Gateway and worker processes over HTTP", .timeLimit(.minutes(2)))
struct ServiceTests {
    static let root = TestStack.root

    func configuration(_ name: String, environment extra: [String: String] = [:]) throws -> ServiceHostConfiguration {
        try ServiceHostConfiguration.load(
            name: name, defaultPort: 0, environment: environment(extra),
            endpointsFile: Self.root + "/.stack/endpoints.env")
    }

    func environment(_ extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["FLASHDEAL_HTTP_PORT"] = "0"
        environment["FLASHDEAL_DRAIN_MS"] = "1000"
        // The production default: with every test of the parallel phase on two cores, a healthy
        // broker's or database's answer took 0.53-0.55 s once (a fresh clone's first run).
        environment["FLASHDEAL_READINESS_TIMEOUT_MS"] = "1000"
        environment["FLASHDEAL_JWT_SECRET"] = "service-tests-secret-0123456789abcdefghij"
        environment["FLASHDEAL_PASS_KEYS"] = "s1:service-tests-pass-key-0123456789abcdefgh"
        environment.merge(extra) { _, new in new }
        return environment
    }

    func gatewayConfiguration(
        policyFile: String = ServiceTests.root + "/policies/flash-sale.yaml",
        environment extra: [String: String] = [:]
    ) throws -> GatewayConfiguration {
        var env = environment(extra)
        env["FLASHDEAL_POLICY_FILE"] = policyFile
        return try GatewayApp.configuration(environment: env, endpointsFile: Self.root + "/.stack/endpoints.env")
    }

    /// Runs the group, hands `body` the bound port, then shuts the group down gracefully.
    func running(
        _ build: (@escaping @Sendable (Int) async -> Void) async throws -> ServiceGroup,
        _ body: (Int, ServiceGroup) async throws -> Void
    ) async throws {
        let port = Mutex<Int?>(nil)
        let group = try await build { bound in port.withLock { $0 = bound } }
        let task = Task { try await group.run() }
        let deadline = ContinuousClock.now + .seconds(10)
        while port.withLock({ $0 }) == nil {
            try #require(ContinuousClock.now < deadline, "the server did not start listening")
            try await Task.sleep(for: .milliseconds(20))
        }
        do {
            try await body(port.withLock { $0 }!, group)
        } catch {
            await group.triggerGracefulShutdown()
            _ = await task.result
            throw error
        }
        await group.triggerGracefulShutdown()
        try await task.value
    }

    func get(_ port: Int, _ path: String) async throws -> (Int, Data) {
        let url = URL(string: "http://127.0.0.1:\(port)\(path)")!
        let (data, response) = try await URLSession.shared.data(from: url)
        return ((response as? HTTPURLResponse)?.statusCode ?? -1, data)
    }

    @Test func gatewayIsLiveAndReadyWhenEveryServerAnswers() async throws {
        let config = try gatewayConfiguration()
        try await running({
            try await GatewayApp.build(
                config.withPolicy(Self.root + "/policies/flash-sale.yaml"), logger: Logger(label: "test"),
                onServerRunning: $0)
        }) { port, _ in
            let (liveStatus, liveBody) = try await get(port, "/livez")
            #expect(liveStatus == 200)
            #expect(String(decoding: liveBody, as: UTF8.self) == "ok\n")
            let (status, body) = try await get(port, "/readyz")
            let report = try JSONDecoder().decode(ReadinessReport.self, from: body)
            #expect(status == 200, "\(report)")
            #expect(report.ready)
            #expect(Set(report.checks.map(\.name)) == ["redis", "kafka", "mongo"])
            #expect(report.checks.allSatisfy { $0.ok })
        }
    }

    @Test func readinessFailsWithinItsBudgetWhenAServerIsUnreachable() async throws {
        // Nothing listens on port 1: Redis is "down" for this process only.
        let config = try gatewayConfiguration(environment: ["FLASHDEAL_REDIS_URL": "redis://127.0.0.1:1"])
        try await running({
            try await GatewayApp.build(
                config.withPolicy(Self.root + "/policies/flash-sale.yaml"), logger: Logger(label: "test"),
                onServerRunning: $0)
        }) { port, _ in
            let start = ContinuousClock.now
            let (status, body) = try await get(port, "/readyz")
            let elapsed = ContinuousClock.now - start
            let report = try JSONDecoder().decode(ReadinessReport.self, from: body)
            #expect(status == 503)
            #expect(!report.ready)
            let redis = try #require(report.checks.first { $0.name == "redis" })
            #expect(!redis.ok)
            #expect(redis.error?.contains("connection") == true, "\(redis)")
            #expect(report.checks.filter { $0.name != "redis" }.allSatisfy { $0.ok })
            // The 1 s budget plus scheduling slack on a busy two-core machine; without a budget the
            // check would wait for the connection attempt's own timeout.
            #expect(elapsed < .milliseconds(1_000 + 1_500))
            // Liveness does not depend on the servers: restarting the process would not help.
            #expect(try await get(port, "/livez").0 == 200)
        }
    }

    @Test func gracefulShutdownDrainsBeforeStopping() async throws {
        let config = try gatewayConfiguration(environment: ["FLASHDEAL_DRAIN_MS": "1000"])
        let port = Mutex<Int?>(nil)
        let group = try await GatewayApp.build(
            config.withPolicy(Self.root + "/policies/flash-sale.yaml"), logger: Logger(label: "test")
        ) { bound in port.withLock { $0 = bound } }
        let task = Task { try await group.run() }
        while port.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(20)) }
        let bound = port.withLock { $0 }!
        #expect(try await get(bound, "/readyz").0 == 200)

        let start = ContinuousClock.now
        await group.triggerGracefulShutdown()
        try await Task.sleep(for: .milliseconds(200))
        // Still serving, but no longer ready: load balancers take it out first.
        let (status, body) = try await get(bound, "/readyz")
        #expect(status == 503)
        #expect(try JSONDecoder().decode(ReadinessReport.self, from: body).draining)
        try await task.value
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(1_000), "stopped before the drain delay: \(elapsed)")
        #expect(elapsed < .seconds(6), "took \(elapsed) to stop")
    }

    @Test func workerCreatesTheContractTopicsBeforeItIsReady() async throws {
        let config = try configuration("worker-test")
        try await running({
            try WorkerApp.build(config, partitions: 12, logger: Logger(label: "test"), onServerRunning: $0)
        }) { port, _ in
            // Creating 3 × 12 partitions on the durable broker can take a few seconds: ready once done.
            let report = try await eventually(timeout: .seconds(30)) {
                let (status, body) = try await get(port, "/readyz")
                let report = try JSONDecoder().decode(ReadinessReport.self, from: body)
                guard status == 200 else { throw NotReady(report: report) }
                return report
            }
            #expect(report.checks.contains { $0.name == "topics" && $0.ok })
            let metadata = try await KafkaAdmin(brokers: config.endpoints.kafkaBrokers).metadata()
            for topic in [FlashDealTopics.orderRequests, FlashDealTopics.orderEvents, FlashDealTopics.orderRequestsDLQ]
            {
                #expect(metadata.partitionsByTopic[topic] != nil, "\(topic) missing")
            }
        }
    }

    @Test func gatewayServesTheActivePolicyVersion() async throws {
        let config = try gatewayConfiguration()
        let file = Self.root + "/policies/flash-sale.yaml"
        let expected = try PolicyLoader.load(path: file)
        try await running({
            try await GatewayApp.build(config.withPolicy(file), logger: Logger(label: "test"), onServerRunning: $0)
        }) { port, _ in
            let (status, body) = try await get(port, "/policies")
            #expect(status == 200)
            let json = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            #expect(json["version"] as? String == expected.digest)
            #expect(json["policies"] as? [String] == expected.policies.map(\.name))
        }
    }

    @Test func metricsNameTheBuildAndTheActivePolicyVersion() async throws {
        let config = try gatewayConfiguration()
        let file = Self.root + "/policies/flash-sale.yaml"
        let digest = try PolicyLoader.load(path: file).digest
        try await running({
            try await GatewayApp.build(config.withPolicy(file), logger: Logger(label: "test"), onServerRunning: $0)
        }) { port, _ in
            let (status, body) = try await get(port, "/metrics")
            let text = String(decoding: body, as: UTF8.self)
            #expect(status == 200)
            #expect(text.contains("flashdeal_build_info{service=\"flashdeal-gateway\",version=\"0.1.0\"} 1"), "\(text)")
            #expect(text.contains("flashdeal_ratelimit_policy_version_info{version=\"\(digest)\"} 1"), "\(text)")
            #expect(text.contains("# HELP flashdeal_ratelimit_policy_version_info "))
        }
    }

    @Test func gatewayRefusesToStartWithAnInvalidPolicyFile() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).yaml").path
        try "version: 1\npolicies:\n  - name: x\n    key: nobody\n".write(
            toFile: file, atomically: true, encoding: .utf8)
        let config = try gatewayConfiguration()
        let error = await #expect(throws: PolicyFileError.self) {
            _ = try await GatewayApp.build(config.withPolicy(file), logger: Logger(label: "test"))
        }
        #expect(error?.diagnostics.contains { $0.line == 4 } == true, "\(String(describing: error))")
    }

    struct NotReady: Error { let report: ReadinessReport }
}

extension GatewayConfiguration {
    func withPolicy(_ file: String) -> GatewayConfiguration {
        var copy = self
        copy.policyFile = file
        return copy
    }
}
