/// A failed MongoDB call.
///
/// A duplicate key on insert is not an error (see ``InsertOutcome/duplicateKey``); elsewhere
/// (an update hitting a unique index) it arrives as ``Code/writeFailed`` with ``isDuplicateKey``.
public struct MongoError: RetryableError, CustomStringConvertible, Equatable {
    /// What went wrong; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Backing: String, Hashable, Sendable {
            case connectionFailed, serverSelection, timeout, writeFailed, writeConcernFailed, commandFailed,
                invalidDocument, invalidReply, invalidConfiguration, closed
        }
        private let backing: Backing
        private init(_ backing: Backing) { self.backing = backing }

        /// The connection could not be opened or broke during the call (refused, reset, closed);
        /// a write may or may not have been applied.
        public static let connectionFailed = Code(.connectionFailed)
        /// No usable server was found within the configured server-selection timeout (the server is
        /// down or unreachable).
        public static let serverSelection = Code(.serverSelection)
        /// The server did not answer in time (socket timeout, `maxTimeMS`); a write may or may not
        /// have been applied.
        public static let timeout = Code(.timeout)
        /// The server rejected a write (a write error other than the duplicate key an insert reports
        /// as an outcome). ``MongoError/serverCode`` says why.
        public static let writeFailed = Code(.writeFailed)
        /// The write was applied but not acknowledged by the requested write concern in time.
        public static let writeConcernFailed = Code(.writeConcernFailed)
        /// The server rejected a command or query (``MongoError/serverCode`` says why).
        public static let commandFailed = Code(.commandFailed)
        /// The document, filter or update cannot be sent as given (bad key, too large, an update
        /// without `$` operators).
        public static let invalidDocument = Code(.invalidDocument)
        /// The server's reply had a shape the adapter did not expect.
        public static let invalidReply = Code(.invalidReply)
        /// The configuration (URI, option) was rejected.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The client was shut down.
        public static let closed = Code(.closed)

        public var description: String { backing.rawValue }
    }

    public let code: Code
    public let message: String
    /// The MongoDB server's error code (`11000` duplicate key, `50` MaxTimeMSExpired, …) when the
    /// server reported the failure.
    public let serverCode: Int?
    /// libmongoc's `bson_error_t` domain and code when the driver reported the failure.
    public let driverDomain: UInt32?
    public let driverCode: UInt32?

    public init(
        _ code: Code, _ message: String, serverCode: Int? = nil,
        driverDomain: UInt32? = nil, driverCode: UInt32? = nil
    ) {
        self.code = code
        self.message = message
        self.serverCode = serverCode
        self.driverDomain = driverDomain
        self.driverCode = driverCode
    }

    /// Server error codes a later attempt may get past (the retryable-writes/reads specifications'
    /// list: network trouble, a stepping-down or shutting-down server, write concern time-outs).
    static let retryableServerCodes: Set<Int> = [
        6, 7, 50, 63, 64, 89, 91, 133, 150, 189, 234, 262, 9001, 10107, 11600, 11602, 13388, 13435, 13436,
    ]

    /// Server codes meaning "a document with this unique key already exists".
    static let duplicateKeyCodes: Set<Int> = [11000, 11001, 12582]

    /// `true` for network trouble, an unreachable server and time-outs; `false` for bad documents,
    /// rejected commands and a closed client.
    public var isRetryable: Bool {
        switch code {
        case .connectionFailed, .serverSelection, .timeout, .writeConcernFailed: true
        case .writeFailed, .commandFailed: serverCode.map(Self.retryableServerCodes.contains) ?? false
        default: false
        }
    }

    /// `true` when the server refused the write because a unique key already exists.
    public var isDuplicateKey: Bool { serverCode.map(Self.duplicateKeyCodes.contains) ?? false }

    public var description: String {
        var text = "mongo \(code)"
        if let serverCode { text += " (server code \(serverCode))" }
        if let driverDomain, let driverCode, serverCode == nil {
            text += " (libmongoc \(driverDomain).\(driverCode))"
        }
        return text + ": " + message
    }
}
