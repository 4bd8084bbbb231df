import Credentials
import Domain
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

extension StackTests {
    /// One OTLP/HTTP collector in the test process; the gateway and the worker run as their own
    /// processes (`.build/debug/flashdeal-gateway`, `flashdeal-worker`) exporting to it, so each
    /// exports under its own `service.name`, as in production.
    @Suite("Traces across the gateway, Kafka and the worker (OTLP/HTTP)", .timeLimit(.minutes(3)))
    struct TracingTests {
        @Test func oneTraceCoversCreateOrderInTheGatewayAndItsReservationAndPersistenceInTheWorker() async throws {
            let collector = try await OTLPCollector.start()
            let policyFile = try TestStack.policyFile()
            defer { try? FileManager.default.removeItem(atPath: policyFile) }

            var environment = LiveMetricsTests.processEnvironment(policyFile: policyFile, isolatedAs: "tracing")
            let prefix = try #require(environment["FLASHDEAL_TOPIC_PREFIX"])
            let group = try #require(environment["FLASHDEAL_WORKER_GROUP"])
            environment["FLASHDEAL_ADMISSION_RATE"] = "500"
            environment["FLASHDEAL_TOPIC_PARTITIONS"] = "3"
            environment["LOG_FORMAT"] = "json"
            environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:\(collector.port)"
            environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/json"
            environment["OTEL_BSP_SCHEDULE_DELAY"] = "100"
            environment["OTEL_TRACES_SAMPLER"] = "parentbased_always_on"  // the default keeps one in ten
            environment["OTEL_SERVICE_NAME"] = nil

            let worker = try ChildProcess(product: "flashdeal-worker", environment: environment)
            var gateway: ChildProcess?
            defer {
                gateway?.stop(SIGTERM)
                worker.stop(SIGTERM)
            }
            let workerPort = try await Self.ready(worker)
            let started = try ChildProcess(product: "flashdeal-gateway", environment: environment)
            gateway = started
            let gatewayPort = try await Self.ready(started)

            // A shopper's whole journey: join → admitted → createOrder → confirmed by the worker.
            let deal = try await LiveMetricsTests.seedOpenDeal("tracing-deal", stock: 1)
            let issuer = try await LiveMetricsTests.issuer()
            let shopper = "tracing-\(deal.rawValue)"
            let outcome = try await LiveMetricsTests.shop(gatewayPort, deal: deal, user: shopper, issuer: issuer)
            #expect(outcome == ["CONFIRMED"])

            // A caller's own trace context is continued, not replaced.
            let callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
            let callerSpan = "00f067aa0ba902b7"
            let token = try await issuer.issue(for: try UserID("tracing-caller-\(deal.rawValue)"), at: Date())
            _ = try await LiveMetricsTests.graphQL(
                gatewayPort, "query S($d: ID!) { stock(dealId: $d) { remaining } }",
                ["d": deal.rawValue], token: token,
                traceparent: "00-\(callerTrace)-\(callerSpan)-01")

            let requests = prefix + "flashdeal.order-requests"
            let events = prefix + "flashdeal.order-events"
            let trace = try await eventually(timeout: .seconds(30)) {
                let spans = collector.spans
                let server = try need(
                    spans.first { $0.name == "mutation createOrder" && $0.service == "flashdeal-gateway" },
                    "no createOrder span yet (\(spans.count) spans received)")
                let trace = spans.filter { $0.traceId == server.traceId }
                // Every span of the trace: they end at different times, so they may come in different exports.
                for name in [
                    "flashdeal.rate_limit", "flashdeal.pass.consume", "send \(requests)", "process \(requests)",
                    "flashdeal.reserve", "flashdeal.persist", "send \(events)",
                ]
                where !trace.contains(where: { $0.name == name }) {
                    throw NotYet("the trace has no \(name) span yet: \(trace.map(\.name))")
                }
                return trace
            }
            func one(_ name: String) throws -> OTLPCollector.Span {
                let found = trace.filter { $0.name == name }
                guard found.count == 1 else {
                    throw NotYet("\(found.count) spans named \(name) in \(trace.map(\.name))")
                }
                return found[0]
            }
            let server = try one("mutation createOrder")
            let rateLimit = try one("flashdeal.rate_limit")
            let pass = try one("flashdeal.pass.consume")
            let produce = try one("send \(requests)")
            let process = try one("process \(requests)")
            let reserve = try one("flashdeal.reserve")
            let persist = try one("flashdeal.persist")
            let publish = try one("send \(events)")

            // Who made which span, and how they nest: gateway server → producer → (Kafka) → worker consumer → steps.
            #expect([server, rateLimit, pass, produce].allSatisfy { $0.service == "flashdeal-gateway" })
            #expect([process, reserve, persist, publish].allSatisfy { $0.service == "flashdeal-worker" })
            #expect(server.parentSpanId == nil)
            #expect(rateLimit.parentSpanId == server.spanId && pass.parentSpanId == server.spanId)
            #expect(produce.parentSpanId == server.spanId)
            #expect(process.parentSpanId == produce.spanId, "the worker continues the traceparent of the Kafka message")
            #expect([reserve, persist, publish].allSatisfy { $0.parentSpanId == process.spanId })
            #expect(server.kind == 2 && produce.kind == 4 && process.kind == 5 && publish.kind == 4)

            // The documented attributes (docs/telemetry.md).
            let orderId = try #require(produce.attributes["flashdeal.order.id"])
            #expect(server.attributes["graphql.operation.type"] == "mutation")
            #expect(server.attributes["flashdeal.operation"] == "createOrder")
            #expect(server.attributes["http.request.method"] == "POST")
            #expect(server.attributes["http.response.status_code"] == "200")
            #expect(rateLimit.attributes["flashdeal.rate_limit.decision"] == "allowed")
            #expect(rateLimit.attributes["flashdeal.rate_limit.policy"] == "everything")
            #expect(pass.attributes["flashdeal.admission.decision"] == "accepted")
            #expect(produce.attributes["messaging.system"] == "kafka")
            #expect(produce.attributes["messaging.destination.name"] == requests)
            #expect(produce.attributes["messaging.operation.type"] == "send")
            #expect(process.attributes["messaging.operation.type"] == "process")
            #expect(process.attributes["messaging.consumer.group.name"] == group)
            #expect(process.attributes["flashdeal.order.id"] == orderId)
            #expect(process.attributes["flashdeal.deal.id"] == deal.rawValue)
            #expect(process.attributes["flashdeal.order.status"] == "CONFIRMED")
            #expect(reserve.attributes["db.system.name"] == "redis")
            #expect(reserve.attributes["db.stored_procedure.name"] == "flashdeal_ord_reserve")
            #expect(reserve.attributes["flashdeal.reservation.result"] == "RESERVED")
            #expect(reserve.attributes["flashdeal.order.id"] == orderId)
            #expect(persist.attributes["db.system.name"] == "mongodb")
            #expect(persist.attributes["db.collection.name"] == "orders")
            #expect(persist.attributes["db.operation.name"] == "insertMany")
            #expect(persist.attributes["flashdeal.order.status"] == "CONFIRMED")
            #expect(publish.attributes["messaging.destination.name"] == events)

            // The stock path: the shopper cancels; the worker's release is in the cancellation's trace.
            let shopperToken = try await issuer.issue(for: try UserID(shopper), at: Date())
            let cancelled = try await LiveMetricsTests.graphQL(
                gatewayPort, "mutation X($id: ID!) { cancelOrder(orderId: $id) { id } }",
                ["id": orderId], token: shopperToken)
            #expect(cancelled["errors"] == nil, "\(cancelled)")
            let cancellation = try await eventually(timeout: .seconds(30)) {
                let spans = collector.spans
                let server = try need(spans.first { $0.name == "mutation cancelOrder" }, "no cancelOrder span yet")
                let trace = spans.filter { $0.traceId == server.traceId }
                for name in ["send \(requests)", "process \(requests)", "flashdeal.release"]
                where !trace.contains(where: { $0.name == name }) {
                    throw NotYet("the cancellation's trace has no \(name) span yet: \(trace.map(\.name))")
                }
                return trace
            }
            let cancelServer = try #require(cancellation.first { $0.name == "mutation cancelOrder" })
            let cancelSend = try #require(cancellation.first { $0.name == "send \(requests)" })
            let cancelProcess = try #require(cancellation.first { $0.name == "process \(requests)" })
            let release = try #require(cancellation.first { $0.name == "flashdeal.release" })
            #expect(cancelSend.parentSpanId == cancelServer.spanId && cancelProcess.parentSpanId == cancelSend.spanId)
            #expect(release.parentSpanId == cancelProcess.spanId && release.service == "flashdeal-worker")
            #expect(cancelProcess.attributes["flashdeal.order.id"] == orderId)
            #expect(release.attributes["flashdeal.release.result"] == "RELEASED")
            #expect(release.attributes["flashdeal.release.reason"] == "CANCELLED")
            #expect(release.attributes["db.stored_procedure.name"] == "flashdeal_ord_release")

            // The waiting room's spans are there too, and the caller's trace was continued.
            try await eventually(timeout: .seconds(10)) {
                let spans = collector.spans
                let join = try need(spans.first { $0.name == "flashdeal.waiting_room.join" }, "no join span")
                guard join.attributes["flashdeal.admission.decision"] == "joined" else {
                    throw NotYet("join decision \(join.attributes)")
                }
                let continued = try need(spans.first { $0.name == "query stock" }, "no stock query span")
                guard continued.traceId == callerTrace, continued.parentSpanId == callerSpan else {
                    throw NotYet(
                        "the stock query's span is \(continued.traceId)/\(continued.parentSpanId ?? "root")")
                }
            }
            _ = workerPort
            await collector.stop()
        }

