import Domain
import Foundation
import Infrastructure
import TestSupport
import Testing

@testable import RateLimiting

extension StackTests {
    /// The rate limiter against the real Redis. Serialized: one test stops Redis.
    @Suite("Rate limiter on the real Redis", .serialized, .timeLimit(.minutes(3)))
    struct RateLimiterStackTests {
        let redis: RedisClient

        init() throws {
            let e = try TestStack.endpoints()
            redis = RedisClient(configuration: RedisConfiguration(host: e.redisHost, port: e.redisPort))
        }

        func limiter(
            _ policies: [RatePolicy], _ configuration: RateLimiterConfiguration = .init(redisBudget: .milliseconds(50))
        )
            async throws -> RateLimiter
        {
            let limiter = RateLimiter(
                redis: redis, policies: PolicyStore(ActivePolicies(version: "test", policies: policies)),
                configuration: configuration)
            try await limiter.prepare()
            return limiter
        }

        func policy(
            _ name: String = TestStack.uniqueName("p"), key: RateKeyKind = .clientIP, capacity: Int, rate: Double,
            action: RateAction = .reject, failMode: RateFailMode = .open, operations: Set<String> = []
        ) throws -> RatePolicy {
            try RatePolicy(
                name: name, match: RateMatch(operations: operations), key: key,
                bucket: RateBucket(capacity: capacity, refillPerSecond: rate), action: action, failMode: failMode)
        }

        func request(ip: String = "10.0.0.1", user: String? = nil, operation: String = "createOrder") throws
            -> RateLimitRequest
        {
            RateLimitRequest(operation: operation, userId: try user.map(UserID.init), clientIP: ip)
        }

        /// `clients` tasks deciding `request` in a loop for `duration`; returns (admitted, decided, elapsed, failures).
        func hammer(_ limiter: RateLimiter, _ request: RateLimitRequest, clients: Int, for duration: Duration) async
            -> (admitted: Int, decided: Int, elapsed: Duration, failures: Int)
        {
            let start = ContinuousClock.now
            let end = start + duration
            let counts = await withTaskGroup(of: (Int, Int, Int).self) { group in
                for _ in 0..<clients {
                    group.addTask {
                        var admitted = 0
                        var decided = 0
                        var failures = 0
                        while ContinuousClock.now < end {
                            let d = await limiter.decide(request)
                            decided += 1
                            if d.outcome == .allowed { admitted += 1 }
                            failures += d.verdicts.count { $0.result == .failedOpen || $0.result == .failedClosed }
                        }
                        return (admitted, decided, failures)
                    }
                }
                return await group.reduce(into: (0, 0, 0)) { $0 = ($0.0 + $1.0, $0.1 + $1.1, $0.2 + $1.2) }
            }
            return (counts.0, counts.1, ContinuousClock.now - start, counts.2)
        }

        @Test func hotKeyAdmitsCapacityPlusRateTimesElapsedWithinOnePercent() async throws {
            // Every decision goes to Redis (no local cache, no leases): the function's exactness.
            let p = try policy(capacity: 200, rate: 1_000, failMode: .closed)
            let limiter = try await limiter(
                [p], .init(redisBudget: .milliseconds(200), overLimitCache: false, leasePeriod: nil))
            let result = await hammer(
                limiter, try request(ip: TestStack.uniqueName("hot")), clients: 64, for: .seconds(10))
            let elapsed = result.elapsed.seconds
            let expected = 200 + 1_000 * elapsed
            let rate = Double(result.decided) / elapsed
            #expect(result.failures == 0)
            #expect(rate >= 10_000, "only \(Int(rate)) decisions/s: the premise of the test is not met")
            #expect(
                abs(Double(result.admitted) - expected) <= expected * 0.01,
                "admitted \(result.admitted), expected \(Int(expected)) over \(elapsed) s at \(Int(rate))/s")
        }

        @Test func overLimitCacheKeepsAHotKeyAwayFromRedis() async throws {
            let p = try policy(capacity: 10, rate: 50)
            let limiter = try await limiter([p])
            let result = await hammer(
                limiter, try request(ip: TestStack.uniqueName("cached")), clients: 32, for: .seconds(3))
            let callsPerDecision = Double(limiter.statistics.redisCalls) / Double(result.decided)
            #expect(result.decided > 5_000)
            #expect(callsPerDecision < 0.1, "\(limiter.statistics.redisCalls) calls for \(result.decided) decisions")
            // The cache never admits more than the bucket allows.
            #expect(Double(result.admitted) <= 10 + 50 * result.elapsed.seconds + 2)
            #expect(limiter.statistics.cacheHits > 0)
        }

