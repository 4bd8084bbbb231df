import ArgumentParser
import Domain
import Foundation
import Infrastructure
import RateLimiting

/// `flashdeal-bench ratelimit`: decisions per second through the rate limiter with concurrent
/// callers, next to raw FCALLs of the same function, and decision latency at a paced rate
/// (open model: latency counts from each decision's scheduled start, so a stall is not hidden).
struct RateLimitBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ratelimit",
        abstract: "Rate limiter throughput and latency on the local Redis.")

    @Option(help: "Seconds per throughput measurement.") var seconds = 10
    @Option(help: "Concurrent callers.") var callers = 256
    @Option(help: "Decisions per second for the latency run.") var pacedRate = 10_000
    @Option(help: "Redis connections.") var connections = 4

    func run() async throws {
        let e = try ServiceEndpoints.load(
            environment: ProcessInfo.processInfo.environment,
            defaultFile: FileManager.default.currentDirectoryPath + "/.stack/endpoints.env")
        let redis = RedisClient(
            configuration: RedisConfiguration(
                host: e.redisHost, port: e.redisPort,
                connections: connections))
        defer { redis.shutdown() }
        let run = UInt32.random(in: 0...UInt32.max)
        let perIP = try RatePolicy(
            name: "bench-ip-\(run)", key: .clientIP,
            bucket: RateBucket(capacity: 1_000_000, refillPerSecond: 1_000_000))
        let perUser = try RatePolicy(
            name: "bench-user-\(run)", key: .user,
            bucket: RateBucket(capacity: 1_000_000, refillPerSecond: 1_000_000))
        let hot = try RatePolicy(
            name: "bench-hot-\(run)", key: .global, bucket: RateBucket(capacity: 10, refillPerSecond: 100))
        func limiter(_ policies: [RatePolicy]) async throws -> RateLimiter {
            let l = RateLimiter(
                redis: redis, policies: PolicyStore(ActivePolicies(version: "bench", policies: policies)),
                configuration: RateLimiterConfiguration(redisBudget: .milliseconds(50)))
            try await l.prepare()
            return l
        }
        let users = try (0..<10_000).map { try UserID("u\($0)") }
        @Sendable func request(_ i: Int) -> RateLimitRequest {
            RateLimitRequest(
                operation: "createOrder", userId: users[i % users.count], clientIP: "10.\(i % 200).\(i % 7).\(i % 250)")
        }

        let duration = Duration.seconds(seconds)
        let raw = try await throughput(duration) { i in
            _ = try await redis.fcall(
                TokenBucketFunction.name, keys: ["rl:{bench:\(run):\(i % 5_000)}:raw"],
                arguments: ["1000000", "1000000", "1", "1"])
        }
        let onePolicyLimiter = try await limiter([perIP])
        let one = try await throughput(duration) { i in _ = await onePolicyLimiter.decide(request(i)) }
        let twoPolicyLimiter = try await limiter([perIP, perUser])
        let two = try await throughput(duration) { i in _ = await twoPolicyLimiter.decide(request(i)) }
        let hotLimiter = try await limiter([hot])
        let cached = try await throughput(duration) { i in _ = await hotLimiter.decide(request(i)) }
        let cachedCalls = Double(hotLimiter.statistics.redisCalls) / Double(max(1, hotLimiter.statistics.decisions))
        let latencies = try await paced(rate: pacedRate, duration: duration) { i in
            _ = await onePolicyLimiter.decide(request(i))
        }

        print("")
        print("| measurement | result | target | verdict | ratio |")
        print("|---|---:|---:|---|---|")
        print("| raw FCALL of the bucket function, \(callers) callers | \(fmt(raw)) calls/s | — | baseline | |")
        print(
            "| decisions, 1 policy, \(callers) callers | \(fmt(one)) /s | ≥ 50,000 | \(one >= 50_000 ? "met" : "NOT met") | \(String(format: "%.2f", one / raw))x raw FCALL |"
        )
        print(
            "| decisions, 2 policies (IP + user: 2 hash tags, 2 calls), \(callers) callers | \(fmt(two)) /s | — | | \(String(format: "%.2f", two / raw))x raw FCALL |"
        )
        print(
            "| decisions on one hot over-limit key (local cache) | \(fmt(cached)) /s | — | | \(String(format: "%.3f", cachedCalls)) Redis calls per decision |"
        )
        let p50 = percentile(latencies, 0.50)
        let p99 = percentile(latencies, 0.99)
        let p999 = percentile(latencies, 0.999)
        print(
            "| decision latency at \(fmt(Double(pacedRate)))/s paced, 1 policy: p50 / p99 / p99.9 | \(ms(p50)) / \(ms(p99)) / \(ms(p999)) ms | p99 ≤ 2 ms | \(p99 <= 0.002 ? "met" : "NOT met") | \(latencies.count) decisions |"
        )
    }

    func throughput(_ duration: Duration, _ body: @escaping @Sendable (Int) async throws -> Void) async throws -> Double
    {
        let start = ContinuousClock.now
        let end = start + duration
        let count = try await withThrowingTaskGroup(of: Int.self) { group in
            for c in 0..<callers {
                group.addTask {
                    var i = c
                    var done = 0
                    while ContinuousClock.now < end {
                        try await body(i)
                        done += 1
                        i += 7_919
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(count) / (ContinuousClock.now - start).seconds
    }

    /// Starts `rate` operations per second on schedule; each latency is measured from its scheduled start.
    func paced(rate: Int, duration: Duration, _ body: @escaping @Sendable (Int) async -> Void) async throws -> [Double]
    {
        let total = Int(duration.seconds * Double(rate))
        let start = ContinuousClock.now
        let interval = 1.0 / Double(rate)
        return await withTaskGroup(of: Double.self) { group in
            var launched = 0
            while launched < total {
                let due = min(total, Int((ContinuousClock.now - start).seconds / interval) + 1)
                while launched < due {
                    let i = launched
                    let scheduled = start + .nanoseconds(Int64(Double(i) * interval * 1e9))
                    group.addTask {
                        await body(i)
                        return (ContinuousClock.now - scheduled).seconds
                    }
                    launched += 1
                }
                try? await Task.sleep(for: .microseconds(500))
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
    }
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}
func fmt(_ v: Double) -> String { Int(v.rounded()).formatted() }
func ms(_ s: Double) -> String { String(format: "%.2f", s * 1_000) }
