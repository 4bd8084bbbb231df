import DealData
import Domain
import Infrastructure
import Operations
import Tracing

/// The spans of a message's processing (`process`, `flashdeal.reserve`, `flashdeal.persist`, `send`).
extension OrderProcessor {
    // MARK: Spans

    /// Starts the message's `process` span (continuing the gateway's trace from its `traceparent`)
    /// with its finished `flashdeal.reserve` child. Reservations run as one pipelined batch, so
    /// every message's reserve span covers the batch's time; `flashdeal.batch.size` says how many shared it.
    func traceReservation(
        _ request: OrderRequested, _ message: KafkaMessage, _ reply: ReservationReply, batch: Int,
        from start: DefaultTracerClock.Instant, to end: DefaultTracerClock.Instant
    ) -> (any Span)? {
        guard
            let process = startProcessSpan(
                message, orderId: request.orderId, dealId: request.dealId,
                eventId: request.eventId, at: start)
        else { return nil }
        // Not sampled: the span only carries the context on (to the outcome events); no children.
        guard process.isRecording else { return process }
        if let reserve = FlashDealTracing.start("flashdeal.reserve", context: process.context, at: start) {
            reserve.updateAttributes { attributes in
                attributes.redisFunction(ReservationFunctions.reserve)
                attributes[FlashDealSpanAttribute.orderId] = request.orderId.rawValue
                attributes[FlashDealSpanAttribute.dealId] = request.dealId.rawValue
                attributes[FlashDealSpanAttribute.batchSize] = batch
                attributes[FlashDealSpanAttribute.reservationResult] =
                    switch reply.result {
                    case .decided(let outcome): outcome.rawValue
                    case .noState: "NO_STATE"
                    case .unverified: "UNVERIFIED"
                    }
                if reply.replay { attributes["flashdeal.reservation.replay"] = true }
            }
            reserve.end(at: end)
        }
        return process
    }

    /// A message's `process` span, continuing the trace of its `traceparent` header; nil when tracing is off.
    func startProcessSpan(
        _ message: KafkaMessage, orderId: OrderID, dealId: DealID, eventId: EventID,
        at start: DefaultTracerClock.Instant
    ) -> (any Span)? {
        guard FlashDealTracing.isEnabled else { return nil }
        let parent = FlashDealTracing.context(traceparent: message.header("traceparent")?.stringValue)
        guard
            let process = FlashDealTracing.start(
                "process \(message.topic)", kind: .consumer, context: parent, at: start)
        else { return nil }
        guard process.isRecording else { return process }
        let group = settings.groupID
        process.updateAttributes { attributes in
            attributes.kafka("process", topic: message.topic)
            attributes["messaging.destination.partition.id"] = String(message.partition)
            attributes["messaging.kafka.offset"] = Int(message.offset)
            attributes["messaging.kafka.message.key"] = orderId.rawValue
            attributes["messaging.consumer.group.name"] = group
            attributes["messaging.message.id"] = eventId.rawValue
            attributes[FlashDealSpanAttribute.orderId] = orderId.rawValue
            attributes[FlashDealSpanAttribute.dealId] = dealId.rawValue
        }
        return process
    }

    /// The `flashdeal.persist` child of each message's span: one `insertMany` for the batch.
    func tracePersistence(
        _ pending: [Pending], _ outcomes: [Outcome], persisted: Bool,
        from start: DefaultTracerClock.Instant, to end: DefaultTracerClock.Instant
    ) {
        guard FlashDealTracing.isEnabled else { return }
        let inserted = outcomes.filter { !$0.viaOutbox }.count
        for (p, outcome) in zip(pending, outcomes) where !outcome.viaOutbox {
            guard let parent = p.span, parent.isRecording,
                let span = FlashDealTracing.start("flashdeal.persist", context: parent.context, at: start)
            else { continue }
            span.updateAttributes { attributes in
                attributes["db.system.name"] = "mongodb"
                attributes["db.operation.name"] = "insertMany"
                attributes["db.collection.name"] = OrderStore.collectionName
                attributes["db.operation.batch.size"] = inserted
                attributes[FlashDealSpanAttribute.orderId] = p.request.orderId.rawValue
                attributes[FlashDealSpanAttribute.orderStatus] = outcome.document.status.rawValue
                if !persisted { attributes[FlashDealSpanAttribute.errorCode] = Self.compensationReason }
            }
            if !persisted {
                span.setStatus(.init(code: .error, message: "MongoDB unavailable past the retry budget; compensated"))
            }
            span.end(at: end)
        }
    }

    /// The `send` child of each message's span: its outcome events, produced and acknowledged.
    func tracePublication(
        _ decided: Decided, from start: DefaultTracerClock.Instant, to end: DefaultTracerClock.Instant
    ) {
        guard FlashDealTracing.isEnabled else { return }
        for (p, outcome) in zip(decided.pending, decided.outcomes) {
            guard let parent = p.span, parent.isRecording,
                let span = FlashDealTracing.start(
                    "send \(settings.topics.events)", kind: .producer,
                    context: parent.context, at: start)
            else { continue }
            let topic = settings.topics.events
            span.updateAttributes { attributes in
                attributes.kafka("send", topic: topic)
                attributes["messaging.batch.message_count"] = outcome.events.count
                attributes[FlashDealSpanAttribute.orderId] = p.request.orderId.rawValue
            }
            span.end(at: end)
        }
    }
}
