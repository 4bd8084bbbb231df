import Admission
import Domain
import Infrastructure
import Operations
public import Prometheus
import Synchronization

/// The gateway's own metrics: GraphQL operations by outcome with latency, the createOrder path's
/// back-pressure, and the waiting room.
public final class GatewayMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let counters = Mutex<[String: Counter]>([:])
    private let histograms = Mutex<[String: DurationHistogram]>([:])
    private let gauges = Mutex<[String: Gauge]>([:])
    static let buckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
    ]

    private let executions: (compiled: Counter, general: Counter)

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        let help = "GraphQL operations run, by path: compiled (a hot operation's plan) or general (the executor)."
        executions = (
            registry.counter("flashdeal_gateway_graphql_executions_total", labels: [("path", "compiled")], help: help),
            registry.counter("flashdeal_gateway_graphql_executions_total", labels: [("path", "general")], help: help)
        )
        // Series that exist before the first refusal, so rates and alerts see a zero, not nothing.
        for reason in ["in_flight", "producer_queue"] { _ = shedCounter(reason: reason) }
        for result in KeptRequestRedelivery.Result.allCases { _ = redeliveryCounter(result) }
    }

    /// One operation run, compiled or by the general executor.
    func execution(compiled: Bool) { (compiled ? executions.compiled : executions.general).increment() }

    /// One GraphQL root field answered: `outcome` is `ok` or an API error code.
    func operation(_ operation: String, outcome: String, duration: Duration) {
        let key = "\(operation)|\(outcome)"
        let counter = counters.withLock { counters in
            if let c = counters[key] { return c }
            let c = registry.counter(
                "flashdeal_gateway_operations_total",
                labels: [("operation", operation), ("outcome", outcome)],
                help: "GraphQL root fields answered, by operation and outcome (ok or error code).")
            counters[key] = c
            return c
        }
        counter.increment()
        let histogram = histograms.withLock { histograms in
            if let h = histograms[key] { return h }
            let h = registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    metricName: "flashdeal_gateway_operation_duration", unitName: "seconds",
                    helpText: "Time to answer a GraphQL root field, by operation and outcome."),
                labels: [("operation", operation), ("outcome", outcome)], buckets: Self.buckets)
            histograms[key] = h
            return h
        }
        histogram.recordNanoseconds(duration.nanoseconds)
    }

    /// One HTTP request to /graphql, by status.
    func request(status: Int, duration: Duration) {
        let key = "http|\(status)"
        let histogram = histograms.withLock { histograms in
            if let h = histograms[key] { return h }
            let h = registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    metricName: "flashdeal_gateway_http_request_duration", unitName: "seconds",
                    helpText: "Time to answer a /graphql HTTP request, by status code."),
                labels: [("status", String(status))], buckets: Self.buckets)
            histograms[key] = h
            return h
        }
        histogram.recordNanoseconds(duration.nanoseconds)
    }

    func joined(deal: DealID) {
        counter(
            "flashdeal_waitingroom_joins_total", deal: deal, help: "Shoppers who took a new place in a waiting room."
        ).increment()
    }

    func paced(deal: DealID, _ step: AdvanceResult) {
        if step.admitted > 0 {
            counter("flashdeal_waitingroom_admitted_total", deal: deal, help: "Shoppers admitted (passes issued to).")
                .increment(by: Int64(step.admitted))
        }
        if step.reclaimedPasses > 0 {
            counter(
                "flashdeal_waitingroom_reclaimed_passes_total", deal: deal,
                help: "Passes that expired unused; their capacity returned."
            )
            .increment(by: Int64(step.reclaimedPasses))
        }
        gauge(
            "flashdeal_waitingroom_waiting", deal: deal,
            help: "Shoppers waiting in line (room-wide: every gateway reports it; aggregate with max)."
        ).set(
            to: Double(step.waiting))
        gauge(
            "flashdeal_waitingroom_active_passes", deal: deal,
            help: "Passes issued and neither used nor expired (room-wide: aggregate with max)."
        )
        .set(to: Double(step.activePasses))
        gauge("flashdeal_waitingroom_admission_rate", deal: deal, help: "Measured admissions per second.")
            .set(to: step.ratePerSecond)
        // The wait of the last shopper in line at the measured pace; unknown (not updated) while
        // shoppers wait and no admission rate is measured yet, as before the opening.
        if step.waiting == 0 || step.ratePerSecond > 0 {
            let eta = step.waiting == 0 ? 0 : Double(step.waiting) / step.ratePerSecond
            gauge(
                "flashdeal_waitingroom_eta_seconds", deal: deal,
                help: "Expected wait of the last shopper in line at the measured admission rate (0 when nobody waits)."
            )
            .set(to: eta)
        }
    }

    /// The order workers' consumer lag, per partition, as the pacer's lag probe last read it.
    func consumerLag(group: String, topic: String, _ lag: ConsumerLag) {
        for (partition, messages) in lag.perPartition {
            gauge(
                "flashdeal_kafka_consumer_lag_messages",
                labels: [("group", group), ("topic", topic), ("partition", String(partition))],
                help:
                    "Messages of the topic not yet committed by the consumer group, per partition (read by every gateway each second: aggregate over gateways with max)."
            )
            .set(to: Double(messages))
        }
    }

    func dealState(_ state: DealState) {
        gauge(
            "flashdeal_deal_stock_remaining", deal: state.dealId,
            help: "Units of the deal not yet reserved, as last read."
        )
        .set(to: Double(state.remaining))
    }

    func shed(reason: String) { shedCounter(reason: reason).increment() }

    private func shedCounter(reason: String) -> Counter {
        counter(
            "flashdeal_gateway_shed_total", labels: [("reason", reason)],
            help: "createOrder calls refused by back-pressure before any work, by reason.")
    }

    /// Kept order requests whose redelivery by the gateway ended, by how (``KeptRequestRedelivery``).
    func redelivery(_ result: KeptRequestRedelivery.Result, count: Int) {
        redeliveryCounter(result).increment(by: Int64(count))
    }

    private func redeliveryCounter(_ result: KeptRequestRedelivery.Result) -> Counter {
        counter(
            "flashdeal_gateway_kept_requests_total", labels: [("result", result.rawValue)],
            help:
                "Kept order requests (pass bound, broker acknowledgement missing) the gateway sent again, by result: delivered, abandoned (left to the copy in Redis), dropped (over the bound)."
        )
    }

    func setKeptPending(_ value: Int) {
        gauge(
            "flashdeal_gateway_kept_requests_pending",
            help: "Kept order requests the gateway is still sending again (no broker acknowledgement yet)."
        )
        .set(to: Double(value))
    }

    func setInFlight(_ value: Int, queued: Int) {
        gauge("flashdeal_gateway_orders_in_flight", help: "createOrder calls waiting for the broker's acknowledgement.")
            .set(to: Double(value))
        gauge(
            "flashdeal_gateway_producer_queue_messages",
            help: "Messages in the Kafka producer's local queue or in flight."
        )
        .set(to: Double(queued))
    }

    private let redisSeen = Mutex<[String: (commands: Int, roundTrips: Int)]>([:])

    /// Brings the Redis client counters up to date (called by a sampler).
    func redis(client: String, _ statistics: RedisStatistics) {
        let (commands, roundTrips) = (statistics.commands, statistics.roundTrips)
        let (newCommands, newRoundTrips) = redisSeen.withLock { seen -> (Int, Int) in
            let last = seen[client] ?? (0, 0)
            seen[client] = (commands, roundTrips)
            return (commands - last.commands, roundTrips - last.roundTrips)
        }
        let key = "redis|\(client)"
        let (c, r) = counters.withLock { counters -> (Counter, Counter) in
            if let c = counters[key + "|c"], let r = counters[key + "|r"] { return (c, r) }
            let c = registry.counter(
                "flashdeal_redis_commands_total", labels: [("client", client)],
                help: "Redis commands sent, by client (requests = the request path, background = pacing and refresh).")
            let r = registry.counter(
                "flashdeal_redis_round_trips_total", labels: [("client", client)],
                help:
                    "Redis round trips (pipelined writes), by client; commands ÷ round trips is the pipelining factor.")
            counters[key + "|c"] = c
            counters[key + "|r"] = r
            return (c, r)
        }
        if newCommands > 0 { c.increment(by: Int64(newCommands)) }
        if newRoundTrips > 0 { r.increment(by: Int64(newRoundTrips)) }
    }

    private func counter(_ name: String, deal: DealID, help: String) -> Counter {
        counter(name, labels: [("deal", deal.rawValue)], help: help)
    }

    /// One counter per name and labels, made on first use.
    private func counter(_ name: String, labels: [(String, String)], help: String) -> Counter {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        return counters.withLock { counters in
            if let c = counters[key] { return c }
            let c = registry.counter(name, labels: labels, help: help)
            counters[key] = c
            return c
        }
    }

    private func gauge(_ name: String, deal: DealID? = nil, help: String) -> Gauge {
        gauge(name, labels: deal.map { [("deal", $0.rawValue)] } ?? [], help: help)
    }

    private func gauge(_ name: String, labels: [(String, String)], help: String) -> Gauge {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        return gauges.withLock { gauges in
            if let g = gauges[key] { return g }
            let g = registry.gauge(name, labels: labels, help: help)
            gauges[key] = g
            return g
        }
    }
}
