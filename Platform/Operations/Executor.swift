import NIOCore
import NIOPosix

/// Where Swift concurrency runs its tasks in a Flash Deal process.
///
/// `FLASHDEAL_EXECUTOR=dispatch` (the default) keeps the runtime's cooperative pool. `nio` installs
/// SwiftNIO's event loops as the global executor before any task starts, so a request's HTTP I/O and
/// its async handler share threads instead of hopping between event-loop threads and the pool. On
/// this project's load the hop-free variant measured no better (docs/benchmarks.md, "Executor";
/// docs/decisions.md): it stays a setting, with `scripts/bench-executor` to measure it again.
///
/// Blocking calls (hiredis, libmongoc, librdkafka's blocking calls) never run on either: they have
/// threads of their own (`BlockingExecutor`, `RedisConnection`).
public enum FlashDealExecutor {
    public enum Choice: String, Sendable { case nio, dispatch }

    public struct InvalidChoice: Error, CustomStringConvertible {
        public let value: String
        public var description: String { "FLASHDEAL_EXECUTOR must be nio or dispatch, is \(value)" }
    }

    /// Installs the chosen executor; must run before the first task is created. Returns what runs.
    @discardableResult
    public static func install(environment: [String: String]) throws -> Choice {
        let raw = environment["FLASHDEAL_EXECUTOR"] ?? Choice.dispatch.rawValue
        guard let choice = Choice(rawValue: raw) else { throw InvalidChoice(value: raw) }
        if choice == .nio, !NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() {
            return .dispatch
        }
        return choice
    }
}
