internal import CMongoc

/// A pooled MongoDB client over libmongoc.
///
/// ```swift
/// let mongo = try MongoClient(configuration: MongoConfiguration(endpoints: endpoints))
/// let orders = mongo.collection("orders")
/// switch try await orders.insert(["_id": "o-1", "status": "PENDING"]) {
/// case .inserted: …
/// case .duplicateKey: …   // already persisted
/// }
/// mongo.shutdown()
/// ```
///
/// - Thread-safe: share one client per process; calls run concurrently on up to
///   ``MongoConfiguration/maxPoolSize`` pooled connections.
/// - Every write uses ``MongoConfiguration/writeConcern`` (majority by default).
/// - With the server down, calls fail within about ``MongoConfiguration/serverSelectionTimeout`` with
///   a retryable ``MongoError``; when it is back, the same client reconnects on its own.
///
/// Sendable without `@unchecked`: its state is immutable, and the C pool lives in
/// `MongoConnectionPool`, which documents its own thread-safety.
public final class MongoClient: Sendable {
    public let configuration: MongoConfiguration
    let pool: MongoConnectionPool

    /// Creates the connection pool. No connection is opened yet (see ``ping()``).
    ///
    /// - Throws: ``MongoError/Code/invalidConfiguration`` for a malformed URI or option.
    public init(configuration: MongoConfiguration = .default) throws(MongoError) {
        self.configuration = configuration
        self.pool = try MongoConnectionPool(configuration: configuration)
    }

    /// A handle on `name` in ``MongoConfiguration/database``.
    public func collection(_ name: String) -> MongoCollection {
        MongoCollection(name: name, pool: pool)
    }

    /// Round trip to the server (`{ping: 1}` on `admin`).
    public func ping() async throws(MongoError) {
        try await pool.withClient { client in
            let command = try (["ping": .int32(1)] as BSONDocument).makeBSON()
            let reply = BSONReply()
            var error = bson_error_t()
            guard mongoc_client_command_simple(client, "admin", command.pointer, nil, reply.pointer, &error) else {
                throw MongoError(error, .command)
            }
        }
    }

    /// The write concern libmongoc actually attaches to writes (read back from a pooled client).
    public func effectiveWriteConcern() async throws(MongoError) -> MongoWriteConcern {
        try await pool.withClient { client in
            guard let concern = mongoc_client_get_write_concern(client) else {
                throw MongoError(.invalidConfiguration, "no write concern on the pooled client")
            }
            let wtimeout = mongoc_write_concern_get_wtimeout_int64(concern)
            let timeout: Duration? = wtimeout > 0 ? .milliseconds(wtimeout) : nil
            if mongoc_write_concern_get_wmajority(concern) { return MongoWriteConcern(.majority, timeout: timeout) }
            return MongoWriteConcern(.nodes(Int(mongoc_write_concern_get_w(concern))), timeout: timeout)
        }
    }

    /// Refuses new calls (they throw ``MongoError/Code/closed``, as do calls still waiting for a
    /// connection) and destroys the pool once the calls already running have finished. Idempotent.
    public func shutdown() {
        pool.shutdown()
    }
}
