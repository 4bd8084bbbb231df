import DealData
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
    private let undecidedGauge: Gauge
    private let unseenGauge: Gauge
    private let mongoWrites = Mutex<[String: DurationHistogram]>([:])
    static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        .seconds(30), .seconds(60),
    ]

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        batchDuration = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                metricName: "flashdeal_worker_batch_duration", unitName: "seconds",
                helpText: "Time to make one polled batch's effects durable."),
            buckets: Self.buckets)
        acceptToOutcome = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                metricName: "flashdeal_worker_accept_to_outcome", unitName: "seconds",
                helpText: "From the gateway accepting an order to its outcome event being acknowledged."),
            buckets: Self.buckets)
        pausedGauge = registry.gauge(
            "flashdeal_worker_paused",
            help: "1 while consumption waits for a dependency (Redis, MongoDB or Kafka).")
        outboxGauge = registry.gauge(
            "flashdeal_worker_outbox_pending",
            help: "Decided orders waiting to be written to MongoDB.")
        undecidedGauge = registry.gauge(
            "flashdeal_worker_undecided_orders",
            help:
                "Orders accepted by the gateway and not yet decided, over every deal the re-sender watches (sampled each sweep)."
        )
        unseenGauge = registry.gauge(
            "flashdeal_worker_unseen_outcomes",
            help: "Orders whose outcome event is published but not yet read back from the log (sampled each sweep).")
        // Series that exist before their first event, so rates and alerts see a zero, not nothing.
        for kind in ["request", "cancellation", "poison"] {
            _ = counter("flashdeal_worker_messages_total", [("kind", kind)], help: Self.messagesHelp)
        }
        for dependency in ["redis", "mongo", "kafka"] {
            _ = counter("flashdeal_worker_retries_total", [("dependency", dependency)], help: Self.retriesHelp)
        }
        for status in ["CONFIRMED", "REJECTED", "FAILED", "CANCELLED"] {
            _ = counter("flashdeal_worker_orders_total", [("status", status)], help: Self.ordersHelp)
        }
        _ = counter("flashdeal_worker_compensations_total", [], help: Self.compensationsHelp)
        _ = counter("flashdeal_worker_dead_letters_total", [], help: Self.deadLettersHelp)
        _ = counter("flashdeal_worker_sold_out_total", [], help: Self.soldOutHelp)
        _ = counter("flashdeal_worker_stock_rebuilds_total", [], help: Self.rebuildsHelp)
        _ = counter("flashdeal_worker_stock_rebuilt_deals_total", [], help: Self.rebuiltDealsHelp)
        for kind in ["request", "event"] {
            _ = counter("flashdeal_worker_resent_total", [("kind", kind)], help: Self.resentHelp)
            _ = counter("flashdeal_worker_resend_unrecoverable_total", [("kind", kind)], help: Self.unrecoverableHelp)
        }
        for operation in ["insert_orders", "put_order"] { _ = mongoWriteHistogram(operation: operation, result: "ok") }
    }

    static let messagesHelp =
        "Messages consumed from the order-requests topic, by kind (request, cancellation, poison)."
    static let retriesHelp = "Retries after a dependency failed, by dependency (redis, mongo, kafka)."
    static let ordersHelp = "Orders brought to an outcome (persisted and published), by status."
    static let compensationsHelp = "Orders failed after MongoDB stayed unavailable past the retry budget."
    static let deadLettersHelp = "Messages sent to the dead-letter topic because they do not parse or validate."
    static let soldOutHelp = "DealSoldOut events published."
    static let rebuildsHelp =
        "Rebuilds of every open deal's stock from MongoDB after Redis started (reservations paused meanwhile)."
    static let rebuiltDealsHelp = "Deals whose Redis state a rebuild after a Redis start found wrong and rewrote."
    static let resentHelp =
        "Messages sent again by the re-sender, by kind: request (accepted, not decided within the bound: its OrderRequested again) or event (decided, its outcome event not read back within the bound: re-published identically)."
    static let unrecoverableHelp =
        "Orders the re-sender found overdue but could not send again (no stored request, or no stored decision), by kind."

    /// One write to MongoDB's orders collection answered (see ``OrderStore``).
    func mongoWrite(operation: String, duration: Duration, ok: Bool) {
        mongoWriteHistogram(operation: operation, result: ok ? "ok" : "error").recordNanoseconds(duration.nanoseconds)
    }

    private func mongoWriteHistogram(operation: String, result: String) -> DurationHistogram {
        let key = operation + "|" + result
        return mongoWrites.withLock { histograms in
            if let h = histograms[key] { return h }
            let h = registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    metricName: "flashdeal_mongo_write_duration", unitName: "seconds",
                    helpText:
                        "Time of one write to MongoDB's orders collection, by operation (insert_orders, put_order, cancel_order, mark_paid) and result (ok, error)."
                ),
                labels: [("operation", operation), ("result", result)], buckets: Self.buckets)
            histograms[key] = h
            return h
        }
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
        counter("flashdeal_worker_messages_total", [("kind", kind)], help: Self.messagesHelp).increment()
    }

    func reservation(result: String, replay: Bool) {
        counter(
            "flashdeal_worker_reservations_total", [("result", result), ("replay", replay ? "true" : "false")],
            help: "Reservation answers from Redis, by result and whether it was a replay of an earlier answer."
        ).increment()
    }

    func order(status: String, count: Int = 1) {
        guard count > 0 else { return }
        counter("flashdeal_worker_orders_total", [("status", status)], help: Self.ordersHelp).increment(
            by: Int64(count))
    }

    func release(reason: String, result: String) {
        counter(
            "flashdeal_worker_releases_total", [("reason", reason), ("result", result)],
            help: "Stock release attempts, by reason (FAILED, CANCELLED, EXPIRED) and result."
        ).increment()
    }

    func compensation(count: Int) {
        counter("flashdeal_worker_compensations_total", [], help: Self.compensationsHelp).increment(by: Int64(count))
    }

    func deadLettered() {
        counter("flashdeal_worker_dead_letters_total", [], help: Self.deadLettersHelp).increment()
    }

    func retry(dependency: String) {
        counter("flashdeal_worker_retries_total", [("dependency", dependency)], help: Self.retriesHelp).increment()
    }

    func stockRebuilt(deals: Int) {
        counter("flashdeal_worker_stock_rebuilds_total", [], help: Self.rebuildsHelp).increment()
        counter("flashdeal_worker_stock_rebuilt_deals_total", [], help: Self.rebuiltDealsHelp).increment(
            by: Int64(deals))
    }

    func soldOutAnnounced() {
        counter("flashdeal_worker_sold_out_total", [], help: Self.soldOutHelp).increment()
    }

    func batch(_ duration: Duration) { batchDuration.recordNanoseconds(duration.nanoseconds) }

    func outcomeLatency(_ duration: Duration) { acceptToOutcome.recordNanoseconds(max(0, duration.nanoseconds)) }

    func paused(_ on: Bool) { pausedGauge.set(to: on ? 1.0 : 0.0) }

    func outboxPending(_ count: Int) { outboxGauge.set(to: Double(count)) }

    func resent(kind: String, count: Int) {
        guard count > 0 else { return }
        counter("flashdeal_worker_resent_total", [("kind", kind)], help: Self.resentHelp).increment(by: Int64(count))
    }

    func unrecoverable(kind: String, count: Int) {
        guard count > 0 else { return }
        counter("flashdeal_worker_resend_unrecoverable_total", [("kind", kind)], help: Self.unrecoverableHelp)
            .increment(by: Int64(count))
    }

    func resendBacklog(undecided: Int, unseen: Int) {
        undecidedGauge.set(to: Double(undecided))
        unseenGauge.set(to: Double(unseen))
    }
}
