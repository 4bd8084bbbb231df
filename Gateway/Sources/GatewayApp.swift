import Admission
import Credentials
import DealData
import Domain
import Foundation
import GraphQL
import Hummingbird
import Infrastructure
public import Logging
import Operations
import RateLimiting
public import ServiceLifecycle
import Synchronization

/// Builds the gateway process: GraphQL over HTTP in front of the rate limiter, the waiting room and
/// the order producer, plus `/livez`, `/readyz`, `/metrics` and `/policies`.
public enum GatewayApp {
    public static let defaultPort = 8080

    public static func configuration(environment: [String: String], endpointsFile: String?) throws
        -> GatewayConfiguration
    {
        try GatewayConfiguration.load(environment: environment, endpointsFile: endpointsFile)
    }

    /// The printed schema (what `schemas/flashdeal.graphql` must contain).
    public static func printedSchema() throws -> String {
        try printSchema(schema: GatewaySchema.make(api: nil)) + "\n"
    }

    /// - Throws: `PolicyFileError` for a policy file that does not validate, `ConfigurationError`
    ///   for missing keys or bad settings; the clients opened so far are closed first.
    public static func build(
        _ configuration: GatewayConfiguration, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws
        -> ServiceGroup
    {
        let verifier = try await makeVerifier(configuration.auth)
        let keyring = try makeKeyring(configuration.passes)
        let addresses = try ClientAddressResolver(trustedProxies: configuration.trustedProxies)

        let host = try ServiceHost(configuration: configuration.host, logger: logger)
        let produceMetrics = KafkaProduceMetrics(registry: host.metrics.registry, topics: [configuration.orders.topic])
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(
                configuration: KafkaProducerConfiguration(
                    brokers: configuration.host.endpoints.kafkaBrokers,
                    deliveryTimeout: configuration.orders.deliveryTimeout,
                    linger: configuration.orders.linger,
                    maxQueuedMessages: max(configuration.orders.maxProducerQueue * 2, 1_000),
                    compression: configuration.orders.compression, clientID: "flashdeal-gateway",
                    additional: configuration.orders.producerProperties), logger: logger,
                observer: { produceMetrics.observe($0) })
        } catch {
            host.clients.close()
            throw error
        }

        // Rate policies: the start-up load goes through the reloader, so the file is read once.
        let store = PolicyStore(ActivePolicies(version: "none", policies: []))
        let rateMetrics = RateLimitMetrics(registry: host.metrics.registry)
        let limiter = RateLimiter(
            redis: host.clients.redis, policies: store, configuration: configuration.rateLimiter,
            observer: rateMetrics, logger: logger)
        let policyFile = configuration.policyFile
        let reloader = PolicyReloader(
            path: policyFile, store: store, limiter: limiter, logger: logger,
            onOutcome: { rateMetrics.reloaded($0) }
        ) { try PolicyLoader.load(path: $0) }
        let startup = reloader.reload(reason: "start-up")
        if case .rejected(let error) = startup {
            host.clients.close()
            await producer.close(flushTimeout: .zero)
            throw error
        }
        if case .unreadable(let message) = startup {
            host.clients.close()
            await producer.close(flushTimeout: .zero)
            throw PolicyFileError(diagnostics: [
                PolicyDiagnostic(file: policyFile, line: 1, column: 1, message: message)
            ])
        }

        let metrics = GatewayMetrics(registry: host.metrics.registry)
        // Background work (pacing, deal-state refresh) has its own Redis connections, so it never
        // sits in the request path's pipelines, and the request path's round trips can be counted.
        let background = RedisClient(configuration: configuration.host.redis, logger: logger)
        let dealStore = DealStateStore(redis: background)
        let room = WaitingRoom(
            redis: host.clients.redis, settings: configuration.waitingRoom, keyring: keyring, logger: logger)
        let pacingRoom = WaitingRoom(
            redis: background, settings: configuration.waitingRoom, keyring: keyring, logger: logger)
        let lag = try? KafkaConsumerLag(
            brokers: configuration.host.endpoints.kafkaBrokers,
            group: configuration.orders.workerGroup, topic: configuration.orders.topic)
        let lagProbe = LagProbe(reader: lag, interval: .seconds(1)) { read in
            metrics.consumerLag(group: configuration.orders.workerGroup, topic: configuration.orders.topic, read)
        }
        let pacer = WaitingRoomPacer(
            room: pacingRoom, interval: .milliseconds(100), lag: { await lagProbe.current() },
            logger: logger, onStep: { metrics.paced(deal: $0, $1) })
        let dealCache = DealStateCache(
            store: dealStore, refresh: configuration.orders.dealStateRefresh, logger: logger,
            onRefresh: { metrics.dealState($0) })
        let publisher = OrderRequestPublisher(
            producer: producer, topic: configuration.orders.topic,
            maxInFlight: configuration.orders.maxInFlight,
            maxProducerQueue: configuration.orders.maxProducerQueue)
        let redelivery = KeptRequestRedelivery(
            sink: publisher, maxPending: configuration.orders.redeliverMaxPending,
            giveUpAfter: configuration.orders.redeliverFor, logger: logger,
            onResult: { metrics.redelivery($0, count: $1) })
        let ports = ShopperPorts(
            limiter: limiter, deals: dealCache, catalog: DealCatalog(mongo: host.clients.mongo), room: room,
            pacer: pacer,
            publisher: publisher, kept: redelivery,
            acceptingDeals: AcceptingDeals(redis: background, requestsTopic: configuration.orders.topic),
            orders: OrderStore(mongo: host.clients.mongo))
        let api = ShopperAPI(ports: ports, keyring: keyring, settings: configuration, metrics: metrics, logger: logger)
        let saleControl = SaleControlStore(redis: background)
        let audit = OperatorAuditLog(mongo: host.clients.mongo)
        let operatorAPI = OperatorAPI(
            ports: OperatorPorts(
                control: saleControl, audit: audit, catalog: DealCatalog(mongo: host.clients.mongo),
                instance: configuration.instanceId),
            guardrails: configuration.operatorGuardrails, logger: logger)
        let http = try shopperHTTP(
            api: api, operatorAPI: operatorAPI, configuration: configuration, verifier: verifier,
            addresses: addresses, metrics: metrics, logger: logger)

        let pages = ShopperPages(
            api: api, authenticator: ShopperAuthenticator(verifier: verifier), addresses: addresses,
            zone: configuration.pagesTimeZone, logger: logger)
        let console = ConsolePages(
            data: ConsoleData(
                operatorAPI: operatorAPI, deals: dealCache, rooms: dealStore, settings: configuration.waitingRoom,
                lag: { await lagProbe.current() }, clock: SystemClock()),
            authenticator: ShopperAuthenticator(verifier: verifier), logger: logger)

        return host.serviceGroup(
            context: GatewayRequestContext.self,
            routes: { router in
                http.register(on: router)
                pages.register(on: router)
                console.register(on: router)
                router.get("policies") { _, _ -> Response in
                    let active = store.current
                    let body = try JSONSerialization.data(
                        withJSONObject: [
                            "version": active.version, "file": policyFile, "policies": active.policies.map { $0.name },
                        ], options: [.sortedKeys])
                    return Response(
                        status: .ok, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: body)))
                }
            },
            services: [
                CloseOnShutdown {
                    await producer.close(flushTimeout: .seconds(5))
                    background.shutdown()
                },
                // Stops before the producer closes (services stop in reverse order): one last attempt.
                redelivery,
                Prepare(logger: logger) {
                    try await limiter.prepare()
                    try await dealStore.prepare()
                    try await saleControl.prepare()
                    try await audit.prepare()
                },
                reloader, dealCache, pacer, lagProbe,
                GaugeSampler(interval: .milliseconds(100)) {
                    metrics.setInFlight(publisher.inFlight, queued: publisher.queueLength)
                    metrics.setKeptPending(redelivery.pending)
                    metrics.redis(client: "requests", host.clients.redis.statistics)
                    metrics.redis(client: "background", background.statistics)
                    rateMetrics.sample(limiter.statistics)
                },
            ],
            onServerRunning: onServerRunning)
    }

    /// GraphQL over HTTP in front of `api`: what the process serves on `/graphql`, and what the
    /// in-process tests drive with the API built on in-memory ports.
    static func shopperHTTP(
        api: ShopperAPI, operatorAPI: OperatorAPI?, configuration: GatewayConfiguration,
        verifier: ShopperTokenVerifier, addresses: ClientAddressResolver, metrics: GatewayMetrics, logger: Logger
    ) throws -> GraphQLHTTP {
        let engine = GraphQLEngine(
            schema: try GatewaySchema.make(api: api, operatorAPI: operatorAPI), limits: configuration.graphQL,
            api: api)
        return GraphQLHTTP(
            engine: engine, authenticator: ShopperAuthenticator(verifier: verifier),
            addresses: addresses, metrics: metrics, logger: logger)
    }

    static func makeVerifier(_ auth: GatewayConfiguration.AuthSettings) async throws -> ShopperTokenVerifier {
        guard let key = auth.key else {
            throw ConfigurationError(
                "no shopper token key: set FLASHDEAL_JWT_SECRET (HS256) or FLASHDEAL_JWT_ED25519_PUBLIC_KEY")
        }
        do {
            return try await ShopperTokenVerifier(
                key: key, expectedIssuer: auth.issuer, expectedAudience: auth.audience,
                leeway: auth.leeway)
        } catch {
            throw ConfigurationError("shopper token key: \(error.description)")
        }
    }

    static func makeKeyring(_ passes: GatewayConfiguration.PassSettings) throws -> PassKeyring {
        guard let current = passes.currentKey, !passes.keys.isEmpty else {
            throw ConfigurationError("no admission-pass keys: set FLASHDEAL_PASS_KEYS=keyId:secret[,keyId:secret…]")
        }
        do { return try PassKeyring(keys: passes.keys, current: current, leeway: passes.leeway) } catch {
            throw ConfigurationError("admission-pass keys: \(error.description)")
        }
    }
}

