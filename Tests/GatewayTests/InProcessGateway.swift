import Admission
import Credentials
import DealData
import Domain
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing
import Twins

@testable import Gateway

/// The gateway's `/graphql` route exactly as the process wires it (``GatewayApp/shopperHTTP``), with
/// ``ShopperAPI`` built on in-memory twins of its ports and driven through Hummingbird's in-process
/// test client: no server, no socket, no Redis, Kafka or MongoDB.
struct InProcessGateway: Sendable {
    static let jwtSecret = "in-process-tests-shared-secret-0123456789abcdef"
    static let passKey = "k1:in-process-tests-pass-key-0123456789abcdef"

    let clock: ManualClock
    let limiter: ScriptedRateDecider
    let deals: InMemoryDeals
    let room: InMemoryWaitingRoom
    let sink: RecordingOrderSink
    /// The gateway's redelivery of kept requests, over `sink` (its loop is not running: tests call
    /// ``KeptRequestRedelivery/attempt(dueBy:)``).
    let kept: KeptRequestRedelivery
    let accepting: InMemoryAcceptedDeals
    let orders: InMemoryOrderStore
    let audit: InMemoryOperatorAudit
    let keyring: PassKeyring
    let configuration: GatewayConfiguration
    let client: any TestClientProtocol
    let registry: PrometheusCollectorRegistry

    /// `compiled: false` sends every operation through the general GraphQL executor; `start` is the
    /// clock's first instant (two gateways started at one instant answer alike).
    static func with(
        compiled: Bool = true, start: Date = Date(), _ body: @Sendable (InProcessGateway) async throws -> Void
    ) async throws {
        var configured = try GatewayApp.configuration(
            environment: [
                "FLASHDEAL_JWT_SECRET": jwtSecret, "FLASHDEAL_PASS_KEYS": passKey,
                // Required by the configuration, never dialled: nothing here opens a connection.
                "FLASHDEAL_REDIS_URL": "redis://127.0.0.1:9", "FLASHDEAL_KAFKA_BROKERS": "127.0.0.1:9",
                "FLASHDEAL_MONGO_URI": "mongodb://127.0.0.1:9/",
            ], endpointsFile: nil)
        configured.graphQL.compiledOperations = compiled
        let configuration = configured
        let keyring = try GatewayApp.makeKeyring(configuration.passes)
        let verifier = try await GatewayApp.makeVerifier(configuration.auth)
        let clock = ManualClock(start)
        let room = InMemoryWaitingRoom(keyring: keyring, settings: configuration.waitingRoom, clock: clock)
        var logger = Logger(label: "in-process-gateway")
        logger.logLevel = .critical
        let registry = PrometheusCollectorRegistry()
        let metrics = GatewayMetrics(registry: registry)

        let limiter = ScriptedRateDecider()
        let deals = InMemoryDeals()
        let sink = RecordingOrderSink()
        let kept = KeptRequestRedelivery(
            sink: sink, maxPending: configuration.orders.redeliverMaxPending,
            giveUpAfter: configuration.orders.redeliverFor, retryAfter: .milliseconds(1), logger: logger,
            onResult: { metrics.redelivery($0, count: $1) })
        let accepting = InMemoryAcceptedDeals()
        let orders = InMemoryOrderStore()
        let api = ShopperAPI(
            ports: ShopperPorts(
                limiter: limiter, deals: deals, catalog: deals, room: room, pacer: room, publisher: sink,
                kept: kept, acceptingDeals: accepting, orders: orders, clock: clock),
            keyring: keyring, settings: configuration, metrics: metrics, logger: logger)
        let audit = InMemoryOperatorAudit()
        let operatorAPI = OperatorAPI(
            ports: OperatorPorts(control: room, audit: audit, catalog: deals, instance: "in-process"),
            guardrails: configuration.operatorGuardrails, clock: clock, logger: logger)
        let http = try GatewayApp.shopperHTTP(
            api: api, operatorAPI: operatorAPI, configuration: configuration, verifier: verifier,
            addresses: try ClientAddressResolver(trustedProxies: configuration.trustedProxies), metrics: metrics,
            logger: logger)
        let router = Router(context: GatewayRequestContext.self)
        http.register(on: router)
        ShopperPages(
            api: api, authenticator: ShopperAuthenticator(verifier: verifier),
            addresses: try ClientAddressResolver(trustedProxies: [String]()), zone: TimeZone(identifier: "Asia/Seoul")!,
            logger: logger
        ).register(on: router)
        ConsolePages(
            data: ConsoleData(
                operatorAPI: operatorAPI, deals: deals, rooms: room, settings: configuration.waitingRoom,
                lag: { nil }, clock: clock),
            authenticator: ShopperAuthenticator(verifier: verifier), logger: logger, streamLifetime: .seconds(2)
        ).register(on: router)
        let app = Application(router: router)
        try await app.test(.router) { client in
            try await body(
                InProcessGateway(
                    clock: clock, room: room, keyring: keyring, configuration: configuration,
                    client: client, limiter: limiter, deals: deals, sink: sink, kept: kept,
                    accepting: accepting, orders: orders, audit: audit, registry: registry))
        }
    }

