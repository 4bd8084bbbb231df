import Operations
public import Prometheus
import Synchronization

/// The order worker's metrics (docs/worker.md lists them).
public final class WorkerMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let counters = Mutex<[String: Counter]>([:])
    private let batchDuration: DurationHistogram
    private let acceptToOutcome: DurationHistogram
    private let pausedGauge: Gauge
    private let outboxGauge: Gauge
    static let buckets: [Duration] = [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                                      .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                      .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
                                      .seconds(30), .seconds(60)]

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        batchDuration = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(metricName: "flashdeal_worker_batch_duration", unitName: "seconds",
                                             helpText: "Time to make one polled batch's effects durable."),
            buckets: Self.buckets)
        acceptToOutcome = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(metricName: "flashdeal_worker_accept_to_outcome", unitName: "seconds",
                                             helpText: "From the gateway accepting an order to its outcome event being acknowledged."),
            buckets: Self.buckets)
        pausedGauge = registry.gauge("flashdeal_worker_paused",
                                     help: "1 while consumption waits for a dependency (Redis, MongoDB or Kafka).")
        outboxGauge = registry.gauge("flashdeal_worker_outbox_pending",
                                     help: "Decided orders waiting to be written to MongoDB.")
    }

    private func counter(_ name: String, _ labels: [(String, String)], help: String) -> Counter {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        return counters.withLock { counters in
            if let c = counters[key] { return c }
            let c = registry.counter(name, labels: labels, help: help)
            counters[key] = c
            return c
        }
    }

    func message(kind: String) {
        counter("flashdeal_worker_messages_total", [("kind", kind)],
                help: "Messages consumed from the order-requests topic, by kind (request, cancellation, poison).").increment()
    }

    func reservation(result: String, replay: Bool) {
        counter("flashdeal_worker_reservations_total", [("result", result), ("replay", replay ? "true" : "false")],
                help: "Reservation answers from Redis, by result and whether it was a replay of an earlier answer.").increment()
    }

    func order(status: String, count: Int = 1) {
        guard count > 0 else { return }
        counter("flashdeal_worker_orders_total", [("status", status)],
                help: "Orders brought to an outcome (persisted and published), by status.").increment(by: Int64(count))
    }

    func release(reason: String, result: String) {
        counter("flashdeal_worker_releases_total", [("reason", reason), ("result", result)],
                help: "Stock release attempts, by reason (FAILED, CANCELLED, EXPIRED) and result.").increment()
    }

    func compensation(count: Int) {
        counter("flashdeal_worker_compensations_total", [],
                help: "Orders failed after MongoDB stayed unavailable past the retry budget.").increment(by: Int64(count))
    }

    func deadLettered() {
        counter("flashdeal_worker_dead_letters_total", [],
                help: "Messages sent to the dead-letter topic because they do not parse or validate.").increment()
    }

    func retry(dependency: String) {
        counter("flashdeal_worker_retries_total", [("dependency", dependency)],
                help: "Retries after a dependency failed, by dependency (redis, mongo, kafka).").increment()
    }

    func soldOutAnnounced() {
        counter("flashdeal_worker_sold_out_total", [], help: "DealSoldOut events published.").increment()
    }

    func batch(_ duration: Duration) { batchDuration.recordNanoseconds(duration.nanoseconds) }

    func outcomeLatency(_ duration: Duration) { acceptToOutcome.recordNanoseconds(max(0, duration.nanoseconds)) }

    func paused(_ on: Bool) { pausedGauge.set(to: on ? 1.0 : 0.0) }

    func outboxPending(_ count: Int) { outboxGauge.set(to: Double(count)) }
}
