import Domain
import Foundation
import PropertyBased
import Testing

@Suite("Token bucket")
struct TokenBucketTests {
    private func bucket(_ capacity: Int, _ rate: Double) throws -> TokenBucket {
        TokenBucket(try RateBucket(capacity: capacity, refillPerSecond: rate), now: reference)
    }

    @Test("starts full, drains, then refuses with a retry-after")
    func drain() throws {
        var b = try bucket(3, 1)
        #expect(b.take(cost: 2, at: reference) == .init(allowed: true, remaining: 1, retryAfter: nil))
        #expect(b.take(cost: 1, at: reference).allowed)
        let refused = b.take(cost: 2, at: reference)
        #expect(!refused.allowed && refused.remaining == 0 && refused.retryAfter == .seconds(2))
    }

    @Test("refills continuously up to capacity")
    func refill() throws {
        var b = try bucket(4, 2)
        _ = b.take(cost: 4, at: reference)
        #expect(b.available(at: at(0.5)) == 1)
        #expect(b.take(cost: 1, at: at(0.5)).allowed)
        #expect(!b.take(cost: 1, at: at(0.5)).allowed)
        #expect(b.available(at: at(100)) == 4, "never above capacity")
    }

    @Test("a request from the past refills nothing")
    func clockGoingBackwards() throws {
        var b = try bucket(2, 1)
        _ = b.take(cost: 2, at: at(10))
        #expect(!b.take(cost: 1, at: at(5)).allowed)
        #expect(b.updatedAt == at(10))
    }

    @Test("a cost above capacity can never pass and gets no retry-after")
    func impossibleCost() throws {
        var b = try bucket(2, 1)
        #expect(b.take(cost: 3, at: reference) == .init(allowed: false, remaining: 2, retryAfter: nil))
        #expect(b.take(cost: 0, at: reference).allowed && b.tokens == 2)
        #expect(b.take(cost: -5, at: reference).allowed && b.tokens == 2, "negative cost must not add tokens")
    }

    @Test("restored state is clamped to the bucket")
    func restore() throws {
        let spec = try RateBucket(capacity: 5, refillPerSecond: 1)
        #expect(TokenBucket(spec, tokens: 99, updatedAt: reference).tokens == 5)
        #expect(TokenBucket(spec, tokens: -3, updatedAt: reference).tokens == 0)
    }

    @Test("never admits more than capacity + rate × elapsed; retry-after is honest")
    func admissionBound() async {
        let request = zip(Gen.int(in: 0...1500), Gen.int(in: 0...12))
        await propertyCheck(count: 300, input: Gen.int(in: 1...10), Gen.double(in: 0.1...20), request.array(of: 1...80))
        {
            capacity, rate, requests in
            failOnThrow {
                var b = TokenBucket(try RateBucket(capacity: capacity, refillPerSecond: rate), now: reference)
                var now = reference
                var admitted = 0
                for (advanceMillis, cost) in requests {
                    now = now.addingTimeInterval(Double(advanceMillis) / 1000)
                    let decision = b.take(cost: cost, at: now)
                    if decision.allowed {
                        admitted += max(cost, 0)
                    } else if let wait = decision.retryAfter {
                        var probe = b
                        let retryAt = now.addingTimeInterval(
                            Double(wait.components.seconds)
                                + Double(wait.components.attoseconds) / 1e18 + 0.001)
                        #expect(probe.take(cost: cost, at: retryAt).allowed, "retry after \(wait) still refused")
                    } else {
                        #expect(cost > capacity)
                    }
                    let elapsed = now.timeIntervalSince(reference)
                    #expect(
                        Double(admitted) <= Double(capacity) + rate * elapsed + 1e-6,
                        "admitted \(admitted) > \(capacity) + \(rate) × \(elapsed)")
                    #expect(decision.remaining >= 0 && decision.remaining <= capacity)
                }
            }
        }
    }
}