        /// Waits until the process logs its port and answers `/readyz` with 200.
        static func ready(_ process: ChildProcess) async throws -> Int {
            try await eventually(timeout: .seconds(60)) {
                let port = try need(
                    process.listeningPort, "\(process.logFile): not listening yet\n\(process.log.suffix(2_000))")
                let (status, body) = try await LiveMetricsTests.get(port, "/readyz")
                guard status == 200 else { throw NotYet("not ready: \(body)") }
                return port
            }
        }
    }
}

/// A minimal OpenTelemetry collector: `POST /v1/traces` with OTLP/JSON (ExportTraceServiceRequest),
/// answered `{}`; keeps every span it receives.
final class OTLPCollector: Sendable {
    struct Span: Sendable {
        var service: String
        var traceId: String
        var spanId: String
        var parentSpanId: String?
        var name: String
        var kind: Int
        var attributes: [String: String]
    }

    final class Store: Sendable {
        let spans = Mutex<[Span]>([])
    }

    let port: Int
    private let received: Store
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(port: Int, received: Store, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.received = received
        self.group = group
        self.task = task
    }

    var spans: [Span] { received.spans.withLock { $0 } }

    static func start() async throws -> OTLPCollector {
        let store = Store()
        let router = Router()
        router.post("v1/traces") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 16 << 20)
            let spans = try Self.parse(Data(body.readableBytesView))
            store.spans.withLock { $0 += spans }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        let bound = Mutex<Int?>(nil)
        var logger = Logger(label: "otlp-collector")
        logger.logLevel = .warning
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in bound.withLock { $0 = channel.localAddress?.port } },
            logger: logger)
        let group = ServiceGroup(services: [app], logger: logger)
        let task = Task { try await group.run() }
        let port = try await eventually(timeout: .seconds(10)) {
            try need(bound.withLock { $0 }, "collector not listening")
        }
        return OTLPCollector(port: port, received: store, group: group, task: task)
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }

    /// Spans of an OTLP/JSON `ExportTraceServiceRequest`. Ids may come as hex (the OTLP/JSON rule) or
    /// base64 (the plain protobuf JSON mapping); both become lower-case hex.
    static func parse(_ data: Data) throws -> [Span] {
        let root = try need(try JSONSerialization.jsonObject(with: data) as? [String: Any], "not a JSON object")
        var spans: [Span] = []
        for resourceSpans in root["resourceSpans"] as? [[String: Any]] ?? [] {
            let resource = attributes((resourceSpans["resource"] as? [String: Any])?["attributes"])
            for scope in resourceSpans["scopeSpans"] as? [[String: Any]] ?? [] {
                for span in scope["spans"] as? [[String: Any]] ?? [] {
                    let parent = (span["parentSpanId"] as? String).flatMap { $0.isEmpty ? nil : hex($0) }
                    spans.append(
                        Span(
                            service: resource["service.name"] ?? "", traceId: hex(span["traceId"] as? String ?? ""),
                            spanId: hex(span["spanId"] as? String ?? ""), parentSpanId: parent,
                            name: span["name"] as? String ?? "", kind: span["kind"] as? Int ?? 0,
                            attributes: attributes(span["attributes"])))
                }
            }
        }
        return spans
    }

    static func attributes(_ list: Any?) -> [String: String] {
        var out: [String: String] = [:]
        for attribute in list as? [[String: Any]] ?? [] {
            guard let key = attribute["key"] as? String, let value = (attribute["value"] as? [String: Any])?.first
            else { continue }
            out[key] = "\(value.value)"
        }
        return out
    }

    static func hex(_ id: String) -> String {
        if id.count == 32 || id.count == 16, id.allSatisfy(\.isHexDigit) { return id.lowercased() }
        guard let bytes = Data(base64Encoded: id) else { return id }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }
}
