import Dispatch

/// Runs blocking C calls on Dispatch threads, never on Swift's cooperative pool.
///
/// hiredis, librdkafka and libmongoc block their calling thread on socket I/O. One blocked
/// cooperative thread out of two (this machine has two cores) stalls every task in the process,
/// so each adapter hands its blocking work to a queue of its own through this helper.
public struct BlockingExecutor: Sendable {
    private let queue: DispatchQueue

    /// - Parameters:
    ///   - label: the Dispatch queue's label (shows in thread dumps).
    ///   - concurrent: a concurrent queue lets independent blocking calls overlap.
    public init(label: String, concurrent: Bool = true) {
        self.queue = DispatchQueue(label: label, qos: .userInitiated, attributes: concurrent ? .concurrent : [])
    }

    /// Runs `body` on the executor's queue and resumes the caller with its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// Non-throwing variant of ``run(_:)``.
    public func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }
}
