import Testing

@testable import RateLimiting

@Suite("Local shares of hot buckets")
struct BucketLeasesTests {
    let start = ContinuousClock.now
    func at(_ ms: Int) -> ContinuousClock.Instant { start + .milliseconds(ms) }

    @Test("a bucket turns hot after enough requests in one period and asks for about one period's demand")
    func hotAfterDemand() {
        let leases = BucketLeases(period: .milliseconds(100), share: 0.1, hotAfter: 4)
        let takes = (0..<5).map { leases.take("k", cost: 2, capacity: 1_000, now: at($0)) }
        #expect(takes == [.direct, .direct, .direct, .lease(want: 8), .lease(want: 10)])
        // The next period asks for what the last one used, up to a tenth of the capacity.
        for i in 0..<200 { _ = leases.take("k", cost: 2, capacity: 1_000, now: at(10 + i / 10)) }
        #expect(leases.take("k", cost: 2, capacity: 1_000, now: at(120)) == .lease(want: 100))
    }

    @Test("buckets too small for a share of two requests are never leased")
    func smallBucketsStayExact() {
        let leases = BucketLeases(period: .milliseconds(100), share: 0.1, hotAfter: 1)
        for i in 0..<50 { #expect(leases.take("k", cost: 4, capacity: 79, now: at(i)) == .direct) }
        #expect(leases.take("k", cost: 4, capacity: 80, now: at(60)) == .lease(want: 4))
    }

    @Test("a grant pays the asking request first, the rest is spent locally, and it lapses at the period's end")
    func grantSpendLapse() {
        let leases = BucketLeases(period: .milliseconds(100), share: 0.1, hotAfter: 1)
        #expect(leases.take("k", cost: 1, capacity: 1_000, now: at(0)) == .lease(want: 1))
        #expect(leases.granted("k", tokens: 3, cost: 1, bucketRemaining: 500, now: at(0)))
        #expect(leases.held("k", now: at(1)) == 2)
        #expect(leases.take("k", cost: 1, capacity: 1_000, now: at(1)) == .local(remaining: 501))
        #expect(leases.take("k", cost: 1, capacity: 1_000, now: at(2)) == .local(remaining: 500))
        if case .lease = leases.take("k", cost: 1, capacity: 1_000, now: at(3)) {} else { Issue.record("share spent") }
        #expect(leases.granted("k", tokens: 5, cost: 1, bucketRemaining: 400, now: at(3)))
        #expect(leases.held("k", now: at(50)) == 4)
        // The period ended: what was left is gone, never spent.
        #expect(leases.held("k", now: at(103)) == 0)
        if case .lease = leases.take("k", cost: 1, capacity: 1_000, now: at(104)) {} else { Issue.record("lapsed") }
    }

    @Test("a grant short of the cost keeps nothing; a refused request's tokens go back to the share")
    func shortGrantAndGiveBack() {
        let leases = BucketLeases(period: .milliseconds(100), share: 0.1, hotAfter: 1)
        #expect(!leases.granted("k", tokens: 0, cost: 2, bucketRemaining: 1, now: at(0)))
        #expect(leases.held("k", now: at(0)) == 0)
        #expect(leases.granted("k", tokens: 6, cost: 2, bucketRemaining: 10, now: at(0)))
        #expect(leases.held("k", now: at(0)) == 4)
        leases.giveBack("k", cost: 2, now: at(1))
        #expect(leases.held("k", now: at(1)) == 6)
        leases.giveBack("k", cost: 2, now: at(200))
        #expect(leases.held("k", now: at(200)) == 0, "an expired share takes nothing back")
        leases.clear()
        #expect(leases.held("k", now: at(2)) == 0)
    }
}
