public import Domain
import Foundation
public import Infrastructure
import Operations
import Synchronization
import Tracing

/// Why an order request was not (or may not have been) accepted by the log.
public enum OrderRequestRefusal: Error, Sendable, Equatable {
    /// Not sent: too much work in flight. Safe to retry after a pause.
    case overloaded(inFlight: Int, queued: Int)
    /// Sent, but no acknowledgement in time or the client failed: it may or may not be in Kafka.
    case outcomeUnknown(String)
    /// The broker refused it or the client could not queue it: not in Kafka.
    case notSent(String)
}

/// Produces OrderRequested (and cancellation requests) to Kafka and waits for the broker's
/// acknowledgement, with bounded work: past `maxInFlight` calls or `maxProducerQueue` queued
/// messages it refuses at once (``Refusal/overloaded``) instead of queueing without limit.
public final class OrderRequestPublisher: Sendable {
    public typealias Refusal = OrderRequestRefusal

    private let producer: KafkaProducer
    private let topic: String
    private let maxInFlight: Int
    private let maxProducerQueue: Int
    private let inFlightCount = Atomic<Int>(0)

    public init(producer: KafkaProducer, topic: String, maxInFlight: Int, maxProducerQueue: Int) {
        self.producer = producer
        self.topic = topic
        self.maxInFlight = maxInFlight
        self.maxProducerQueue = maxProducerQueue
    }

    public var inFlight: Int { inFlightCount.load(ordering: .relaxed) }
    public var queueLength: Int { producer.queueLength }

    /// Whether a new order would be refused now; checked before the pass is bound, so a shed
    /// request leaves the shopper's pass untouched.
    public func overloaded() -> Refusal? {
        let inFlight = self.inFlight
        let queued = producer.queueLength
        if inFlight >= maxInFlight || queued >= maxProducerQueue {
            return .overloaded(inFlight: inFlight, queued: queued)
        }
        return nil
    }

    /// Produces `event` keyed by its order id with a W3C `traceparent` header: the producer span's
    /// when tracing is on (the worker's spans continue it), else `traceparent` as given. `encoded` is
    /// the message's value when the caller has it already (the bytes stored with the order, so a
    /// retry publishes exactly the first request); else the event is encoded here.
    public func publish(_ event: DomainEvent, encoded: [UInt8]? = nil, traceparent: String?) async throws(Refusal) {
        let admitted = inFlightCount.wrappingAdd(1, ordering: .relaxed).newValue
        defer { inFlightCount.wrappingSubtract(1, ordering: .relaxed) }
        if admitted > maxInFlight { throw .overloaded(inFlight: admitted - 1, queued: producer.queueLength) }
        let span = FlashDealTracing.start("send \(topic)", kind: .producer)
        defer { span?.end() }
        if let span, span.isRecording {
            span.updateAttributes { attributes in
                attributes.kafka("send", topic: topic)
                if let orderId = event.orderId {
                    attributes["messaging.kafka.message.key"] = orderId.rawValue
                    attributes[FlashDealSpanAttribute.orderId] = orderId.rawValue
                }
                attributes["messaging.message.id"] = event.eventId.rawValue
            }
        }
        var headers = [
            KafkaHeader(name: "flashdeal-event-type", value: Array(event.type.rawValue.utf8)),
            KafkaHeader(name: "content-type", value: Array("application/json".utf8)),
        ]
        if let traceparent = span.flatMap({ FlashDealTracing.traceparent(of: $0.context) }) ?? traceparent {
            headers.append(KafkaHeader(name: "traceparent", value: Array(traceparent.utf8)))
        }
        do {
            try await producer.send(
                topic: topic, key: event.orderId.map { Array($0.rawValue.utf8) },
                value: encoded ?? [UInt8](event.jsonData()), headers: headers)
        } catch {
            span?.recordError(error)
            span?.setStatus(.init(code: .error))
            switch error.code {
            case .queueFull: throw .overloaded(inFlight: admitted, queued: producer.queueLength)
            case .messageTimedOut, .fatal: throw .outcomeUnknown(error.message)
            default: throw error.isRetryable ? .outcomeUnknown(error.message) : .notSent(error.message)
            }
        }
    }
}