    private init(
        clock: ManualClock, room: InMemoryWaitingRoom, keyring: PassKeyring, configuration: GatewayConfiguration,
        client: any TestClientProtocol, limiter: ScriptedRateDecider, deals: InMemoryDeals,
        sink: RecordingOrderSink, kept: KeptRequestRedelivery, accepting: InMemoryAcceptedDeals,
        orders: InMemoryOrderStore, audit: InMemoryOperatorAudit,
        registry: PrometheusCollectorRegistry
    ) {
        self.audit = audit
        self.registry = registry
        self.clock = clock
        self.room = room
        self.keyring = keyring
        self.configuration = configuration
        self.client = client
        self.limiter = limiter
        self.deals = deals
        self.sink = sink
        self.kept = kept
        self.accepting = accepting
        self.orders = orders
    }

    // MARK: Deals and shoppers

    /// A deal in the catalog and in the room, opening `opensIn` from the clock's now.
    func deal(
        id name: String? = nil, stock: Int = 10, limit: Int = 2, opensIn: Duration = .seconds(-1),
        lasts: Duration = .seconds(3_600)
    ) throws -> DealID {
        let id = try DealID(name ?? "ip-deal-\(UUID().uuidString.prefix(8).lowercased())")
        let startsAt = clock.now.addingTimeInterval(opensIn.seconds)
        let deal = try Deal(
            id: id, productId: try ProductID("prod-\(id.rawValue)"), title: "Deal \(id.rawValue)",
            price: Money(amountMinor: 1999, currency: try CurrencyCode("EUR")), startsAt: startsAt,
            endsAt: startsAt.addingTimeInterval(lasts.seconds), totalStock: stock, perCustomerLimit: limit)
        deals.add(deal)
        room.seed(deal)
        return id
    }

    static func token(for user: String, role: String? = nil) async throws -> String {
        let issuer = try await ShopperTokenIssuer(
            key: .hs256(secret: Array(jwtSecret.utf8)), issuer: "flashdeal",
            audience: "flashdeal-gateway", lifetime: .seconds(600))
        return try await issuer.issue(for: try UserID(user), at: Date(), role: role)
    }

    /// The value of one series in the metrics this gateway exposes, e.g.
    /// `flashdeal_gateway_graphql_executions_total{path="compiled"}`.
    func metric(_ series: String) -> Double {
        var text = [UInt8]()
        registry.emit(into: &text)
        for line in String(decoding: text, as: UTF8.self).split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1)) ?? 0
        }
        return 0
    }

    // MARK: GraphQL

    static let join =
        "mutation J($d: ID!) { joinWaitingRoom(dealId: $d) { ticket state position alreadyJoined pass { token } } }"
    static let admission =
        "query A($d: ID!, $t: ID!) { admission(dealId: $d, ticket: $t) { state position pass { token } orderId } }"
    static let createOrder =
        "mutation C($i: CreateOrderInput!) { createOrder(input: $i) { id status dealId quantity replayed } }"
    static let order = "query O($id: ID!) { order(id: $id) { id status dealId quantity reason } }"
    static let cancel = "mutation X($id: ID!) { cancelOrder(orderId: $id) { id status } }"

    struct Reply: Sendable {
        let status: Int
        let headers: HTTPFields
        let body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var data: [String: Any]? { json["data"] as? [String: Any] }
        var errors: [[String: Any]] { json["errors"] as? [[String: Any]] ?? [] }
        var codes: [String] { errors.compactMap { ($0["extensions"] as? [String: Any])?["code"] as? String } }
        var firstExtensions: [String: Any] { errors.first?["extensions"] as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func post(_ query: String, _ variables: [String: Any] = [:], token: String?) async throws -> Reply {
        let body = try JSONSerialization.data(withJSONObject: ["query": query, "variables": variables])
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(
            uri: "/graphql", method: .post, headers: headers,
            body: ByteBuffer(bytes: body)
        ) { response in
            Reply(
                status: Int(response.status.code), headers: response.headers,
                body: Data(response.body.readableBytesView))
        }
    }

    /// Joins, lets the room call everyone waiting, polls once: the pass token.
    func admit(_ deal: DealID, token: String) async throws -> String {
        let joined = try await post(Self.join, ["d": deal.rawValue], token: token)
        let ticket = try #require(
            (joined.data?["joinWaitingRoom"] as? [String: Any])?["ticket"] as? String, "\(joined.text)")
        try room.advance(deal: deal)
        let polled = try await post(Self.admission, ["d": deal.rawValue, "t": ticket], token: token)
        let status = try #require(polled.data?["admission"] as? [String: Any], "\(polled.text)")
        return try #require((status["pass"] as? [String: Any])?["token"] as? String, "not admitted: \(polled.text)")
    }

    func order(_ deal: DealID, token: String, pass: String?, key: String, quantity: Int = 1) async throws -> Reply {
        var input: [String: Any] = ["dealId": deal.rawValue, "quantity": quantity, "idempotencyKey": key]
        if let pass { input["pass"] = pass }
        return try await post(Self.createOrder, ["i": input], token: token)
    }
}