        @Test func everyPolicyOfOneClientIsDecidedInOneRoundTrip() async throws {
            let policies = try [
                policy(capacity: 100, rate: 10), policy(capacity: 50, rate: 5), policy(capacity: 20, rate: 1),
            ]
            let limiter = try await limiter(policies)
            let d = await limiter.decide(try request(ip: TestStack.uniqueName("multi")))
            #expect(d.outcome == .allowed)
            #expect(d.verdicts.count == 3)
            #expect(limiter.statistics.redisCalls == 1)
            #expect(Set(d.verdicts.map(\.remaining)) == [99, 49, 19])
        }

        @Test func aRefusedRequestChargesNoOtherEnforcingBucket() async throws {
            let small = try policy(capacity: 1, rate: 0.001)
            let large = try policy(capacity: 100, rate: 0.001)
            let limiter = try await limiter(
                [small, large], .init(redisBudget: .milliseconds(50), overLimitCache: false))
            let ip = TestStack.uniqueName("atomic")
            #expect(await limiter.decide(try request(ip: ip)).outcome == .allowed)
            for _ in 0..<5 {
                let d = await limiter.decide(try request(ip: ip))
                #expect(d.outcome == .limited)
                #expect(d.verdicts.first { $0.policy == large.name }?.result == .notCharged)
            }
            // Only the first request was charged to the large bucket.
            let d = await limiter.decide(try request(ip: ip))
            #expect(d.verdicts.first { $0.policy == large.name }?.remaining == 99)
        }

