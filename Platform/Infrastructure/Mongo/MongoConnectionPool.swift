internal import CMongoc
import Synchronization

/// Owns the `mongoc_client_pool_t` and runs every blocking libmongoc call on the client's
/// ``BlockingExecutor``, one pooled `mongoc_client_t` per call.
///
/// - At most ``MongoConfiguration/maxPoolSize`` calls run at once; further calls wait (without a
///   thread) for a slot, so `mongoc_client_pool_pop` never blocks and Mongo never holds more
///   Dispatch threads than it has connections.
/// - ``shutdown()`` refuses new calls, fails waiting ones with ``MongoError/Code/closed`` and destroys
///   the pool once the last running call has returned its client: at once when idle, otherwise on
///   the thread of that last call.
///
/// `@unchecked Sendable`: `pool` is a C pointer, so the compiler cannot check it. libmongoc documents
/// `mongoc_client_pool_t`'s pop and push as thread-safe; each popped `mongoc_client_t` is used by one
/// thread only and pushed back before its slot is released; `state` (a mutex) counts the running
/// calls, and the pool is destroyed exactly once, after that count reached zero with no call able to
/// start again (or in `deinit`, when nothing can reference it any more).
final class MongoConnectionPool: @unchecked Sendable {
    let configuration: MongoConfiguration
    private let pool: OpaquePointer
    private let executor = BlockingExecutor(label: "flashdeal.mongo", concurrent: true)
    private let state: Mutex<State>

    private struct State {
        var running = 0
        var waiting: [CheckedContinuation<Bool, Never>] = []
        var closed = false
        var destroyed = false
    }

    init(configuration: MongoConfiguration) throws(MongoError) {
        MongocRuntime.initialized
        self.configuration = configuration
        self.pool = try Self.makePool(configuration)
        self.state = Mutex(State())
    }

    deinit {
        let destroy = state.withLock { s in
            defer { s.destroyed = true }
            return !s.destroyed
        }
        if destroy { mongoc_client_pool_destroy(pool) }
    }

    private static func makePool(_ configuration: MongoConfiguration) throws(MongoError) -> OpaquePointer {
        var error = bson_error_t()
        guard let uri = mongoc_uri_new_with_error(configuration.uri, &error) else {
            throw MongoError(
                .invalidConfiguration,
                "invalid MongoDB URI '\(configuration.uri)': "
                    + MongoError(error, .command).message)
        }
        defer { mongoc_uri_destroy(uri) }

        let ms = MongoConfiguration.milliseconds
        let options: [(String, Int32)] = [
            ("serverSelectionTimeoutMS", ms(configuration.serverSelectionTimeout)),
            ("connectTimeoutMS", ms(configuration.connectTimeout)),
            ("socketTimeoutMS", ms(configuration.socketTimeout)),
            ("heartbeatFrequencyMS", max(500, ms(configuration.heartbeatFrequency))),
            ("maxPoolSize", Int32(clamping: configuration.maxPoolSize)),
        ]
        for (name, value) in options where !mongoc_uri_set_option_as_int32(uri, name, value) {
            throw MongoError(.invalidConfiguration, "libmongoc rejected \(name)=\(value)")
        }
        // Pooled clients always keep retrying until serverSelectionTimeoutMS; say so explicitly.
        _ = mongoc_uri_set_option_as_bool(uri, "serverSelectionTryOnce", false)
        guard mongoc_uri_set_appname(uri, configuration.appName) else {
            throw MongoError(.invalidConfiguration, "appName '\(configuration.appName)' rejected (at most 128 bytes)")
        }

        guard let writeConcern = mongoc_write_concern_new() else { fatalError("mongoc_write_concern_new") }
        defer { mongoc_write_concern_destroy(writeConcern) }
        let wtimeout = configuration.writeConcern.timeout.map { Int64(ms($0)) } ?? 0
        switch configuration.writeConcern.acknowledgers {
        case .majority:
            mongoc_write_concern_set_w(writeConcern, MONGOC_WRITE_CONCERN_W_MAJORITY)
        case .nodes(let n):
            guard n >= 1 else { throw MongoError(.invalidConfiguration, "write concern needs w ≥ 1, got \(n)") }
            mongoc_write_concern_set_w(writeConcern, Int32(clamping: n))
        }
        mongoc_write_concern_set_wtimeout_int64(writeConcern, wtimeout)
        mongoc_uri_set_write_concern(uri, writeConcern)

        guard let pool = mongoc_client_pool_new_with_error(uri, &error) else {
            throw MongoError(
                .invalidConfiguration, "cannot create the client pool: " + MongoError(error, .command).message)
        }
        guard mongoc_client_pool_set_error_api(pool, 2) else {
            mongoc_client_pool_destroy(pool)
            throw MongoError(.invalidConfiguration, "libmongoc refused error API version 2")
        }
        mongoc_client_pool_max_size(pool, UInt32(clamping: configuration.maxPoolSize))
        return pool
    }

