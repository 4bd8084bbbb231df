import Admission
import Domain
import Foundation
import Gateway
import Infrastructure
import Operations
import TestSupport
import Testing

@Suite("Gateway configuration") struct GatewayConfigurationTests {
    func load(_ environment: [String: String]) throws -> GatewayConfiguration {
        try GatewayConfiguration.load(environment: environment, endpointsFile: TestStack.root + "/.stack/endpoints.env")
    }

    @Test func theExampleFileStatesTheDefaults() throws {
        let defaults = try load([:])
        let fromFile = try load(["FLASHDEAL_GATEWAY_CONFIG": TestStack.root + "/Gateway/gateway.yaml"])
        #expect(fromFile.graphQL == defaults.graphQL)
        #expect(fromFile.orders == defaults.orders)
        #expect(fromFile.waitingRoom == defaults.waitingRoom)
        #expect(fromFile.rateLimiter == defaults.rateLimiter)
        #expect(fromFile.policyFile == defaults.policyFile)
        #expect(fromFile.host.port == defaults.host.port)
        #expect(fromFile.host.drainDelay == defaults.host.drainDelay)
        #expect(fromFile.pagesTimeZone == defaults.pagesTimeZone)
        #expect(fromFile.operatorGuardrails == defaults.operatorGuardrails)
    }