        @Test func shadowCountsButNeverRefusesAndQueueSendsToTheWaitingRoom() async throws {
            let shadow = try policy(capacity: 2, rate: 0.001, action: .shadow)
            let queue = try policy(key: .user, capacity: 3, rate: 0.001, action: .queue)
            let limiter = try await limiter([shadow, queue])
            let ip = TestStack.uniqueName("shadow")
            let user = TestStack.uniqueName("u")
            var outcomes: [RateLimitDecision.Outcome] = []
            var shadowLimited = 0
            for _ in 0..<5 {
                let d = await limiter.decide(try request(ip: ip, user: user))
                outcomes.append(d.outcome)
                shadowLimited += d.verdicts.count { $0.result == .shadowLimited }
            }
            #expect(outcomes == [.allowed, .allowed, .allowed, .queued, .queued])
            #expect(
                shadowLimited == 1,
                "the shadow bucket emptied after 2; the third was counted, later ones were queued before it")
        }

        @Test func limitedAnswersCarryRateLimitHeaders() async throws {
            let p = try policy("per-ip-test", capacity: 2, rate: 1)
            let limiter = try await limiter([p])
            let ip = TestStack.uniqueName("headers")
            _ = await limiter.decide(try request(ip: ip))
            _ = await limiter.decide(try request(ip: ip))
            let d = await limiter.decide(try request(ip: ip))
            #expect(d.outcome == .limited)
            let headers = Dictionary(d.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
            #expect(headers["RateLimit-Policy"] == "\"per-ip-test\";q=2;w=2")
            #expect(headers["RateLimit"] == "\"per-ip-test\";r=0;t=1")
            #expect(headers["Retry-After"] == "1")
        }

        @Test func pausedRedisPastTheBudgetAppliesTheFailModeInTime() async throws {
            let open = try policy(capacity: 100, rate: 100, failMode: .open, operations: ["stock"])
            let closed = try policy(capacity: 100, rate: 100, failMode: .closed, operations: ["createOrder"])
            let limiter = try await limiter(
                [open, closed], .init(redisBudget: .milliseconds(5), breakerThreshold: 1_000))
            let ip = TestStack.uniqueName("paused")
            #expect(await limiter.decide(try request(ip: ip, operation: "createOrder")).outcome == .allowed)
            // Another client pauses every command for 500 ms: Redis is up but slow.
            try await redis.send("CLIENT", "PAUSE", "500", "ALL")
            let start = ContinuousClock.now
            let read = await limiter.decide(try request(ip: ip, operation: "stock"))
            let write = await limiter.decide(try request(ip: ip, operation: "createOrder"))
            let elapsed = ContinuousClock.now - start
            #expect(read.outcome == .allowed)
            #expect(read.verdicts.first?.result == .failedOpen)
            #expect(write.outcome == .unavailable)
            #expect(write.retryAfter == .seconds(1))
            #expect(elapsed < .milliseconds(2 * 5 + 40), "two decisions took \(elapsed)")
            #expect(limiter.statistics.failedOpen == 1 && limiter.statistics.failedClosed == 1)
            try await Task.sleep(for: .milliseconds(600))
        }

        @Test func stoppedRedisAppliesFailModesWithinBudgetAndRecoversWithoutRestart() async throws {
            let open = try policy(capacity: 1_000, rate: 100, failMode: .open, operations: ["stock"])
            let closed = try policy(capacity: 1_000, rate: 100, failMode: .closed, operations: ["createOrder"])
            let limiter = try await limiter(
                [open, closed],
                .init(
                    redisBudget: .milliseconds(5), breakerThreshold: 3,
                    breakerOpenDuration: .milliseconds(300)))
            let ip = TestStack.uniqueName("down")
            #expect(await limiter.decide(try request(ip: ip, operation: "createOrder")).outcome == .allowed)

            try TestStack.run("stop", "redis")
            var restarted = false
            defer { if !restarted { try? TestStack.run("start", "redis") } }
            var slowest = Duration.zero
            for i in 0..<50 {
                let start = ContinuousClock.now
                let d = await limiter.decide(
                    try request(ip: ip, operation: i.isMultiple(of: 2) ? "stock" : "createOrder"))
                slowest = max(slowest, ContinuousClock.now - start)
                #expect(d.outcome == (i.isMultiple(of: 2) ? .allowed : .unavailable))
            }
            #expect(slowest < .milliseconds(5 + 20), "slowest decision with Redis down took \(slowest)")
            #expect(limiter.statistics.breakerOpened >= 1)

            try TestStack.run("start", "redis")
            restarted = true
            // Same limiter, same process: decisions come from Redis again once the breaker probes.
            let back = try await eventually(timeout: .seconds(10)) {
                let d = await limiter.decide(try request(ip: ip, operation: "createOrder"))
                guard d.outcome == .allowed, d.verdicts.first?.result == .allowed else {
                    throw RedisError(.timeout, "not yet")
                }
                return d
            }
            #expect(back.verdicts.first?.remaining ?? 0 > 0)
        }
    }
}

extension StackTests.RateLimiterStackTests {
    @Test func aRequestRefusedInOneHashTagIsRefundedInTheOthers() async throws {
        // Per-IP and per-user buckets live under different hash tags: two calls, one refund.
        let perIP = try policy(capacity: 1, rate: 0.001)
        let perUser = try policy(key: .user, capacity: 100, rate: 0.001)
        let limiter = try await limiter([perIP, perUser], .init(redisBudget: .milliseconds(50), overLimitCache: false))
        let ip = TestStack.uniqueName("refund")
        let user = TestStack.uniqueName("u")
        #expect(await limiter.decide(try request(ip: ip, user: user)).outcome == .allowed)
        for _ in 0..<3 {
            let d = await limiter.decide(try request(ip: ip, user: user))
            #expect(d.outcome == .limited)
            #expect(d.verdicts.first { $0.policy == perUser.name }?.result == .notCharged)
        }
        // Another IP, same user: only the first request ever charged the per-user bucket.
        let d = await limiter.decide(try request(ip: TestStack.uniqueName("other"), user: user))
        #expect(d.outcome == .allowed)
        #expect(d.verdicts.first { $0.policy == perUser.name }?.remaining == 98)
    }
}

extension StackTests.RateLimiterStackTests {
    /// Two limiters (two gateways) leasing shares of one hot bucket in the same Redis.
    func twoGateways(_ p: RatePolicy) async throws -> (RateLimiter, RateLimiter) {
        let e = try TestStack.endpoints()
        let other = RedisClient(configuration: RedisConfiguration(host: e.redisHost, port: e.redisPort))
        let a = try await limiter([p])
        let b = RateLimiter(
            redis: other, policies: PolicyStore(ActivePolicies(version: "test", policies: [p])),
            configuration: .init(redisBudget: .milliseconds(50)))
        try await b.prepare()
        return (a, b)
    }