    // MARK: Running calls

    /// Runs `body` with a pooled client on the executor's queue.
    ///
    /// `body` may throw only ``MongoError``; anything else is reported as ``MongoError/Code/invalidReply``.
    func withClient<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws(MongoError) -> T
    {
        guard await acquireSlot() else { throw MongoError(.closed, "the MongoDB client was shut down") }
        let result: Result<T, MongoError> = await executor.run { [self] in
            guard let client = mongoc_client_pool_pop(pool) else {
                releaseSlot()
                return .failure(MongoError(.connectionFailed, "the client pool returned no client"))
            }
            defer {
                mongoc_client_pool_push(pool, client)
                releaseSlot()
            }
            do {
                return .success(try body(client))
            } catch let error as MongoError {
                return .failure(error)
            } catch {
                return .failure(MongoError(.invalidReply, "\(error)"))
            }
        }
        return try result.get()
    }

    /// Runs `body` with a handle on `collection` of the configured database.
    func withCollection<T: Sendable>(_ collection: String, _ body: @escaping @Sendable (OpaquePointer) throws -> T)
        async throws(MongoError) -> T
    {
        let database = configuration.database
        return try await withClient { client in
            guard let handle = mongoc_client_get_collection(client, database, collection) else {
                throw MongoError(.invalidDocument, "invalid collection '\(database).\(collection)'")
            }
            defer { mongoc_collection_destroy(handle) }
            return try body(handle)
        }
    }

    /// Waits for a free slot; `false` when the pool is (or gets) shut down.
    private func acquireSlot() async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let granted: Bool? = state.withLock { s in
                if s.closed { return false }
                if s.running < configuration.maxPoolSize {
                    s.running += 1
                    return true
                }
                s.waiting.append(continuation)
                return nil
            }
            if let granted { continuation.resume(returning: granted) }
        }
    }

    /// Hands the slot to the next waiting call, or frees it; destroys the pool after the last call
    /// of a shut-down client.
    private func releaseSlot() {
        enum Next {
            case handOver(CheckedContinuation<Bool, Never>)
            case destroy, nothing
        }
        let next: Next = state.withLock { s in
            if !s.closed, !s.waiting.isEmpty { return .handOver(s.waiting.removeFirst()) }
            s.running -= 1
            if s.closed, s.running == 0, !s.destroyed {
                s.destroyed = true
                return .destroy
            }
            return .nothing
        }
        switch next {
        case .handOver(let continuation): continuation.resume(returning: true)
        case .destroy: mongoc_client_pool_destroy(pool)
        case .nothing: break
        }
    }

    /// Refuses new calls and destroys the pool once running calls finished. Idempotent.
    ///
    /// When idle the pool is destroyed before this returns; libmongoc then ends the server sessions
    /// it holds, which can take up to the server-selection timeout if the server is unreachable.
    func shutdown() {
        let (waiting, destroy) = state.withLock { s -> ([CheckedContinuation<Bool, Never>], Bool) in
            guard !s.closed else { return ([], false) }
            s.closed = true
            let waiting = s.waiting
            s.waiting = []
            let destroy = s.running == 0 && !s.destroyed
            if destroy { s.destroyed = true }
            return (waiting, destroy)
        }
        for continuation in waiting { continuation.resume(returning: false) }
        if destroy { mongoc_client_pool_destroy(pool) }
    }

    /// `true` once ``shutdown()`` was called.
    var isClosed: Bool { state.withLock { $0.closed } }
}
