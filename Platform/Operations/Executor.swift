import NIOCore
import NIOPosix

/// Where Swift concurrency runs its tasks in a Flash Deal process.
///
/// `FLASHDEAL_EXECUTOR=nio` (the default) installs SwiftNIO's event loops as the global executor
/// before any task starts: a request's HTTP I/O, its handler and its Redis calls (the Redis client's
/// connections live on the same loops) share a thread instead of hopping between event-loop threads
/// and a pool. `dispatch` keeps the runtime's cooperative pool. Measured side by side
/// (docs/benchmarks.md, "CPU per request"; docs/decisions.md): the gateway's CPU per createOrder
/// 0.83× the pool's, context switches per request 12 against 18.
///
/// Blocking calls (libmongoc, librdkafka's blocking calls) never run on either: they have threads
/// of their own (`BlockingExecutor`).
public enum FlashDealExecutor {
    public enum Choice: String, Sendable { case nio, dispatch }

    public struct InvalidChoice: Error, CustomStringConvertible {
        public let value: String
        public var description: String { "FLASHDEAL_EXECUTOR must be nio or dispatch, is \(value)" }
    }

    /// Installs the chosen executor; must run before the first task is created. Returns what runs.
    @discardableResult
    public static func install(environment: [String: String]) throws -> Choice {
        let raw = environment["FLASHDEAL_EXECUTOR"] ?? Choice.nio.rawValue
        guard let choice = Choice(rawValue: raw) else { throw InvalidChoice(value: raw) }
        if choice == .nio, !NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() {
            return .dispatch
        }
        return choice
    }
}
