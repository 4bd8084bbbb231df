import Foundation
public import Infrastructure
import Synchronization

/// One dependency the process needs before it can serve: a name and a probe.
public struct ReadinessCheck: Sendable {
    public let name: String
    public let probe: @Sendable () async throws -> Void

    public init(name: String, probe: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.probe = probe
    }

    public static func redis(_ client: RedisClient) -> ReadinessCheck {
        ReadinessCheck(name: "redis") { try await client.ping() }
    }

    public static func kafka(_ admin: KafkaAdmin, timeout: Duration) -> ReadinessCheck {
        ReadinessCheck(name: "kafka") {
            let metadata = try await admin.metadata(timeout: timeout, allTopics: false)
            guard metadata.brokerCount > 0 else { throw ReadinessFailure("no broker in the cluster metadata") }
        }
    }

    public static func mongo(_ client: MongoClient) -> ReadinessCheck {
        ReadinessCheck(name: "mongo") { try await client.ping() }
    }
}

struct ReadinessFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The answer of `/readyz`: ready only when not draining and every check passed within its budget.
public struct ReadinessReport: Sendable, Codable, Equatable {
    public struct Check: Sendable, Codable, Equatable {
        public var name: String
        public var ok: Bool
        public var milliseconds: Double
        public var error: String?
    }
    public var ready: Bool
    public var draining: Bool
    public var checks: [Check]
}

/// Whether the process should receive traffic. Flips to "draining" first on shutdown, so load
/// balancers stop sending before the server stops listening.
public final class Readiness: Sendable {
    private let checks: [ReadinessCheck]
    private let timeout: Duration
    private let draining = Atomic<Bool>(false)

    public init(checks: [ReadinessCheck], timeout: Duration = .seconds(1)) {
        self.checks = checks
        self.timeout = timeout
    }

    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    public func startDraining() { draining.store(true, ordering: .relaxed) }

    /// Runs every check concurrently, each bounded by the timeout.
    public func evaluate() async -> ReadinessReport {
        let timeout = self.timeout
        let results = await withTaskGroup(of: ReadinessReport.Check.self) { group in
            for check in checks {
                group.addTask {
                    let start = ContinuousClock.now
                    let error = await Self.run(check.probe, timeout: timeout)
                    let elapsed = ContinuousClock.now - start
                    let ms = Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15
                    return .init(
                        name: check.name, ok: error == nil, milliseconds: (ms * 10).rounded() / 10,
                        error: error)
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }.sorted { $0.name < $1.name }
        let draining = isDraining
        return ReadinessReport(ready: !draining && results.allSatisfy(\.ok), draining: draining, checks: results)
    }

    private static func run(_ probe: @escaping @Sendable () async throws -> Void, timeout: Duration) async -> String? {
        await withTaskGroup(of: String?.self) { group in
            group.addTask {
                do {
                    try await probe()
                    return nil
                } catch { return "\(error)" }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return "no answer within \(timeout)"
            }
            let first = await group.next() ?? "no result"
            group.cancelAll()
            return first
        }
    }
}