/// Loads Redis functions at start-up; a Redis that is down now is not fatal (fail modes apply, and
/// functions are loaded on first use once Redis is back).
struct Prepare: Service {
    let logger: Logger
    let work: @Sendable () async throws -> Void

    func run() async throws {
        do { try await work() } catch {
            logger.warning("could not load Redis functions yet", metadata: ["error": "\(error)"])
        }
        try? await gracefulShutdown()
    }
}

/// Calls `sample` every `interval` until shutdown (gauges read from live objects).
struct GaugeSampler: Service {
    let interval: Duration
    let sample: @Sendable () -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                sample()
                try? await Task.sleep(for: interval)
            }
        }
    }
}

/// Measures the order worker's consumer lag once per `interval` for the waiting-room pacer.
final class LagProbe: Service, Sendable {
    private let reader: KafkaConsumerLag?
    private let interval: Duration
    private let latest = Mutex<Int?>(nil)
    private let onRead: @Sendable (ConsumerLag) -> Void

    init(reader: KafkaConsumerLag?, interval: Duration, onRead: @escaping @Sendable (ConsumerLag) -> Void = { _ in }) {
        self.reader = reader
        self.interval = interval
        self.onRead = onRead
    }

    func current() async -> Int? { latest.withLock { $0 } }

    func run() async throws {
        guard let reader else {
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let lag = try? await reader.lag(timeout: .seconds(1))
                self.latest.withLock { $0 = lag.map { Int($0.total) } }
                if let lag { self.onRead(lag) }
                try? await Task.sleep(for: self.interval)
            }
        }
    }
}
