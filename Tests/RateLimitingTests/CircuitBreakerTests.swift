import RateLimiting
import Testing

/// The breaker's state machine on an injected clock: a dead Redis opens it, a stall among
/// successes does not.
@Suite("Circuit breaker")
struct CircuitBreakerTests {
    let t0 = ContinuousClock.now

    func at(_ ms: Int) -> ContinuousClock.Instant { t0 + .milliseconds(ms) }

    @Test func everyCallFailingOpensAfterTheThresholdThenProbesAndCloses() {
        let breaker = CircuitBreaker(threshold: 3, openDuration: .milliseconds(300), now: t0)
        #expect(!breaker.recordFailure(at: at(1)))
        #expect(!breaker.recordFailure(at: at(2)))
        #expect(breaker.recordFailure(at: at(3)))
        #expect(breaker.isOpen)
        #expect(!breaker.allowsCall(at: at(100)))
        #expect(breaker.allowsCall(at: at(303)), "one probe after the open duration")
        #expect(!breaker.allowsCall(at: at(304)), "only one probe at a time")
        #expect(breaker.recordSuccess(at: at(305)), "the probe's success closes it")
        #expect(!breaker.isOpen)
        #expect(breaker.allowsCall(at: at(306)))
    }

    @Test func aFailedProbeOpensAgain() {
        let breaker = CircuitBreaker(threshold: 1, openDuration: .milliseconds(100), now: t0)
        #expect(breaker.recordFailure(at: at(1)))
        #expect(breaker.allowsCall(at: at(101)))
        #expect(breaker.recordFailure(at: at(102)))
        #expect(!breaker.allowsCall(at: at(150)))
        #expect(breaker.allowsCall(at: at(202)))
    }

    @Test func aStallAmongManySuccessesKeepsItClosed() {
        let breaker = CircuitBreaker(threshold: 5, openDuration: .seconds(1), now: t0)
        for i in 0..<400 { breaker.recordSuccess(at: at(i)) }
        // 20 calls in flight miss their budget together (a 10 ms stall of a busy process).
        for i in 0..<20 { #expect(!breaker.recordFailure(at: at(400 + i / 2))) }
        #expect(!breaker.isOpen)
        #expect(breaker.allowsCall(at: at(411)))
    }

    @Test func failuresThatBecomeTheMajorityOpenIt() {
        let breaker = CircuitBreaker(threshold: 5, openDuration: .seconds(1), now: t0)
        for i in 0..<10 { breaker.recordSuccess(at: at(i)) }
        var opened = false
        var failures = 0
        while !opened {
            failures += 1
            opened = breaker.recordFailure(at: at(10 + failures))
        }
        #expect(failures == 10, "opens when failures reach half of the calls in the window")
    }

    @Test func successesOlderThanTheWindowDoNotDiluteFailures() {
        let breaker = CircuitBreaker(threshold: 3, openDuration: .seconds(1), window: .seconds(1), now: t0)
        for i in 0..<1_000 { breaker.recordSuccess(at: at(i / 10)) }
        // Two seconds later Redis died: the old successes are out of the window.
        #expect(!breaker.recordFailure(at: at(2_100)))
        #expect(!breaker.recordFailure(at: at(2_101)))
        #expect(breaker.recordFailure(at: at(2_102)))
    }

    @Test func failuresSpreadThinlyOverTimeNeverAddUp() {
        let breaker = CircuitBreaker(threshold: 3, openDuration: .seconds(1), window: .seconds(1), now: t0)
        // One failure every 1.1 s among steady successes: never 3 in one window.
        for second in 0..<10 {
            for i in 0..<50 { breaker.recordSuccess(at: at(second * 1_100 + i)) }
            #expect(!breaker.recordFailure(at: at(second * 1_100 + 60)))
        }
    }
}
