public import Admission
public import Credentials
public import Domain
public import Foundation
import Infrastructure
public import Operations
public import RateLimiting
import Yams

/// The gateway's whole configuration: built-in defaults, then the YAML file
/// (`FLASHDEAL_GATEWAY_CONFIG`, see `Gateway/gateway.yaml`), then environment variables. Secrets
/// (JWT secret, pass keys) come only from the environment or from files it names. The table of
/// every setting is in docs/configuration.md.
public struct GatewayConfiguration: Sendable {
    public var host: ServiceHostConfiguration
    public var policyFile: String = "policies/flash-sale.yaml"
    public var rateLimiter = RateLimiterConfiguration()
    public var graphQL = GraphQLLimits()
    public var auth = AuthSettings()
    public var passes = PassSettings()
    public var waitingRoom = WaitingRoomSettings()
    public var orders = OrderSettings()
    public var trustedProxies: [String] = []
    /// The zone the shopper pages show times in (`pagesTimeZone`, `FLASHDEAL_PAGES_TIMEZONE`).
    public var pagesTimeZone = TimeZone(identifier: "UTC")!
    public var operatorGuardrails = OperatorGuardrails()
    /// This gateway's name in the operators' audit (`FLASHDEAL_INSTANCE_ID`, e.g. the pod's name).
    public var instanceId = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"

    public struct GraphQLLimits: Sendable, Equatable {
        public var maxBodyBytes = 32 * 1024
        public var maxDepth = 15
        public var maxComplexity = 200
        public var documentCacheEntries = 512
        public var persistedQueryEntries = 1_024
        public var introspection = true
        /// Operations on the hot root fields run compiled (``CompiledOperation``); off, everything
        /// goes through the general executor.
        public var compiledOperations = true
        public init() {}
    }

    public struct AuthSettings: Sendable {
        /// HS256 shared secret (`FLASHDEAL_JWT_SECRET`), or an Ed25519 public key
        /// (`FLASHDEAL_JWT_ED25519_PUBLIC_KEY`, base64url of the 32 raw bytes).
        public var key: ShopperVerificationKey?
        public var issuer: String? = "flashdeal"
        public var audience: String? = "flashdeal-gateway"
        public var leeway: Duration = .seconds(30)
        public init() {}
    }

    public struct PassSettings: Sendable {
        /// `FLASHDEAL_PASS_KEYS` = `id1:secret1,id2:secret2` (secrets ≥ 32 bytes); the current key is
        /// `FLASHDEAL_PASS_CURRENT_KEY` (default: the first listed).
        public var keys: [SigningKeyID: [UInt8]] = [:]
        public var currentKey: SigningKeyID?
        public var leeway: Duration = .seconds(2)
        public init() {}
    }

    public struct OrderSettings: Sendable, Equatable {
        public var topic = "flashdeal.order-requests"
        /// The order workers' consumer group, whose lag slows admission.
        public var workerGroup = "flashdeal-order-worker"
        /// The answer bound: no broker acknowledgement within it → UNAVAILABLE, outcome unknown.
        public var deliveryTimeout: Duration = .seconds(3)
        public var linger: Duration = .milliseconds(5)
        public var compression = "none"
        /// librdkafka properties for the order producer, over Flash Deal's own
        /// (`FLASHDEAL_KAFKA_PRODUCER_PROPERTIES`, `name=value,…`).
        public var producerProperties: [String: String] = [:]
        /// createOrder calls between "accepted by the rate limiter" and "answered", at most.
        public var maxInFlight = 4_096
        /// Producer messages queued locally or in flight to the broker, at most, before shedding.
        public var maxProducerQueue = 20_000
        /// How stale the local copy of a deal's state (stock, sold out, window) may get.
        public var dealStateRefresh: Duration = .milliseconds(50)
        /// Budget of the pass-binding Redis call.
        public var redisBudget: Duration = .milliseconds(50)
        public var maxQuantity = 10
        /// Kept requests (pass bound, no broker acknowledgement) the gateway sends again from memory, at most.
        public var redeliverMaxPending = 50_000
        /// How long the gateway keeps sending one kept request before leaving it to the copy in Redis.
        public var redeliverFor: Duration = .seconds(600)
        public init() {}
    }