    @Test func fileThenEnvironmentOverride() throws {
        var configuration = try load([:])
        try configuration.apply(
            yaml: "orders: {maxInFlight: 10, lingerMs: 5}\nwaitingRoom: {admissionRatePerSecond: 42}\n")
        #expect(configuration.orders.maxInFlight == 10)
        #expect(configuration.orders.linger == .milliseconds(5))
        #expect(configuration.waitingRoom.admissionRatePerSecond == 42)
        try configuration.apply(environment: [
            "FLASHDEAL_MAX_IN_FLIGHT": "7", "FLASHDEAL_PASS_KEYS": "a:0123456789abcdef0123456789abcdef,b:x",
        ])
        #expect(configuration.orders.maxInFlight == 7)
        #expect(configuration.passes.currentKey?.rawValue == "a")
        #expect(configuration.passes.keys.count == 2)
        #expect(configuration.orders.topic == "flashdeal.order-requests")
        try configuration.apply(environment: [
            "FLASHDEAL_TOPIC_PREFIX": "run-7.", "FLASHDEAL_WORKER_GROUP": "g7",
            "FLASHDEAL_ORDER_LINGER_MS": "4", "FLASHDEAL_PASS_KEYS": "a:0123456789abcdef0123456789abcdef",
        ])
        #expect(
            configuration.orders.topic == "run-7.flashdeal.order-requests", "the worker's prefix, for isolated runs")
        #expect(configuration.orders.workerGroup == "g7")
        #expect(configuration.orders.linger == .milliseconds(4))
    }

    /// The listener's settings follow the same rule as the rest: a file's `http` block, then the
    /// environment over it (a container sets FLASHDEAL_HTTP_HOST=0.0.0.0 over the file's loopback).
    @Test func theEnvironmentWinsOverTheFilesListenerSettingsToo() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("gw-\(UUID().uuidString).yaml")
        try "http: {host: 127.0.0.1, port: 8080, drainMs: 2000}\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let base = [
            "FLASHDEAL_GATEWAY_CONFIG": file.path, "FLASHDEAL_REDIS_URL": "redis://127.0.0.1:9",
            "FLASHDEAL_KAFKA_BROKERS": "127.0.0.1:9", "FLASHDEAL_MONGO_URI": "mongodb://127.0.0.1:9/",
        ]
        let fromFile = try GatewayConfiguration.load(environment: base, endpointsFile: nil)
        #expect(fromFile.host.host == "127.0.0.1" && fromFile.host.port == 8080)
        let overridden = try GatewayConfiguration.load(
            environment: base.merging([
                "FLASHDEAL_HTTP_HOST": "0.0.0.0", "FLASHDEAL_HTTP_PORT": "9090", "FLASHDEAL_DRAIN_MS": "5000",
            ]) { $1 }, endpointsFile: nil)
        #expect(overridden.host.host == "0.0.0.0" && overridden.host.port == 9090)
        #expect(overridden.host.drainDelay == .milliseconds(5_000))
    }

    @Test func badSettingsNameTheirPath() throws {
        var configuration = try load([:])
        let cases: [(String, String)] = [
            ("orders: {maxInFlite: 3}", "unknown setting orders.maxInFlite"),
            ("orders: {maxInFlight: 0}", "orders.maxInFlight must be within"),
            ("graphql: {introspection: maybe}", "graphql.introspection must be true or false"),
            ("orders: {compression: brotli}", "orders.compression must be one of"),
            ("waitingRoom: 3", "waitingRoom must be a mapping"),
            ("[1, 2]", "the top level must be a mapping"),
            ("orders: {", "not valid YAML"),
            ("pagesTimeZone: Mars/Olympus", "is not an IANA time zone"),
        ]
        for (yaml, message) in cases {
            #expect {
                try configuration.apply(yaml: yaml, file: "gateway.yaml")
            } throws: { error in
                "\(error)".contains(message) && "\(error)".contains("gateway.yaml")
            }
        }
        #expect(throws: ConfigurationError.self) {
            try configuration.apply(environment: ["FLASHDEAL_PASS_KEYS": "no-colon"])
        }
    }

    /// A variable set to something that does not parse, or out of its range, stops the start with
    /// its name (it used to be ignored, leaving the default in place without a word).
    @Test func malformedEnvironmentValuesNameTheirVariable() throws {
        var configuration = try load([:])
        for (name, value) in [
            ("FLASHDEAL_MAX_IN_FLIGHT", "many"), ("FLASHDEAL_ADMISSION_RATE", "-3"),
            ("FLASHDEAL_ORDER_LINGER_MS", "5000"), ("FLASHDEAL_PASS_LIFETIME_S", "1.5"),
            ("FLASHDEAL_ORDER_DELIVERY_TIMEOUT_MS", "10"), ("FLASHDEAL_RATELIMIT_BUDGET_MS", "soon"),
        ] {
            #expect {
                try configuration.apply(environment: [name: value])
            } throws: { error in
                "\(error)".contains(name) && "\(error)".contains(value)
            }
        }
        #expect {
            _ = try load(["FLASHDEAL_HTTP_PORT": "http"])
        } throws: { error in
            "\(error)".contains("FLASHDEAL_HTTP_PORT")
        }
        try configuration.apply(environment: ["FLASHDEAL_MAX_IN_FLIGHT": "", "FLASHDEAL_ADMISSION_RATE": "12.5"])
        #expect(
            configuration.orders.maxInFlight == GatewayConfiguration.OrderSettings().maxInFlight,
            "empty keeps the default")
        #expect(configuration.waitingRoom.admissionRatePerSecond == 12.5)
    }

    @Test func producerPropertiesComeFromTheEnvironmentAndAMalformedListStopsTheStart() throws {
        var configuration = try load([:])
        #expect(configuration.orders.producerProperties.isEmpty)
        try configuration.apply(environment: [
            "FLASHDEAL_KAFKA_PRODUCER_PROPERTIES": "enable.idempotence=true, linger.ms = 10"
        ])
        #expect(configuration.orders.producerProperties == ["enable.idempotence": "true", "linger.ms": "10"])
        #expect {
            try configuration.apply(environment: ["FLASHDEAL_KAFKA_PRODUCER_PROPERTIES": "enable.idempotence"])
        } throws: { error in
            "\(error)".contains("FLASHDEAL_KAFKA_PRODUCER_PROPERTIES") && "\(error)".contains("name=value")
        }
    }
}
