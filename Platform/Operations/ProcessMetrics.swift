import Hummingbird
public import Prometheus

/// A process's Prometheus registry and its `GET /metrics` (text exposition format 0.0.4).
///
/// Each process owns one registry (no global bootstrap), so tests can build many processes in one
/// test binary. Every metric is created with HELP text.
public final class ProcessMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    public init(service: String, version: String) {
        registry.gauge(
            "flashdeal_build_info", labels: [("service", service), ("version", version)],
            help: "Always 1; labels name the service and its version."
        ).set(to: 1.0)
    }

    func addRoute<Context: RequestContext>(to router: Router<Context>) {
        let registry = self.registry
        router.get("metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(8_192)
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }
}

/// Flash Deal's version, reported by `flashdeal_build_info` and `flashdeal --version`.
public enum FlashDealBuild {
    public static let version = "0.1.0"
}

extension PrometheusCollectorRegistry {
    /// A counter named `name` (e.g. `flashdeal_ratelimit_requests_total`) with HELP text.
    public func counter(_ name: String, labels: [(String, String)] = [], help: String) -> Counter {
        makeCounter(descriptor: Self.descriptor(name, help: help), labels: labels)
    }

    /// A gauge named `name` with HELP text.
    public func gauge(_ name: String, labels: [(String, String)] = [], help: String) -> Gauge {
        makeGauge(descriptor: Self.descriptor(name, help: help), labels: labels)
    }

    /// Splits a full metric name into the descriptor's base name and unit (its last word).
    private static func descriptor(_ name: String, help: String) -> MetricNameDescriptor {
        let cut = name.lastIndex(of: "_") ?? name.endIndex
        let unit = cut < name.endIndex ? String(name[name.index(after: cut)...]) : ""
        return MetricNameDescriptor(metricName: String(name[..<cut]), unitName: unit, helpText: help)
    }
}

extension Duration {
    /// Whole nanoseconds, for histograms that record in nanoseconds.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
