/// How writes are acknowledged. Flash Deal writes with ``majority`` (the default): an order that was
/// acknowledged survives a primary fail-over.
public struct MongoWriteConcern: Sendable, Hashable, CustomStringConvertible {
    public enum Acknowledgers: Sendable, Hashable {
        /// A majority of the replica set's voting members (`w: "majority"`).
        case majority
        /// This many members (`w: n`, n ≥ 1; `1` is the primary alone).
        case nodes(Int)
    }

    public var acknowledgers: Acknowledgers
    /// How long the server waits for the acknowledgements (`wtimeout`); `nil` waits indefinitely.
    public var timeout: Duration?

    public init(_ acknowledgers: Acknowledgers, timeout: Duration? = nil) {
        self.acknowledgers = acknowledgers
        self.timeout = timeout
    }

    /// `w: "majority"`, no `wtimeout`.
    public static let majority = MongoWriteConcern(.majority)
    /// `w: 1`: the primary alone.
    public static let primary = MongoWriteConcern(.nodes(1))

    public var description: String {
        let w =
            switch acknowledgers {
            case .majority: "majority"
            case .nodes(let n): "\(n)"
            }
        return timeout.map { "w:\(w) wtimeout:\(MongoConfiguration.milliseconds($0))ms" } ?? "w:\(w)"
    }
}

/// How a ``MongoClient`` connects. Defaults suit the local stack.
///
/// The time-outs bound how long a call waits for an unreachable server: with the server down, a call
/// fails with a retryable ``MongoError`` after about ``serverSelectionTimeout``; once the server is back
/// the same client reconnects by itself. Values set here override the same options in ``uri``.
public struct MongoConfiguration: Sendable, Hashable {
    /// Connection string. Env: `FLASHDEAL_MONGO_URI`. Default `mongodb://127.0.0.1:27017/`.
    public var uri: String
    /// Database every collection lives in. Env: `FLASHDEAL_MONGO_DATABASE`. Default `flashdeal`.
    public var database: String
    /// Most pooled connections, which is also the most calls in flight at once (further calls wait
    /// their turn). Env: `FLASHDEAL_MONGO_MAX_POOL_SIZE`. Default 16.
    public var maxPoolSize: Int
    /// How long a call waits for a usable server (`serverSelectionTimeoutMS`).
    /// Env: `FLASHDEAL_MONGO_SERVER_SELECTION_TIMEOUT_MS`. Default 2,000 ms.
    public var serverSelectionTimeout: Duration
    /// Budget of one TCP connect and handshake (`connectTimeoutMS`).
    /// Env: `FLASHDEAL_MONGO_CONNECT_TIMEOUT_MS`. Default 2,000 ms.
    public var connectTimeout: Duration
    /// Budget of one socket read or write (`socketTimeoutMS`); past it the call fails with
    /// ``MongoError/Code/timeout``. Env: `FLASHDEAL_MONGO_SOCKET_TIMEOUT_MS`. Default 10,000 ms.
    public var socketTimeout: Duration
    /// How often the pool's monitor checks the server (`heartbeatFrequencyMS`, at least 500 ms).
    /// A call that finds no server asks for an immediate check regardless. Default 2,000 ms.
    public var heartbeatFrequency: Duration
    /// Write concern of every write. Default ``MongoWriteConcern/majority``.
    public var writeConcern: MongoWriteConcern
    /// Sent in the handshake; shows in the server's logs. Env: `FLASHDEAL_MONGO_APP_NAME`. Default `flashdeal`.
    public var appName: String

    public static let defaultURI = "mongodb://127.0.0.1:27017/"
    public static let defaultDatabase = "flashdeal"
    public static let defaultMaxPoolSize = 16
    public static let defaultServerSelectionTimeout = Duration.milliseconds(2_000)
    public static let defaultConnectTimeout = Duration.milliseconds(2_000)
    public static let defaultSocketTimeout = Duration.milliseconds(10_000)
    public static let defaultHeartbeatFrequency = Duration.milliseconds(2_000)
    public static let defaultAppName = "flashdeal"

    /// Every default: the local server on the standard port.
    public static let `default` = MongoConfiguration()

    public init(
        uri: String = defaultURI, database: String = defaultDatabase, maxPoolSize: Int = defaultMaxPoolSize,
        serverSelectionTimeout: Duration = defaultServerSelectionTimeout,
        connectTimeout: Duration = defaultConnectTimeout, socketTimeout: Duration = defaultSocketTimeout,
        heartbeatFrequency: Duration = defaultHeartbeatFrequency, writeConcern: MongoWriteConcern = .majority,
        appName: String = defaultAppName
    ) {
        self.uri = uri
        self.database = database
        self.maxPoolSize = max(1, maxPoolSize)
        self.serverSelectionTimeout = serverSelectionTimeout
        self.connectTimeout = connectTimeout
        self.socketTimeout = socketTimeout
        self.heartbeatFrequency = heartbeatFrequency
        self.writeConcern = writeConcern
        self.appName = appName
    }

    /// The server and database of `endpoints` (`FLASHDEAL_MONGO_URI`, `FLASHDEAL_MONGO_DATABASE`),
    /// every other setting default.
    public init(endpoints: ServiceEndpoints) {
        self.init(uri: endpoints.mongoURI, database: endpoints.mongoDatabase)
    }

    /// Applies the `FLASHDEAL_MONGO_*` variables present in `environment`; malformed numbers are ignored.
    /// A malformed or out-of-range value throws, naming the variable.
    public func applying(environment: [String: String]) throws(EnvironmentValues.Invalid) -> MongoConfiguration {
        var copy = self
        let env = EnvironmentValues(environment)
        if let v = env.string("FLASHDEAL_MONGO_URI") { copy.uri = v }
        if let v = env.string("FLASHDEAL_MONGO_DATABASE") { copy.database = v }
        if let v = env.string("FLASHDEAL_MONGO_APP_NAME") { copy.appName = v }
        if let n = try env.int("FLASHDEAL_MONGO_MAX_POOL_SIZE", in: 1...10_000) { copy.maxPoolSize = n }
        let timeouts = 1...Int(Int32.max)
        if let t = try env.milliseconds("FLASHDEAL_MONGO_SERVER_SELECTION_TIMEOUT_MS", in: timeouts) {
            copy.serverSelectionTimeout = t
        }
        if let t = try env.milliseconds("FLASHDEAL_MONGO_CONNECT_TIMEOUT_MS", in: timeouts) { copy.connectTimeout = t }
        if let t = try env.milliseconds("FLASHDEAL_MONGO_SOCKET_TIMEOUT_MS", in: timeouts) { copy.socketTimeout = t }
        return copy
    }

    /// Whole milliseconds of `duration`, clamped to `1...Int32.max` (libmongoc's option range).
    static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        let ms = seconds.multipliedReportingOverflow(by: 1_000)
        guard !ms.overflow else { return seconds < 0 ? 1 : Int32.max }
        let total = ms.partialValue + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(1, total))
    }
}