    @Test func twoGatewaysLeasingOneHotBucketAdmitWhatItAllowsAndNoMore() async throws {
        let p = try policy(key: .global, capacity: 200, rate: 2_000, failMode: .closed)
        let (a, b) = try await twoGateways(p)
        let r = try request()
        // The bucket refills on Redis's clock; a wall-clock step during the run moves it and not the
        // test's monotonic clock, so the bound is read from Redis's own time around the run.
        let redisStart = try await redis.serverTime()
        async let first = hammer(a, r, clients: 8, for: .seconds(3))
        async let second = hammer(b, r, clients: 8, for: .seconds(3))
        let (x, y) = await (first, second)
        let redisElapsed = try await redis.serverTime().timeIntervalSince(redisStart)
        let elapsed = min(max(x.elapsed, y.elapsed).seconds, redisElapsed)
        let allowed = 200 + 2_000 * redisElapsed
        let admitted = x.admitted + y.admitted
        #expect(x.failures + y.failures == 0)
        let clocks = "Redis \(redisElapsed) s, test \(max(x.elapsed, y.elapsed).seconds) s"
        #expect(Double(admitted) <= allowed + 2, "admitted \(admitted) of \(Int(allowed)) allowed (\(clocks))")
        // Shares that lapse unspent are the only loss: a few percent at most under steady demand.
        #expect(Double(admitted) >= (200 + 2_000 * elapsed) * 0.9, "admitted \(admitted) (\(clocks))")
        #expect(a.statistics.leaseRequests > 0 && b.statistics.leaseRequests > 0)
    }

    @Test func aHotBucketWithTokensToSpareIsDecidedMostlyWithoutRedis() async throws {
        let p = try policy(key: .global, capacity: 1_000_000, rate: 1)
        let (a, b) = try await twoGateways(p)
        let r = try request()
        async let first = hammer(a, r, clients: 4, for: .seconds(1))
        async let second = hammer(b, r, clients: 4, for: .seconds(1))
        let (x, y) = await (first, second)
        #expect(x.admitted == x.decided && y.admitted == y.decided)
        for (limiter, result) in [(a, x), (b, y)] {
            let callsPerDecision = Double(limiter.statistics.redisCalls) / Double(result.decided)
            #expect(callsPerDecision < 0.1, "\(limiter.statistics.redisCalls) calls for \(result.decided) decisions")
            #expect(limiter.statistics.leaseHits > result.decided / 2)
        }
        // What Redis counted is what was handed out: at least every admitted request (the bucket
        // refills one token a second).
        let reply = try await redis.send("HGET", RateLimitKeys.bucket(policy: p, identity: "*"), "t")
        let left = Double(reply.stringValue ?? "") ?? -1
        #expect(left >= 0 && 1_000_000 - left >= Double(x.admitted + y.admitted) - 2)
    }

    @Test func aRequestRefusedElsewhereGivesItsLocalShareBack() async throws {
        // The per-IP bucket is hot and leased; the per-user bucket holds one request.
        let perIP = try policy(capacity: 10_000, rate: 0.001)
        let perUser = try policy(key: .user, capacity: 1, rate: 0.001)
        let limiter = try await limiter([perIP, perUser], .init(redisBudget: .milliseconds(50), overLimitCache: false))
        let ip = TestStack.uniqueName("share")
        for i in 0..<20 {
            #expect(await limiter.decide(try request(ip: ip, user: TestStack.uniqueName("u\(i)"))).outcome == .allowed)
        }
        let user = TestStack.uniqueName("once")
        #expect(await limiter.decide(try request(ip: ip, user: user)).outcome == .allowed)
        let key = RateLimitKeys.bucket(policy: perIP, identity: ip)
        let held = limiter.leases?.held(key) ?? -1
        #expect(held > 0, "the per-IP bucket should be leased by now")
        let refused = await limiter.decide(try request(ip: ip, user: user))
        #expect(refused.outcome == .limited)
        #expect(refused.verdicts.first { $0.policy == perIP.name }?.result == .notCharged)
        #expect(limiter.leases?.held(key) == held, "the refused request took nothing from the share")
    }
}
