import DealData
import Domain
import Foundation
import Infrastructure
import Logging
import Operations
import Tracing

/// The work done in message order, outside the batch's reserve → persist → publish path: cancellations,
/// payment deadlines and dead letters.
extension OrderProcessor {
    // MARK: Cancellation

    /// Gives a confirmed order's stock back, records CANCELLED and publishes StockReleased(CANCELLED).
    /// A cancellation of an order that holds nothing (turned away, unknown, another shopper's) changes nothing.
    func cancel(_ c: OrderCancellationRequested, traceparent: KafkaHeader?, span: (any Span)? = nil) async throws {
        let releaseSpan = span.flatMap {
            $0.isRecording ? FlashDealTracing.start("flashdeal.release", context: $0.context) : nil
        }
        let reply = try await retrying("redis") {
            try await self.reservations.release(order: c.orderId, deal: c.dealId, user: c.userId, reason: .cancelled)
        }
        if let releaseSpan {
            releaseSpan.updateAttributes { attributes in
                attributes.redisFunction(ReservationFunctions.release)
                attributes[FlashDealSpanAttribute.orderId] = c.orderId.rawValue
                attributes[FlashDealSpanAttribute.dealId] = c.dealId.rawValue
                attributes[FlashDealSpanAttribute.releaseResult] = reply.result.rawValue
                attributes[FlashDealSpanAttribute.releaseReason] = StockReleaseReason.cancelled.rawValue
            }
            releaseSpan.end()
        }
        metrics.release(reason: StockReleaseReason.cancelled.rawValue, result: reply.result.rawValue)
        switch reply.result {
        case .released, .alreadyReleased:
            let now = Date()
            var at = now
            let changed = try await retrying("mongo") {
                try await self.orders.cancel(c.orderId, reason: .shopper, at: now)
            }
            // Recorded before (a redelivery): the event keeps the first cancellation's time.
            if !changed, let stored = try await retrying("mongo", { try await self.orders.find(c.orderId) }),
                stored.status == .cancelled
            {
                at = stored.updatedAt
            }
            let event = StockReleased(
                eventId: .derive(type: .stockReleased, orderId: c.orderId), occurredAt: at,
                orderId: c.orderId, dealId: c.dealId, quantity: reply.quantity, reason: .cancelled)
            try await send([
                OutgoingEvent(event: .stockReleased(event), key: c.orderId.rawValue, traceparent: traceparent)
            ])
            metrics.order(status: OrderStatus.cancelled.rawValue)
        case .notHeld, .unknown, .wrongUser:
            logger.info(
                "cancellation changes nothing",
                metadata: ["order": "\(c.orderId)", "result": "\(reply.result.rawValue)"])
        }
    }

    // MARK: Payment deadlines

    /// Releases the reservations of every deal with a payment window whose deadline passed, records
    /// them CANCELLED (EXPIRED) and publishes StockReleased(EXPIRED). Idempotent: an order released
    /// but not yet recorded (a crash in between) is recorded on a later call, by this worker or another.
    func expireUnpaid(limit: Int = 500) async throws {
        let deals = try await reservations.expiringDeals(key: settings.expiringDealsKey)
        for raw in deals {
            guard let deal = try? DealID(raw) else {
                try await reservations.removeExpiringDeal(raw, key: settings.expiringDealsKey)
                continue
            }
            let sweep = try await reservations.expire(deal: deal, limit: limit, endGrace: settings.closeGrace)
            var recorded: [OrderID] = []
            var events: [OutgoingEvent] = []
            let now = Date()
            for expired in sweep.expired {
                var at = now
                if try await !orders.cancel(expired.orderId, reason: .expired, at: now) {
                    let stored = try await orders.find(expired.orderId)
                    // Not persisted yet (its request is being redelivered): recorded on a later sweep.
                    guard let stored, stored.status != .pending else { continue }
                    // Recorded before: the event keeps that time.
                    if stored.status == .cancelled { at = stored.updatedAt }
                }
                let event = StockReleased(
                    eventId: .derive(type: .stockReleased, orderId: expired.orderId), occurredAt: at,
                    orderId: expired.orderId, dealId: deal, quantity: expired.quantity, reason: .expired)
                events.append(
                    OutgoingEvent(event: .stockReleased(event), key: expired.orderId.rawValue, traceparent: nil))
                recorded.append(expired.orderId)
            }
            try await send(events)
            try await reservations.expiredDone(recorded, deal: deal)
            for _ in recorded {
                metrics.release(reason: StockReleaseReason.expired.rawValue, result: ReleaseResult.released.rawValue)
                metrics.order(status: OrderStatus.cancelled.rawValue)
            }
            if !recorded.isEmpty {
                logger.info(
                    "unpaid orders expired; their units are back on sale",
                    metadata: ["deal": "\(deal)", "orders": "\(recorded.count)", "stillUnpaid": "\(sweep.unpaid)"])
            }
            if sweep.finished { try await reservations.removeExpiringDeal(raw, key: settings.expiringDealsKey) }
        }
    }

    // MARK: Dead letters

    /// The message, unchanged, to the dead-letter topic with why it was refused in headers.
    func deadLetter(_ message: KafkaMessage, reason: String) async throws {
        logger.warning(
            "message sent to the dead-letter topic",
            metadata: ["source": "\(message.topicPartition)@\(message.offset)", "reason": "\(reason)"])
        let headers =
            message.headers + [
                KafkaHeader(name: DeadLetterHeaders.reason, value: reason),
                KafkaHeader(
                    name: DeadLetterHeaders.source, value: "\(message.topic)/\(message.partition)/\(message.offset)"),
                KafkaHeader(name: DeadLetterHeaders.at, value: Timestamp.format(Date())),
            ]
        try await retrying("kafka") {
            try await self.producer.append(
                topic: self.settings.topics.deadLetters, key: message.key, value: message.value,
                headers: headers)
        }
        metrics.deadLettered()
    }
}

/// Headers the worker adds to a dead-lettered message.
public enum DeadLetterHeaders {
    /// Why the message was refused, readable by a person.
    public static let reason = "flashdeal-dlq-reason"
    /// `topic/partition/offset` it came from.
    public static let source = "flashdeal-dlq-source"
    /// When it was dead-lettered (RFC 3339).
    public static let at = "flashdeal-dlq-at"
}
