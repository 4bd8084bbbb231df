import Foundation
public import Logging
public import Operations
public import RateLimiting
import Domain
public import ServiceLifecycle
import Hummingbird

/// Builds the gateway process: the operations endpoints over its dependencies, and the rate
/// limiter with its policy file watched for changes. The GraphQL API and the waiting room are
/// mounted here as they land.
public enum GatewayApp {
    public static let defaultPort = 8080

    public static func configuration(environment: [String: String], endpointsFile: String?) throws
        -> ServiceHostConfiguration
    {
        try ServiceHostConfiguration.load(name: "flashdeal-gateway", defaultPort: defaultPort,
                                          environment: environment, endpointsFile: endpointsFile)
    }

    /// - Parameters:
    ///   - policyFile: the rate policies (`FLASHDEAL_POLICY_FILE`, default `policies/flash-sale.yaml`).
    ///     A file that does not validate stops the start-up with its `file:line:column` errors.
    public static func build(_ configuration: ServiceHostConfiguration, policyFile: String = "policies/flash-sale.yaml",
                             rateLimiter limiterConfiguration: RateLimiterConfiguration = .init(), logger: Logger,
                             onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws
        -> ServiceGroup
    {
        let host = try ServiceHost(configuration: configuration, logger: logger)
        // The start-up load goes through the reloader, so the file is read once and its fingerprint
        // taken before reading: a change racing the start-up is seen by the first poll.
        let store = PolicyStore(ActivePolicies(version: "none", policies: []))
        let metrics = RateLimitMetrics(registry: host.metrics.registry)
        let limiter = RateLimiter(redis: host.clients.redis, policies: store, configuration: limiterConfiguration,
                                  observer: metrics, logger: logger)
        let reloader = PolicyReloader(path: policyFile, store: store, limiter: limiter, logger: logger,
                                      onOutcome: { metrics.reloaded($0) }) { try PolicyLoader.load(path: $0) }
        switch reloader.reload(reason: "start-up") {
        case .applied, .unchanged: break
        case .rejected(let error):
            host.clients.close()
            throw error
        case .unreadable(let message):
            host.clients.close()
            throw PolicyFileError(diagnostics: [PolicyDiagnostic(file: policyFile, line: 1, column: 1, message: message)])
        }
        return host.serviceGroup(
            routes: { router in
                router.get("policies") { _, _ -> Response in
                    let active = store.current
                    let body = try JSONSerialization.data(withJSONObject: [
                        "version": active.version, "file": policyFile,
                        "policies": active.policies.map { $0.name },
                    ], options: [.sortedKeys])
                    return Response(status: .ok, headers: [.contentType: "application/json"],
                                    body: .init(byteBuffer: ByteBuffer(bytes: body)))
                }
            },
            services: [PrepareRateLimiter(limiter: limiter, logger: logger), reloader],
            onServerRunning: onServerRunning)
    }
}

/// Loads the token-bucket function into Redis at start-up; a Redis that is down now is not fatal
/// (the limiter's fail modes apply, and the function is loaded on first use once Redis is back).
struct PrepareRateLimiter: Service {
    let limiter: RateLimiter
    let logger: Logger

    func run() async throws {
        do { try await limiter.prepare() } catch {
            logger.warning("rate limiter: could not load its Redis function yet", metadata: ["error": "\(error)"])
        }
        try? await gracefulShutdown()
    }
}
