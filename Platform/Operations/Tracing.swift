public import Instrumentation
import Logging
import OTel
import ServiceContextModule
import ServiceLifecycle
import Synchronization
public import Tracing

/// Distributed tracing of the gateway and the worker: OpenTelemetry spans exported over OTLP/HTTP,
/// their context carried in the W3C `traceparent` header of HTTP requests and Kafka messages, so
/// one trace covers a shopper's createOrder in the gateway and its reservation in the worker.
///
/// Off unless an OTLP endpoint is configured; when off, no span is made and nothing is exported
/// (``start(_:kind:context:at:)`` returns nil). The standard OpenTelemetry variables apply:
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` | collector; setting one turns tracing on | unset (off) |
/// | `OTEL_EXPORTER_OTLP_PROTOCOL` | `http/protobuf` or `http/json` | `http/protobuf` |
/// | `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG` | e.g. `parentbased_always_on` to keep every trace | `parentbased_traceidratio`, 0.1 |
/// | `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` | batching of exports | 5000 ms, 2048, 512 |
/// | `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` | resource | `flashdeal-gateway` / `flashdeal-worker` |
/// | `OTEL_SDK_DISABLED` | `true` turns tracing off even with an endpoint | `false` |
public enum FlashDealTracing {
    private static let enabled = Atomic<Bool>(false)
    private static let exporter = Mutex<(any Service)?>(nil)

    /// The head sampler's ratio when `OTEL_TRACES_SAMPLER` is not set (parent-based: a caller's
    /// sampling decision is followed).
    public static let defaultSampleRatio = 0.1

    /// Whether spans are being recorded in this process.
    public static var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// Installs the OTLP/HTTP span exporter when the environment names an endpoint. Call once, at
    /// start-up, before the service group is built: ``ServiceHost`` runs the exporter as the first
    /// service, so it stops last and flushes the spans of the final requests.
    /// - Returns: whether tracing is on.
    @discardableResult
    public static func bootstrap(serviceName: String, version: String, environment: [String: String]) throws -> Bool {
        let endpoint = environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] ?? environment["OTEL_EXPORTER_OTLP_ENDPOINT"]
        guard let endpoint, !endpoint.isEmpty, environment["OTEL_SDK_DISABLED"]?.lowercased() != "true" else {
            return false
        }
        var configuration = OTel.Configuration.default
        configuration.serviceName = serviceName
        configuration.resourceAttributes["service.version"] = version
        // One trace in ten unless the environment says otherwise: at flash-sale rates, recording every
        // trace costs a quarter of the throughput (docs/benchmarks.md, telemetry overhead).
        if let tenth = OTel.Configuration.TracesConfiguration.SamplerConfiguration.parentBasedTraceIDRatio(
            ratio: defaultSampleRatio)
        {
            configuration.traces.sampler = tenth
        }
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.diagnosticLogger = .custom(Logger(label: "flashdeal.tracing"))
        configuration.diagnosticLogLevel = .warning
        let service = try OTel.bootstrap(configuration: configuration)
        exporter.withLock { $0 = service }
        enabled.store(true, ordering: .relaxed)
        return true
    }

    /// The exporter's service, handed out once (to the process's one service group).
    static func takeExporter() -> (any Service)? {
        exporter.withLock { service in
            defer { service = nil }
            return service
        }
    }

    /// Starts a span when tracing is on, under `context` (default: the current one). The caller ends it.
    public static func start(
        _ name: String, kind: SpanKind = .internal, context: ServiceContext? = nil,
        at instant: some TracerInstant = DefaultTracerClock.now
    ) -> (any Span)? {
        guard isEnabled else { return nil }
        return startSpan(name, context: context ?? ServiceContext.current ?? .topLevel, ofKind: kind, at: instant)
    }

    /// The `traceparent` header value of `context`'s span, or nil when tracing is off or there is none.
    public static func traceparent(of context: ServiceContext) -> String? {
        guard isEnabled else { return nil }
        var carrier: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &carrier, using: DictionaryInjector())
        return carrier["traceparent"]
    }

    /// The context a received `traceparent` (and `tracestate`) continues; top-level when absent or malformed.
    public static func context(traceparent: String?, tracestate: String? = nil) -> ServiceContext {
        var context = ServiceContext.topLevel
        guard isEnabled, let traceparent else { return context }
        var carrier = ["traceparent": traceparent]
        if let tracestate { carrier["tracestate"] = tracestate }
        InstrumentationSystem.instrument.extract(carrier, into: &context, using: DictionaryExtractor())
        return context
    }
}

struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

/// The semantic-convention attributes of the steps both processes trace, named in one place.
extension SpanAttributes {
    /// `messaging.*` of a Kafka step (`send` or `process`) on `topic`.
    public mutating func kafka(_ operation: String, topic: String) {
        self["messaging.system"] = "kafka"
        self["messaging.operation.type"] = operation
        self["messaging.operation.name"] = operation
        self["messaging.destination.name"] = topic
    }

    /// `db.*` of a call to a Redis function (`FCALL`).
    public mutating func redisFunction(_ name: String) {
        self["db.system.name"] = "redis"
        self["db.operation.name"] = "FCALL"
        self["db.stored_procedure.name"] = name
    }
}

/// Attribute names used on Flash Deal's spans beyond the OpenTelemetry semantic conventions
/// (`http.*`, `messaging.*`, `db.*`, `graphql.*`); catalogued in docs/telemetry.md.
public enum FlashDealSpanAttribute {
    public static let dealId = "flashdeal.deal.id"
    public static let orderId = "flashdeal.order.id"
    public static let operation = "flashdeal.operation"
    public static let admissionDecision = "flashdeal.admission.decision"
    public static let rateLimitDecision = "flashdeal.rate_limit.decision"
    public static let policy = "flashdeal.rate_limit.policy"
    public static let reservationResult = "flashdeal.reservation.result"
    public static let releaseResult = "flashdeal.release.result"
    public static let releaseReason = "flashdeal.release.reason"
    public static let orderStatus = "flashdeal.order.status"
    public static let errorCode = "flashdeal.error.code"
    public static let batchSize = "flashdeal.batch.size"
}
