public import Logging
public import ServiceLifecycle

/// The last service of a process's group, so the first to hear of a graceful shutdown: it marks the
/// process as draining (`/readyz` answers 503) and waits `delay` before the HTTP server and the
/// clients are stopped behind it.
public struct DrainOnShutdown: Service {
    let readiness: Readiness
    let delay: Duration
    let logger: Logger

    public init(readiness: Readiness, delay: Duration, logger: Logger) {
        self.readiness = readiness
        self.delay = delay
        self.logger = logger
    }

    public func run() async throws {
        try? await gracefulShutdown()
        readiness.startDraining()
        logger.info("draining: not ready, stopping in \(delay)")
        try? await Task.sleep(for: delay)
    }
}

/// Runs `close` once the group shuts down; placed first in a group so it runs after everything
/// that uses the clients has stopped.
public struct CloseOnShutdown: Service {
    let close: @Sendable () async -> Void

    public init(close: @escaping @Sendable () async -> Void) { self.close = close }

    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }
}
