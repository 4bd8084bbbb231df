import Domain
import Foundation
import Infrastructure
import Logging
import RateLimiting
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}

extension StackTests {
    /// Hot reload of the policy file, as Kubernetes delivers ConfigMaps: the watched path is a symlink
    /// into a `..data` symlink that is swapped atomically to a new directory.
    @Suite("Policy hot reload", .serialized, .timeLimit(.minutes(2)))
    struct PolicyReloadTests {
        /// A ConfigMap-style mount in a fresh temporary directory.
        final class ConfigMapMount: Sendable {
            let root: URL
            var path: String { root.appendingPathComponent("policies.yaml").path }
            private let generation = Mutex(0)

            init(_ yaml: String) throws {
                root = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "flashdeal-reload-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
                try publish(yaml)
                try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "..data/policies.yaml")
            }

            /// Writes `yaml` into a new directory and swaps `..data` to it in one rename.
            func publish(_ yaml: String) throws {
                let n = generation.withLock {
                    $0 += 1
                    return $0
                }
                let dir = root.appendingPathComponent("..v\(n)")
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                try yaml.write(to: dir.appendingPathComponent("policies.yaml"), atomically: true, encoding: .utf8)
                let tmp = root.appendingPathComponent("..data_tmp").path
                try? FileManager.default.removeItem(atPath: tmp)
                try FileManager.default.createSymbolicLink(atPath: tmp, withDestinationPath: "..v\(n)")
                guard rename(tmp, root.appendingPathComponent("..data").path) == 0 else {
                    throw CocoaError(.fileWriteUnknown)
                }
            }
        }

        static func yaml(capacity: Int) -> String {
            """
            version: 1
            policies:
              - name: per-ip
                key: clientIP
                bucket: {capacity: \(capacity), refillPerSecond: \(capacity)}
                action: reject
                failMode: closed
            """
        }

        static let broken = """
            version: 1
            policies:
              - name: per-ip
                key: clientIP
                bucket: {capacity: -5, refillPerSecond: 10}
                acton: reject
            """

        func setUp(_ mount: ConfigMapMount, interval: Duration) async throws
            -> (PolicyStore, RateLimiter, PolicyReloader, RedisClient)
        {
            let e = try TestStack.endpoints()
            let redis = RedisClient(configuration: RedisConfiguration(host: e.redisHost, port: e.redisPort))
            let initial = try PolicyLoader.load(path: mount.path)
            let store = PolicyStore(ActivePolicies(version: initial.digest, policies: initial.policies))
            let limiter = RateLimiter(
                redis: redis, policies: store, configuration: .init(redisBudget: .milliseconds(200)))
            try await limiter.prepare()
            let reloader = PolicyReloader(
                path: mount.path, store: store, limiter: limiter, interval: interval,
                logger: Logger(label: "test.reload")
            ) { try PolicyLoader.load(path: $0) }
            reloader.reloadIfChanged()
            return (store, limiter, reloader, redis)
        }

        @Test func aValidChangeIsAppliedWithinOneSecondUnderLoadWithNoFailedRequest() async throws {
            let mount = try ConfigMapMount(Self.yaml(capacity: 1_000_000))
            let (store, limiter, reloader, redis) = try await setUp(mount, interval: .milliseconds(100))
            defer { redis.shutdown() }
            let group = ServiceGroup(services: [reloader], logger: Logger(label: "test"))
            let runner = Task { try await group.run() }
            let oldVersion = store.current.version

            let stop = StopFlag()
            let load = Task {
                await withTaskGroup(of: (Int, Int).self) { tasks in
                    for worker in 0..<16 {
                        tasks.addTask {
                            var decided = 0
                            var failed = 0
                            while !stop.isSet {
                                let d = await limiter.decide(
                                    RateLimitRequest(
                                        operation: "createOrder",
                                        clientIP: "10.1.\(worker).\(decided % 200)"))
                                decided += 1
                                if d.outcome != .allowed { failed += 1 }
                            }
                            return (decided, failed)
                        }
                    }
                    return await tasks.reduce(into: (0, 0)) { $0 = ($0.0 + $1.0, $0.1 + $1.1) }
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            try mount.publish(Self.yaml(capacity: 2_000_000))
            let published = ContinuousClock.now
            while store.current.version == oldVersion && ContinuousClock.now - published < .seconds(2) {
                try await Task.sleep(for: .milliseconds(10))
            }
            let applyTime = ContinuousClock.now - published
            try await Task.sleep(for: .milliseconds(300))
            stop.set()
            let (decided, failed) = await load.value
            await group.triggerGracefulShutdown()
            try await runner.value

            #expect(store.current.version != oldVersion)
            #expect(applyTime < .seconds(1), "applied after \(applyTime)")
            #expect(store.current.policies.first?.bucket.capacity == 2_000_000)
            // The load really ran across the swap (the figure depends on what else shares the two cores).
            #expect(decided > 200, "only \(decided) decisions during the reload")
            #expect(failed == 0, "\(failed) of \(decided) decisions failed across the reload")
        }

        @Test func anInvalidChangeIsRejectedWithPositionsAndTheOldPoliciesStay() async throws {
            let mount = try ConfigMapMount(Self.yaml(capacity: 100))
            let (store, limiter, reloader, redis) = try await setUp(mount, interval: .milliseconds(50))
            defer { redis.shutdown() }
            let before = store.current
            try mount.publish(Self.broken)
            let outcome = reloader.reloadIfChanged()
            guard case .rejected(let error)? = outcome else {
                Issue.record("expected a rejection, got \(String(describing: outcome))")
                return
            }
            #expect(store.current == before)
            let lines = Set(error.diagnostics.map(\.line))
            #expect(lines.contains(5), "capacity -5 is on line 5: \(error)")
            #expect(lines.contains(6), "the misspelt key is on line 6: \(error)")
            #expect(error.diagnostics.allSatisfy { $0.file == mount.path && $0.column >= 1 })
            // Still enforcing the old policy.
            let d = await limiter.decide(
                RateLimitRequest(operation: "createOrder", clientIP: TestStack.uniqueName("ip")))
            #expect(d.verdicts.first?.capacity == 100)
            // And a later good file is picked up again.
            try mount.publish(Self.yaml(capacity: 300))
            #expect(reloader.reloadIfChanged() != nil)
            #expect(store.current.policies.first?.bucket.capacity == 300)
        }

        @Test func sighupReloadsEvenWithoutPolling() async throws {
            let mount = try ConfigMapMount(Self.yaml(capacity: 100))
            let (store, _, reloader, redis) = try await setUp(mount, interval: .seconds(3_600))
            defer { redis.shutdown() }
            let group = ServiceGroup(services: [reloader], logger: Logger(label: "test"))
            let runner = Task { try await group.run() }
            try await Task.sleep(for: .milliseconds(300))
            try mount.publish(Self.yaml(capacity: 700))
            kill(getpid(), SIGHUP)
            let sent = ContinuousClock.now
            while store.current.policies.first?.bucket.capacity != 700 && ContinuousClock.now - sent < .seconds(2) {
                try await Task.sleep(for: .milliseconds(10))
            }
            await group.triggerGracefulShutdown()
            try await runner.value
            #expect(store.current.policies.first?.bucket.capacity == 700)
        }
    }
}
