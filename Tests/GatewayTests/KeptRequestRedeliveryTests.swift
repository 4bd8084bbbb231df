import Domain
import Foundation
import Gateway
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import Twins

/// The gateway's redelivery of kept order requests (``KeptRequestRedelivery``): sent again until the
/// broker acknowledges them, bounded in number and in time, one last attempt on shutdown.
@Suite("Kept order requests sent again by the gateway")
struct KeptRequestRedeliveryTests {
    final class Results: Sendable {
        let counts = Mutex<[KeptRequestRedelivery.Result: Int]>([:])
        func add(_ result: KeptRequestRedelivery.Result, _ n: Int) { counts.withLock { $0[result, default: 0] += n } }
        subscript(_ result: KeptRequestRedelivery.Result) -> Int { counts.withLock { $0[result] ?? 0 } }
    }

    static func request(_ user: String) throws -> (DomainEvent, [UInt8]) {
        let deal = try DealID("kept-deal")
        let key = try IdempotencyKey("k-\(user)")
        let userId = try UserID(user)
        let order = OrderID.derive(userId: userId, dealId: deal, idempotencyKey: key)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let event = DomainEvent.orderRequested(
            OrderRequested(
                eventId: EventID.derive(type: .orderRequested, orderId: order), occurredAt: now, orderId: order,
                dealId: deal, userId: userId, quantity: 1, idempotencyKey: key, requestedAt: now))
        return (event, [UInt8](event.jsonData()))
    }

    /// A clock the test moves by hand.
    final class Clock: Sendable {
        let instant = Mutex<ContinuousClock.Instant>(.now)
        var now: ContinuousClock.Instant { instant.withLock { $0 } }
        func advance(_ by: Duration) { instant.withLock { $0 += by } }
    }

    static func make(
        _ sink: RecordingOrderSink, _ results: Results, clock: Clock? = nil, maxPending: Int = 100,
        giveUpAfter: Duration = .seconds(60), retryAfter: Duration = .milliseconds(1)
    ) -> KeptRequestRedelivery {
        let now: @Sendable () -> ContinuousClock.Instant
        if let clock { now = { clock.now } } else { now = { ContinuousClock.now } }
        return KeptRequestRedelivery(
            sink: sink, maxPending: maxPending, giveUpAfter: giveUpAfter, retryAfter: retryAfter,
            logger: Logger(label: "kept-test"), onResult: { results.add($0, $1) }, now: now)
    }

    @Test func aKeptRequestIsSentAgainUntilTheBrokerAcknowledgesItWithTheSameBytes() async throws {
        let sink = RecordingOrderSink()
        let results = Results()
        let clock = Clock()
        let kept = Self.make(sink, results, clock: clock, retryAfter: .seconds(1))
        let (event, bytes) = try Self.request("u1")
        sink.setFailure(.outcomeUnknown("broker away"))
        kept.keep(event, encoded: bytes, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        kept.keep(event, encoded: bytes, traceparent: nil)  // the shopper's retry: still one
        #expect(kept.pending == 1)
        // Not due before retryAfter.
        await kept.attempt(dueBy: clock.now)
        #expect(sink.sent.isEmpty)
        clock.advance(.seconds(1))
        await kept.attempt(dueBy: clock.now)
        #expect(kept.pending == 1 && sink.sent.isEmpty && results[.delivered] == 0)

        sink.setFailure(nil)
        // A failed attempt waits twice retryAfter before the next.
        clock.advance(.seconds(1))
        await kept.attempt(dueBy: clock.now)
        #expect(sink.sent.isEmpty)
        clock.advance(.seconds(1))
        await kept.attempt(dueBy: clock.now)
        #expect(kept.pending == 0 && results[.delivered] == 1)
        let sent = try #require(sink.sent.first)
        #expect(sink.sent.count == 1 && sent.bytes == bytes && sent.event.orderId == event.orderId)
        #expect(sent.traceparent == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    }

    @Test func pastItsBoundTheOldestIsLeftToRedisAndPastItsTimeARequestIsAbandoned() async throws {
        let sink = RecordingOrderSink()
        let results = Results()
        let clock = Clock()
        let kept = Self.make(sink, results, clock: clock, maxPending: 2, giveUpAfter: .seconds(60))
        sink.setFailure(.notSent("refused"))
        let requests = try ["u1", "u2", "u3"].map(Self.request)
        for (event, bytes) in requests {
            kept.keep(event, encoded: bytes, traceparent: nil)
            clock.advance(.milliseconds(10))
        }
        #expect(kept.pending == 2 && results[.dropped] == 1)
        sink.setFailure(nil)
        await kept.attempt(dueBy: clock.now)
        // The two newest were delivered; the first was the one dropped.
        #expect(Set(sink.sent.compactMap(\.event.orderId)) == Set(requests.dropFirst().compactMap(\.0.orderId)))

        sink.setFailure(.outcomeUnknown("broker away"))
        kept.keep(requests[0].0, encoded: requests[0].1, traceparent: nil)
        clock.advance(.seconds(59))
        await kept.attempt(dueBy: clock.now)
        #expect(kept.pending == 1 && results[.abandoned] == 0)
        clock.advance(.seconds(1))
        await kept.attempt(dueBy: clock.now)
        #expect(kept.pending == 0 && results[.abandoned] == 1 && sink.sent.count == 2)
    }

    @Test func onShutdownEachPendingRequestGetsOneLastAttempt() async throws {
        for brokerBack in [true, false] {
            let sink = RecordingOrderSink()
            let results = Results()
            // A long pause between attempts: only the shutdown's attempt can send it.
            let kept = Self.make(sink, results, retryAfter: .seconds(30))
            let group = ServiceGroup(services: [kept], logger: Logger(label: "kept-test"))
            let runner = Task { try await group.run() }
            sink.setFailure(.outcomeUnknown("broker away"))
            let (event, bytes) = try Self.request("u-shutdown")
            kept.keep(event, encoded: bytes, traceparent: nil)
            try await Task.sleep(for: .milliseconds(300))
            #expect(sink.sent.isEmpty)
            if brokerBack { sink.setFailure(nil) }
            await group.triggerGracefulShutdown()
            try await runner.value
            #expect(kept.pending == 0)
            #expect(sink.sent.count == (brokerBack ? 1 : 0))
            #expect(results[.delivered] == (brokerBack ? 1 : 0) && results[.abandoned] == (brokerBack ? 0 : 1))
        }
    }
}
