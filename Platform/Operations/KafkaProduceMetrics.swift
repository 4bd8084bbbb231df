public import Infrastructure
public import Prometheus
import Synchronization

/// Kafka produce latency and failures, for every process that produces (the gateway's order
/// requests, the worker's outcome events and dead letters):
///
/// - `flashdeal_kafka_produce_duration_seconds{topic,result}` — from the send to the broker's
///   acknowledgement (`result="ok"`) or to the failure (`result="error"`);
/// - `flashdeal_kafka_produce_errors_total{topic,error}` — failed sends by cause (`queue_full`,
///   `message_timed_out`, `delivery_failed`, `fatal`, `closed`, …).
///
/// Pass ``observe(_:)`` as the producer's observer. The topics given at start have their series
/// from the first scrape on, at zero.
public final class KafkaProduceMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let histograms = Mutex<[String: DurationHistogram]>([:])
    private let counters = Mutex<[String: Counter]>([:])

    static let buckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        .seconds(10),
    ]
    /// The failures a send can end in, exported at zero from the start.
    static let sendErrors: [KafkaError.Code] = [.queueFull, .messageTimedOut, .deliveryFailed, .fatal, .closed]

    public init(registry: PrometheusCollectorRegistry, topics: [String]) {
        self.registry = registry
        for topic in topics {
            _ = histogram(topic: topic, result: "ok")
            for code in Self.sendErrors { _ = counter(topic: topic, error: Self.label(code)) }
        }
    }

    public func observe(_ send: KafkaSendObservation) {
        histogram(topic: send.topic, result: send.error == nil ? "ok" : "error").recordNanoseconds(
            send.duration.nanoseconds)
        if let error = send.error { counter(topic: send.topic, error: Self.label(error.code)).increment() }
    }

    /// `messageTimedOut` → `message_timed_out`.
    static func label(_ code: KafkaError.Code) -> String {
        var out = ""
        for character in code.description {
            if character.isUppercase { out += "_" + character.lowercased() } else { out.append(character) }
        }
        return out
    }

    private func histogram(topic: String, result: String) -> DurationHistogram {
        let key = topic + "|" + result
        return histograms.withLock { histograms in
            if let h = histograms[key] { return h }
            let h = registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    metricName: "flashdeal_kafka_produce_duration", unitName: "seconds",
                    helpText:
                        "Time from a Kafka send to the broker's acknowledgement (result ok) or the failure (result error), by topic."
                ),
                labels: [("topic", topic), ("result", result)], buckets: Self.buckets)
            histograms[key] = h
            return h
        }
    }

    private func counter(topic: String, error: String) -> Counter {
        let key = topic + "|" + error
        return counters.withLock { counters in
            if let c = counters[key] { return c }
            let c = registry.counter(
                "flashdeal_kafka_produce_errors_total", labels: [("topic", topic), ("error", error)],
                help:
                    "Kafka sends that failed, by topic and cause (queue_full, message_timed_out, delivery_failed, fatal, closed, ...)."
            )
            counters[key] = c
            return c
        }
    }
}
