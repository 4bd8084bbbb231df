public import Hummingbird
public import Infrastructure
public import Logging
public import ServiceLifecycle
import UnixSignals

/// Settings every Flash Deal process shares: where it listens, how it drains, where the servers are.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `FLASHDEAL_HTTP_HOST` | listen address | `127.0.0.1` |
/// | `FLASHDEAL_HTTP_PORT` | listen port (0 = any free port) | gateway 8080, worker 8081 |
/// | `FLASHDEAL_DRAIN_MS` | time between "not ready" and stopping, on SIGTERM | 2,000 |
/// | `FLASHDEAL_READINESS_TIMEOUT_MS` | budget of each `/readyz` dependency check | 1,000 |
/// | `FLASHDEAL_REDIS_URL`, `FLASHDEAL_KAFKA_BROKERS`, `FLASHDEAL_MONGO_URI`, `FLASHDEAL_MONGO_DATABASE` | the servers ([`ServiceEndpoints`]) | from `FLASHDEAL_ENDPOINTS_FILE` when set |
public struct ServiceHostConfiguration: Sendable {
    public var name: String
    public var host: String
    public var port: Int
    public var drainDelay: Duration
    public var readinessTimeout: Duration
    public var endpoints: ServiceEndpoints
    public var redis: RedisConfiguration
    public var mongo: MongoConfiguration

    public init(
        name: String, host: String = "127.0.0.1", port: Int, drainDelay: Duration = .seconds(2),
        readinessTimeout: Duration = .seconds(1), endpoints: ServiceEndpoints
    ) {
        self.name = name
        self.host = host
        self.port = port
        self.drainDelay = drainDelay
        self.readinessTimeout = readinessTimeout
        self.endpoints = endpoints
        self.redis = RedisConfiguration(host: endpoints.redisHost, port: endpoints.redisPort)
        self.mongo = MongoConfiguration(endpoints: endpoints)
    }

    /// Defaults, then the endpoints file, then the environment.
    public static func load(
        name: String, defaultPort: Int, environment: [String: String],
        endpointsFile: String?
    ) throws -> ServiceHostConfiguration {
        var c = ServiceHostConfiguration(
            name: name, port: defaultPort,
            endpoints: try ServiceEndpoints.load(environment: environment, defaultFile: endpointsFile))
        let env = EnvironmentValues(environment)
        if let host = env.string("FLASHDEAL_HTTP_HOST") { c.host = host }
        if let port = try env.int("FLASHDEAL_HTTP_PORT", in: 0...65_535) { c.port = port }
        if let drain = try env.milliseconds("FLASHDEAL_DRAIN_MS", in: 0...600_000) { c.drainDelay = drain }
        if let timeout = try env.milliseconds("FLASHDEAL_READINESS_TIMEOUT_MS", in: 1...600_000) {
            c.readinessTimeout = timeout
        }
        c.redis = try c.redis.applying(environment: environment)
        c.mongo = try c.mongo.applying(environment: environment)
        return c
    }
}

/// The clients a process holds to the three servers.
public struct ServiceClients: Sendable {
    public let redis: RedisClient
    public let kafkaAdmin: KafkaAdmin
    public let mongo: MongoClient

    public init(configuration: ServiceHostConfiguration, logger: Logger) throws {
        redis = RedisClient(configuration: configuration.redis, logger: logger)
        kafkaAdmin = try KafkaAdmin(brokers: configuration.endpoints.kafkaBrokers)
        mongo = try MongoClient(configuration: configuration.mongo)
    }

    public func readinessChecks(timeout: Duration) -> [ReadinessCheck] {
        [.redis(redis), .kafka(kafkaAdmin, timeout: timeout), .mongo(mongo)]
    }

    public func close() {
        redis.shutdown()
        mongo.shutdown()
    }
}

/// Assembles one process: its clients, `/livez` + `/readyz` + `/metrics`, the caller's routes and services, and
/// graceful shutdown on SIGTERM/SIGINT in dependency order — drain first (not ready, wait), then the
/// HTTP server and the caller's services, the clients last.
public struct ServiceHost: Sendable {
    public let configuration: ServiceHostConfiguration
    public let clients: ServiceClients
    public let readiness: Readiness
    public let metrics: ProcessMetrics
    public let logger: Logger

    public init(configuration: ServiceHostConfiguration, logger: Logger, extraChecks: [ReadinessCheck] = []) throws {
        self.configuration = configuration
        self.logger = logger
        self.metrics = ProcessMetrics(service: configuration.name, version: FlashDealBuild.version)
        self.clients = try ServiceClients(configuration: configuration, logger: logger)
        self.readiness = Readiness(
            checks: clients.readinessChecks(timeout: configuration.readinessTimeout)
                + extraChecks,
            timeout: configuration.readinessTimeout)
    }

    /// - Parameters:
    ///   - routes: adds the process's own routes.
    ///   - services: long-running work of the process (consumers, reloaders), stopped before the clients.
    ///   - onServerRunning: called with the bound port once the server listens.
    public func serviceGroup(
        routes: (Router<BasicRequestContext>) -> Void = { _ in },
        services: [any Service] = [],
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> ServiceGroup {
        serviceGroup(
            context: BasicRequestContext.self, routes: routes, services: services, onServerRunning: onServerRunning)
    }

    /// The same, for a process with its own request context type (e.g. one that keeps the peer address).
    public func serviceGroup<Context: RequestContext>(
        context: Context.Type, routes: (Router<Context>) -> Void = { _ in }, services: [any Service] = [],
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> ServiceGroup where Context: InitializableFromSource<ApplicationRequestContextSource> {
        let router = Router(context: Context.self)
        router.addOperationsRoutes(readiness: readiness)
        metrics.addRoute(to: router)
        routes(router)
        let logger = self.logger
        let app = Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: configuration.name),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("listening", metadata: ["port": "\(port)"])
                await onServerRunning(port)
            },
            logger: logger)
        let clients = self.clients
        return ServiceGroup(
            configuration: .init(
                // The span exporter (when tracing is on) stops last, after the spans of the final requests.
                services: (FlashDealTracing.takeExporter().map { [$0] } ?? []) + [CloseOnShutdown { clients.close() }]
                    + services
                    + [app, DrainOnShutdown(readiness: readiness, delay: configuration.drainDelay, logger: logger)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
    }
}
