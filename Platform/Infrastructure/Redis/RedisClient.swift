public import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A Redis 7 library of functions (`#!lua name=…`), loaded with `FUNCTION LOAD REPLACE`.
public struct RedisFunctionLibrary: Sendable, Hashable {
    public let name: String
    public let source: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
    }
}

/// A pooled, automatically pipelining Redis client over hiredis.
///
/// - Connections live on the process's SwiftNIO event loops (at least one per loop). A call made on
///   an event loop goes to a connection of that loop, so it is written and resumed without a thread
///   switch; other calls spread over all connections round-robin. On each connection what is
///   submitted together goes out in one write, and replies are read as they come.
/// - Each call has a budget (``RedisConfiguration/commandTimeout``); past it the call fails with
///   ``RedisError/Code/timeout`` (retryable).
/// - A broken connection is dropped and re-opened by the next call, so a restarted server is used
///   again without restarting the process.
/// - Function libraries registered with ``load(_:)`` are re-loaded when a call finds them missing
///   (a server that restarted empty), then the call is retried once.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    public let statistics = RedisStatistics()
    private let connections: [RedisConnection]
    private let next = Atomic<Int>(0)
    private let libraries = Mutex<[String: RedisFunctionLibrary]>([:])
    private let deadlines = DeadlineWatcher()
    private let logger: Logger

    public init(configuration: RedisConfiguration, logger: Logger = Logger(label: "flashdeal.redis")) {
        self.configuration = configuration
        self.logger = logger
        let statistics = self.statistics
        let loops = Array(MultiThreadedEventLoopGroup.singleton.makeIterator())
        let count = (max(configuration.connections, loops.count) + loops.count - 1) / loops.count * loops.count
        self.connections = (0..<count).map {
            RedisConnection(configuration: configuration, eventLoop: loops[$0 % loops.count], statistics: statistics)
        }
        self.loops = loops.count
    }

    private let loops: Int

    /// A connection of the caller's event loop when it runs on one, else the next one round-robin.
    private func connection() -> RedisConnection {
        let n = next.wrappingAdd(1, ordering: .relaxed).oldValue
        if let current = MultiThreadedEventLoopGroup.currentEventLoop {
            // Connection i lives on loop i % loops: walk the connections of the current loop.
            let perLoop = connections.count / loops
            for offset in 0..<loops where connections[offset].eventLoop === current {
                return connections[offset + (n % perLoop) * loops]
            }
        }
        return connections[n % connections.count]
    }

    deinit { shutdown() }

    /// Sends one command, e.g. `try await redis.send(["SET", key, value])`.
    ///
    /// - Parameter budget: when set (shorter than the configured `commandTimeout`), the call fails
    ///   with ``RedisError/Code/timeout`` once the budget is spent, without disturbing the
    ///   connection; the command may still run on the server.
    @discardableResult
    public func send(_ arguments: [String], budget: Duration? = nil) async throws(RedisError) -> RedisValue {
        precondition(!arguments.isEmpty, "a Redis command needs a name")
        let connection = connection()
        let now = ContinuousClock.now
        let deadline = now + configuration.commandTimeout
        let result: Result<RedisValue, RedisError> = await withCheckedContinuation { continuation in
            if let budget, budget < configuration.commandTimeout {
                let call = OneShotCompletion { continuation.resume(returning: $0) }
                deadlines.watch(call, deadline: now + budget)
                connection.submit(.init(arguments: arguments, deadline: now + budget) { call.complete($0) })
            } else {
                connection.submit(
                    .init(arguments: arguments, deadline: deadline) { continuation.resume(returning: $0) })
            }
        }
        return try result.get()
    }

    /// Sends `commands` on one connection in one write, so they cost one round trip, and returns
    /// each command's own result in order. With `budget`, calls still unanswered when it is spent
    /// fail with ``RedisError/Code/timeout``.
    public func pipeline(_ commands: [[String]], budget: Duration? = nil) async -> [Result<RedisValue, RedisError>] {
        guard !commands.isEmpty else { return [] }
        if commands.count == 1 {
            do { return [.success(try await send(commands[0], budget: budget))] } catch { return [.failure(error)] }
        }
        let connection = connection()
        let now = ContinuousClock.now
        let limit = budget.map { min($0, configuration.commandTimeout) } ?? configuration.commandTimeout
        let collector = PipelineCollector(count: commands.count)
        return await withCheckedContinuation { continuation in
            collector.onComplete { continuation.resume(returning: $0) }
            if budget != nil { deadlines.watch(collector.timeoutCompletion, deadline: now + limit) }
            connection.submit(
                commands.enumerated().map { index, arguments in
                    .init(arguments: arguments, deadline: now + limit) { collector.complete(index, $0) }
                })
        }
    }

    /// Calls several Redis functions in one round trip (see ``pipeline(_:budget:)``). A function
    /// the server no longer knows makes the registered libraries load again and the whole batch
    /// is retried once.
    public func fcallPipeline(
        _ calls: [(function: String, keys: [String], arguments: [String])],
        budget: Duration? = nil
    ) async -> [Result<RedisValue, RedisError>] {
        let commands = calls.map { ["FCALL", $0.function, String($0.keys.count)] + $0.keys + $0.arguments }
        let results = await pipeline(commands, budget: budget)
        let missing = results.contains {
            if case .failure(let error) = $0 {
                error.code == .server && error.message.contains("Function not found")
            } else {
                false
            }
        }
        guard missing else { return results }
        do { try await reloadLibraries() } catch { return results }
        return await pipeline(commands, budget: budget)
    }

    /// Sends one command: `try await redis.send("GET", key)`.
    @discardableResult
    public func send(_ command: String, _ arguments: String...) async throws(RedisError) -> RedisValue {
        try await send([command] + arguments)
    }

    /// Calls a Redis function (`FCALL name numkeys keys… args…`).
    ///
    /// When the server no longer knows the function (it restarted without its data), the registered
    /// libraries are loaded again and the call is retried once.
    @discardableResult
    public func fcall(_ function: String, keys: [String], arguments: [String] = [], budget: Duration? = nil)
        async throws(RedisError) -> RedisValue
    {
        let command = ["FCALL", function, String(keys.count)] + keys + arguments
        do {
            return try await send(command, budget: budget)
        } catch  where error.code == .server && error.message.contains("Function not found") {
            logger.warning("redis function missing; reloading libraries", metadata: ["function": "\(function)"])
            try await reloadLibraries()
            return try await send(command, budget: budget)
        }
    }

    /// Loads (or replaces) a function library now and remembers it for automatic re-loading. A
    /// library the server already holds with the same code is left as it is: loading it again would
    /// reset the state its Lua code keeps between calls. A library the server does not hold is loaded
    /// without `REPLACE`, so two clients that both found it missing cannot reset each other: the
    /// second load fails, finds the same code and leaves it.
    public func load(_ library: RedisFunctionLibrary) async throws(RedisError) {
        switch try await loadedCode(library.name) {
        case library.source?:
            libraries.withLock { $0[library.name] = library }
            return
        case nil:
            do {
                try await loadLibrary(library, replace: false)
            } catch  where error.code == .server {
                // Another client may have loaded it between the listing and this load: the same code
                // is left as it is; anything else is the load's own failure.
                guard try await loadedCode(library.name) == library.source else { throw error }
            }
        default:
            try await loadLibrary(library, replace: true)
        }
        libraries.withLock { $0[library.name] = library }
    }

    /// The code of the library `name` on the server, nil when it holds none.
    private func loadedCode(_ name: String) async throws(RedisError) -> String? {
        let listed = try await send("FUNCTION", "LIST", "LIBRARYNAME", name, "WITHCODE")
        for entry in listed.arrayValue ?? [] {
            let fields = entry.arrayValue ?? []
            var named = false
            var code: String?
            for i in stride(from: 0, to: fields.count - 1, by: 2) {
                switch fields[i].stringValue {
                case "library_name": named = fields[i + 1].stringValue == name
                case "library_code": code = fields[i + 1].stringValue
                default: break
                }
            }
            if named { return code ?? "" }
        }
        return nil
    }

    private func loadLibrary(_ library: RedisFunctionLibrary, replace: Bool) async throws(RedisError) {
        let reply =
            replace
            ? try await send("FUNCTION", "LOAD", "REPLACE", library.source)
            : try await send("FUNCTION", "LOAD", library.source)
        guard reply.stringValue == library.name else {
            throw RedisError(.invalidReply, "FUNCTION LOAD returned \(reply), expected \(library.name)")
        }
    }

    private func reloadLibraries() async throws(RedisError) {
        for library in libraries.withLock({ Array($0.values) }) { try await load(library) }
    }

    /// `PING` → `PONG`, or the error that stopped it.
    public func ping() async throws(RedisError) {
        let reply = try await send("PING")
        guard reply.stringValue == "PONG" else { throw RedisError(.invalidReply, "PING returned \(reply)") }
    }

    /// Fails queued calls with ``RedisError/Code/closed`` and closes every connection. Idempotent.
    public func shutdown() {
        for connection in connections { connection.close() }
        deadlines.stop()
    }
}
