import Foundation
import Infrastructure
import TestSupport
import Testing

extension StackTests {
    @Suite("Redis adapter against the real server")
    struct RedisTests {
        static let library = RedisFunctionLibrary(
            name: "flashdeal_test",
            source: """
                #!lua name=flashdeal_test
                -- echo_incr(key, n): adds n to key and returns {n, new value, server seconds}
                redis.register_function('flashdeal_test_incr', function(keys, args)
                  local v = redis.call('INCRBY', keys[1], args[1])
                  local t = redis.call('TIME')
                  return {tonumber(args[1]), v, tonumber(t[1])}
                end)
                """)

        func client(timeout: Duration = .milliseconds(1_000), connections: Int = 4) throws -> RedisClient {
            let e = try TestStack.endpoints()
            return RedisClient(
                configuration: RedisConfiguration(
                    host: e.redisHost, port: e.redisPort,
                    connections: connections, commandTimeout: timeout))
        }

        @Test func typedRepliesForEveryReplyKind() async throws {
            let redis = try client()
            defer { redis.shutdown() }
            let key = TestStack.uniqueName("t:{kinds}")
            #expect(try await redis.send("SET", key, "héllo") == .status("OK"))
            #expect(try await redis.send("GET", key) == .string("héllo"))
            #expect(try await redis.send("GET", key + ":missing") == .null)
            #expect(try await redis.send("INCRBY", key + ":n", "41") == .integer(41))
            try await redis.send("RPUSH", key + ":l", "a", "b")
            #expect(try await redis.send("LRANGE", key + ":l", "0", "-1") == .array([.string("a"), .string("b")]))
            let error = await #expect(throws: RedisError.self) { try await redis.send("INCR", key) }
            #expect(error?.code == .server)
            #expect(error?.isRetryable == false)
            #expect(error?.message.contains("not an integer") == true)
            try await redis.send("DEL", key, key + ":n", key + ":l")
        }

        @Test func functionLoadAndCallRoundTrip() async throws {
            let redis = try client()
            defer { redis.shutdown() }
            try await redis.load(Self.library)
            let key = TestStack.uniqueName("t:{fcall}")
            let reply = try await redis.fcall("flashdeal_test_incr", keys: [key], arguments: ["5"])
            let values = try #require(reply.arrayValue)
            #expect(values[0] == .integer(5))
            #expect(values[1] == .integer(5))
            let serverSeconds = try #require(values[2].integerValue)
            #expect(abs(serverSeconds - Int64(Date().timeIntervalSince1970)) < 5)
            try await redis.send("DEL", key)
        }

        @Test func tenThousandConcurrentCallsArePipelined() async throws {
            let redis = try client(connections: 2)
            defer { redis.shutdown() }
            try await redis.load(Self.library)
            let key = TestStack.uniqueName("t:{pipeline}")
            let before = (redis.statistics.commands, redis.statistics.roundTrips)
            let echoed = try await withThrowingTaskGroup(of: Int64.self) { group in
                for i in 1...10_000 {
                    group.addTask {
                        let reply = try await redis.fcall("flashdeal_test_incr", keys: [key], arguments: [String(i)])
                        return reply.arrayValue?.first?.integerValue ?? -1
                    }
                }
                return try await group.reduce(into: [Int64]()) { $0.append($1) }
            }
            // Every call got its own reply back, none lost or swapped.
            #expect(Set(echoed) == Set((1...10_000).map(Int64.init)))
            #expect(try await redis.send("GET", key).integerValue == Int64(10_000 * 10_001 / 2))
            let commands = redis.statistics.commands - before.0
            let roundTrips = redis.statistics.roundTrips - before.1
            #expect(commands >= 10_000)
            // Concurrency turned into pipelines: far fewer round trips than commands.
            #expect(roundTrips * 5 < commands, "commands \(commands) in \(roundTrips) round trips")
            try await redis.send("DEL", key)
        }

        @Test func missingFunctionsAreReloadedOnDemand() async throws {
            let redis = try client()
            defer { redis.shutdown() }
            try await redis.load(Self.library)
            try await redis.send("FUNCTION", "DELETE", Self.library.name)
            let key = TestStack.uniqueName("t:{reload}")
            let reply = try await redis.fcall("flashdeal_test_incr", keys: [key], arguments: ["1"])
            #expect(reply.arrayValue?[1] == .integer(1))
            try await redis.send("DEL", key)
        }

        @Test func aSlowReplyFailsWithTimeoutWithinTheBudgetAndTheClientRecovers() async throws {
            let redis = try client(timeout: .milliseconds(150), connections: 1)
            defer { redis.shutdown() }
            let key = TestStack.uniqueName("t:{slow}")
            let start = ContinuousClock.now
            // BLPOP on an empty list blocks the server-side reply for 2 s.
            let error = await #expect(throws: RedisError.self) { try await redis.send("BLPOP", key, "2") }
            let elapsed = ContinuousClock.now - start
            #expect(error?.code == .timeout)
            #expect(error?.isRetryable == true)
            #expect(elapsed < .milliseconds(150 + 250), "took \(elapsed)")
            // The timed-out connection was dropped; the next call reconnects.
            try await redis.ping()
        }

        @Test func stoppedServerGivesTypedErrorWithinTimeoutThenRecovers() async throws {
            let redis = try client(timeout: .milliseconds(500), connections: 2)
            defer { redis.shutdown() }
            try await redis.load(Self.library)
            let key = TestStack.uniqueName("t:{restart}")
            try await redis.send("SET", key, "kept")

            try TestStack.run("stop", "redis")
            var restarted = false
            defer { if !restarted { try? TestStack.run("start", "redis") } }

            for _ in 0..<3 {
                let start = ContinuousClock.now
                let error = await #expect(throws: RedisError.self) { try await redis.send("GET", key) }
                #expect(ContinuousClock.now - start < .milliseconds(500 + 500))
                #expect(error?.isRetryable == true)
                #expect([.connectionFailed, .connectionLost, .timeout].contains(error?.code))
            }

            try TestStack.run("start", "redis")
            restarted = true
            // Same client, no restart of ours: the value survived (append-only file) and calls work again.
            let value = try await eventually { try await redis.send("GET", key) }
            #expect(value == .string("kept"))
            let reply = try await redis.fcall("flashdeal_test_incr", keys: [key + ":n"], arguments: ["2"])
            #expect(reply.arrayValue?[1] == .integer(2))
            try await redis.send("DEL", key, key + ":n")
        }
    }
}