    public init(host: ServiceHostConfiguration) {
        self.host = host
    }

    /// Defaults ← YAML file (if any) ← environment.
    public static func load(environment: [String: String], endpointsFile: String?) throws -> GatewayConfiguration {
        let host = try ServiceHostConfiguration.load(
            name: "flashdeal-gateway", defaultPort: 8080,
            environment: environment, endpointsFile: endpointsFile)
        var configuration = GatewayConfiguration(host: host)
        if let path = environment["FLASHDEAL_GATEWAY_CONFIG"], !path.isEmpty {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ConfigurationError("cannot read \(path): \(error.localizedDescription)")
            }
            try configuration.apply(yaml: text, file: path)
        }
        try configuration.apply(environment: environment)
        return configuration
    }

    static func firstNonScalarKey(_ node: Node) -> Node? {
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                if key.scalar == nil { return key }
                if let inner = firstNonScalarKey(value) { return inner }
            }
        case .sequence(let sequence):
            for item in sequence { if let inner = firstNonScalarKey(item) { return inner } }
        default: break
        }
        return nil
    }

    /// Applies a YAML document; unknown keys are errors (with the path), so typos do not pass silently.
    public mutating func apply(yaml text: String, file: String = "<yaml>") throws {
        let root: Any?
        do {
            // Yams's constructor stops the process on a mapping key that is not a scalar (found by
            // scripts/fuzz): such keys are refused on the composed tree first.
            if let node = try Yams.compose(yaml: text), let key = Self.firstNonScalarKey(node) {
                throw ConfigurationError("\(file): line \(key.mark?.line ?? 0): a key must be a plain name")
            }
            root = try Yams.load(yaml: text)
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError("\(file): not valid YAML: \(error)")
        }
        guard let tree = root as? [String: Any] else {
            if root == nil { return }
            throw ConfigurationError("\(file): the top level must be a mapping")
        }
        let reader = ConfigReader(file: file)
        try reader.section(tree, "") { key, value, path in
            switch key {
            case "policyFile": policyFile = try reader.string(value, path)
            case "operator": try applyOperator(value, path, reader)
            case "trustedProxies": trustedProxies = try reader.strings(value, path)
            case "pagesTimeZone": pagesTimeZone = try Self.timeZone(try reader.string(value, path), "\(file): \(path)")
            case "http":
                try reader.section(value, path) { key, value, path in
                    switch key {
                    case "host": host.host = try reader.string(value, path)
                    case "port": host.port = try reader.int(value, path, in: 0...65_535)
                    case "drainMs": host.drainDelay = .milliseconds(try reader.int(value, path, in: 0...600_000))
                    default: throw reader.unknown(path)
                    }
                }
            case "graphql":
                try reader.section(value, path) { key, value, path in
                    switch key {
                    case "maxBodyBytes": graphQL.maxBodyBytes = try reader.int(value, path, in: 256...16_777_216)
                    case "maxDepth": graphQL.maxDepth = try reader.int(value, path, in: 2...100)
                    case "maxComplexity": graphQL.maxComplexity = try reader.int(value, path, in: 1...100_000)
                    case "documentCacheEntries":
                        graphQL.documentCacheEntries = try reader.int(value, path, in: 0...1_000_000)
                    case "persistedQueryEntries":
                        graphQL.persistedQueryEntries = try reader.int(value, path, in: 0...1_000_000)
                    case "introspection": graphQL.introspection = try reader.bool(value, path)
                    case "compiledOperations": graphQL.compiledOperations = try reader.bool(value, path)
                    default: throw reader.unknown(path)
                    }
                }
            case "auth":
                try reader.section(value, path) { key, value, path in
                    switch key {
                    case "issuer": auth.issuer = try reader.optionalString(value, path)
                    case "audience": auth.audience = try reader.optionalString(value, path)
                    case "leewayMs": auth.leeway = .milliseconds(try reader.int(value, path, in: 0...600_000))
                    default: throw reader.unknown(path)
                    }
                }
            case "rateLimiter":
                try reader.section(value, path) { key, value, path in
                    switch key {
                    case "budgetMs":
                        rateLimiter.redisBudget = .milliseconds(try reader.int(value, path, in: 1...10_000))
                    case "overLimitCache": rateLimiter.overLimitCache = try reader.bool(value, path)
                    case "leaseMs":
                        let ms = try reader.int(value, path, in: 0...1_000)
                        rateLimiter.leasePeriod = ms == 0 ? nil : .milliseconds(ms)
                    case "leaseShare": rateLimiter.leaseShare = try reader.double(value, path, in: 0.01...0.5)
                    default: throw reader.unknown(path)
                    }
                }
            case "waitingRoom":
                try reader.section(value, path) { key, value, path in
                    switch key {
                    case "admissionRatePerSecond":
                        waitingRoom.admissionRatePerSecond = try reader.double(value, path, in: 0.01...1_000_000)
                    case "admissionBurst": waitingRoom.admissionBurst = try reader.int(value, path, in: 1...1_000_000)
                    case "maxActivePasses":
                        waitingRoom.maxActivePasses = try reader.int(value, path, in: 1...10_000_000)
                    case "passLifetimeSeconds":
                        waitingRoom.passLifetime = .seconds(try reader.int(value, path, in: 1...86_400))
                    case "preQueueWindowSeconds":
                        waitingRoom.preQueueWindow = .seconds(try reader.int(value, path, in: 0...604_800))
                    case "abandonAfterSeconds":
                        waitingRoom.abandonAfter = .seconds(try reader.int(value, path, in: 1...86_400))
                    case "lagThreshold": waitingRoom.lagThreshold = try reader.int(value, path, in: 1...100_000_000)
                    case "minimumLagFactor": waitingRoom.minimumLagFactor = try reader.double(value, path, in: 0...1)
                    case "drawChunk": waitingRoom.drawChunk = try reader.int(value, path, in: 1...1_000_000)
                    default: throw reader.unknown(path)
                    }
                }
            case "orders":
                try reader.section(value, path) { key, value, path in
                    switch key {
                    case "topic": orders.topic = try reader.string(value, path)
                    case "workerGroup": orders.workerGroup = try reader.string(value, path)
                    case "deliveryTimeoutMs":
                        orders.deliveryTimeout = .milliseconds(try reader.int(value, path, in: 100...120_000))
                    case "lingerMs": orders.linger = .milliseconds(try reader.int(value, path, in: 0...1_000))
                    case "compression":
                        orders.compression = try reader.string(
                            value, path, oneOf: ["none", "gzip", "snappy", "lz4", "zstd"])
                    case "maxInFlight": orders.maxInFlight = try reader.int(value, path, in: 1...1_000_000)
                    case "maxProducerQueue": orders.maxProducerQueue = try reader.int(value, path, in: 1...10_000_000)
                    case "dealStateRefreshMs":
                        orders.dealStateRefresh = .milliseconds(try reader.int(value, path, in: 5...5_000))
                    case "redisBudgetMs":
                        orders.redisBudget = .milliseconds(try reader.int(value, path, in: 1...10_000))
                    case "maxQuantity": orders.maxQuantity = try reader.int(value, path, in: 1...1_000)
                    case "redeliverMaxPending":
                        orders.redeliverMaxPending = try reader.int(value, path, in: 1...10_000_000)
                    case "redeliverForMs":
                        orders.redeliverFor = .milliseconds(try reader.int(value, path, in: 1_000...86_400_000))
                    default: throw reader.unknown(path)
                    }
                }
            default: throw reader.unknown(path)
            }
        }
    }

    /// Environment overrides (names in docs/configuration.md).
    public mutating func apply(environment env: [String: String]) throws {
        if let file = env["FLASHDEAL_POLICY_FILE"], !file.isEmpty { policyFile = file }
        rateLimiter = try rateLimiter.applying(environment: env)
        if let instance = env["FLASHDEAL_INSTANCE_ID"], !instance.isEmpty { instanceId = instance }
        if let zone = env["FLASHDEAL_PAGES_TIMEZONE"], !zone.isEmpty {
            pagesTimeZone = try Self.timeZone(zone, "FLASHDEAL_PAGES_TIMEZONE")
        }
        if let proxies = env["FLASHDEAL_TRUSTED_PROXIES"] {
            trustedProxies = proxies.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        }
        if let secret = try Self.secret(env, "FLASHDEAL_JWT_SECRET") { auth.key = .hs256(secret: Array(secret.utf8)) }
        if let encoded = try Self.secret(env, "FLASHDEAL_JWT_ED25519_PUBLIC_KEY") {
            // Padding is tolerated here (keys are pasted by hand); the codec itself is strict.
            let unpadded = encoded.hasSuffix("=") ? String(encoded.prefix { $0 != "=" }) : encoded
            guard let raw = Base64URL.decode(unpadded), raw.count == 32 else {
                throw ConfigurationError("FLASHDEAL_JWT_ED25519_PUBLIC_KEY must be base64url of 32 raw bytes")
            }
            auth.key = .ed25519(publicKey: raw)
        }
        if let issuer = env["FLASHDEAL_JWT_ISSUER"] { auth.issuer = issuer.isEmpty ? nil : issuer }
        if let audience = env["FLASHDEAL_JWT_AUDIENCE"] { auth.audience = audience.isEmpty ? nil : audience }
        if let list = try Self.secret(env, "FLASHDEAL_PASS_KEYS") {
            var keys: [SigningKeyID: [UInt8]] = [:]
            var first: SigningKeyID?
            for entry in list.split(separator: ",") {
                let parts = entry.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, let id = try? SigningKeyID(String(parts[0])) else {
                    throw ConfigurationError("FLASHDEAL_PASS_KEYS entries must be `keyId:secret`")
                }
                keys[id] = Array(parts[1].utf8)
                if first == nil { first = id }
            }
            passes.keys = keys
            passes.currentKey = first
        }
        if let current = env["FLASHDEAL_PASS_CURRENT_KEY"], !current.isEmpty {
            guard let id = try? SigningKeyID(current) else {
                throw ConfigurationError("FLASHDEAL_PASS_CURRENT_KEY is not a key id")
            }
            passes.currentKey = id
        }
        // The same ranges as the configuration file's settings; a malformed value stops the start.
        let values = EnvironmentValues(env)
        // The listener's variables were read before the file; read again, they win over it too.
        if let address = values.string("FLASHDEAL_HTTP_HOST") { host.host = address }
        if let port = try values.int("FLASHDEAL_HTTP_PORT", in: 0...65_535) { host.port = port }
        if let drain = try values.milliseconds("FLASHDEAL_DRAIN_MS", in: 0...600_000) { host.drainDelay = drain }
        if let t = try values.milliseconds("FLASHDEAL_ORDER_DELIVERY_TIMEOUT_MS", in: 100...120_000) {
            orders.deliveryTimeout = t
        }
        if let rate = try values.double("FLASHDEAL_ADMISSION_RATE", in: 0.001...1_000_000) {
            waitingRoom.admissionRatePerSecond = rate
        }
        if let n = try values.int("FLASHDEAL_ADMISSION_BURST", in: 1...1_000_000) { waitingRoom.admissionBurst = n }
        if let n = try values.int("FLASHDEAL_MAX_ACTIVE_PASSES", in: 1...10_000_000) {
            waitingRoom.maxActivePasses = n
        }
        if let seconds = try values.int("FLASHDEAL_PASS_LIFETIME_S", in: 1...86_400) {
            waitingRoom.passLifetime = .seconds(seconds)
        }
        if let n = try values.int("FLASHDEAL_MAX_IN_FLIGHT", in: 1...1_000_000) { orders.maxInFlight = n }
        if let linger = try values.milliseconds("FLASHDEAL_ORDER_LINGER_MS", in: 0...1_000) {
            orders.linger = linger
        }
        // The same two variables as the order worker's: an isolated run on a shared broker.
        if let prefix = env["FLASHDEAL_TOPIC_PREFIX"], !prefix.isEmpty {
            orders.topic = prefix + "flashdeal.order-requests"
        }
        if let group = env["FLASHDEAL_WORKER_GROUP"], !group.isEmpty { orders.workerGroup = group }
        if let raw = env["FLASHDEAL_KAFKA_PRODUCER_PROPERTIES"], !raw.isEmpty {
            do { orders.producerProperties = try KafkaProducerConfiguration.parseProperties(raw) } catch {
                throw ConfigurationError("FLASHDEAL_KAFKA_PRODUCER_PROPERTIES: \(error.message)")
            }
        }
    }

    /// `NAME` itself, or the contents of the file `NAME_FILE` names (Kubernetes secrets as files).
    static func secret(_ env: [String: String], _ name: String) throws -> String? {
        if let value = env[name], !value.isEmpty { return value }
        guard let path = env[name + "_FILE"], !path.isEmpty else { return nil }
        do {
            return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw ConfigurationError("\(name)_FILE: cannot read \(path)")
        }
    }
}

/// Reads typed values out of a YAML tree, naming the dotted path of whatever is wrong.
struct ConfigReader {
    let file: String

    func section(_ value: Any, _ path: String, _ body: (String, Any, String) throws -> Void) throws {
        guard let map = value as? [String: Any] else { throw ConfigurationError("\(file): \(path) must be a mapping") }
        for key in map.keys.sorted() {
            try body(key, map[key]!, path.isEmpty ? key : "\(path).\(key)")
        }
    }

    func unknown(_ path: String) -> ConfigurationError { ConfigurationError("\(file): unknown setting \(path)") }

    func string(_ value: Any, _ path: String, oneOf allowed: [String]? = nil) throws -> String {
        guard let s = value as? String, !s.isEmpty else {
            throw ConfigurationError("\(file): \(path) must be a non-empty string")
        }
        if let allowed, !allowed.contains(s) {
            throw ConfigurationError("\(file): \(path) must be one of \(allowed.joined(separator: ", "))")
        }
        return s
    }

    func optionalString(_ value: Any, _ path: String) throws -> String? {
        if value is NSNull { return nil }
        return try string(value, path)
    }

    func strings(_ value: Any, _ path: String) throws -> [String] {
        guard let list = value as? [Any] else { throw ConfigurationError("\(file): \(path) must be a list") }
        return try list.enumerated().map { try string($1, "\(path)[\($0)]") }
    }

    func int(_ value: Any, _ path: String, in range: ClosedRange<Int>) throws -> Int {
        guard let n = value as? Int, !(value is Bool) else {
            throw ConfigurationError("\(file): \(path) must be an integer")
        }
        guard range.contains(n) else {
            throw ConfigurationError("\(file): \(path) must be within \(range.lowerBound)…\(range.upperBound), is \(n)")
        }
        return n
    }

    func double(_ value: Any, _ path: String, in range: ClosedRange<Double>) throws -> Double {
        let n: Double
        if let d = value as? Double {
            n = d
        } else if let i = value as? Int, !(value is Bool) {
            n = Double(i)
        } else {
            throw ConfigurationError("\(file): \(path) must be a number")
        }
        guard range.contains(n) else {
            throw ConfigurationError("\(file): \(path) must be within \(range.lowerBound)…\(range.upperBound), is \(n)")
        }
        return n
    }

    func bool(_ value: Any, _ path: String) throws -> Bool {
        guard let b = value as? Bool else { throw ConfigurationError("\(file): \(path) must be true or false") }
        return b
    }
}
