internal import CMongoc

/// What kind of call failed: decides whether a server-reported error is a write or a command failure.
enum MongoOperationKind {
    case read, write, command
}

extension MongoError {
    /// The one place where libmongoc's `bson_error_t` (error API version 2) becomes a ``MongoError``.
    ///
    /// - `MONGOC_ERROR_STREAM`: network → ``Code/connectionFailed``, or ``Code/timeout`` when the
    ///   message says "timed out" (libmongoc 1.23 reports most socket time-outs and resets alike, as
    ///   "socket error or timeout"; both are retryable).
    /// - `MONGOC_ERROR_SERVER_SELECTION`: no server in time → ``Code/serverSelection``.
    /// - `MONGOC_ERROR_SERVER`: the server's own code → ``Code/writeFailed`` / ``Code/commandFailed``
    ///   (`50` MaxTimeMSExpired → ``Code/timeout``).
    /// - `MONGOC_ERROR_WRITE_CONCERN` → ``Code/writeConcernFailed``.
    /// - `MONGOC_ERROR_BSON`, `_COMMAND` (invalid argument), `_NAMESPACE`, client "too big" →
    ///   ``Code/invalidDocument``.
    /// - `MONGOC_ERROR_PROTOCOL` → ``Code/invalidReply``.
    init(_ error: bson_error_t, _ kind: MongoOperationKind) {
        let domain = error.domain
        let code = error.code
        let message = Self.message(of: error)
        func driver(_ mapped: Code) -> MongoError {
            MongoError(mapped, message, driverDomain: domain, driverCode: code)
        }
        switch domain {
        case MONGOC_ERROR_STREAM.rawValue:
            let timedOut = code == MONGOC_ERROR_STREAM_SOCKET.rawValue && message.lowercased().contains("timed out")
            self = driver(timedOut ? .timeout : .connectionFailed)
        case MONGOC_ERROR_SERVER_SELECTION.rawValue:
            self = driver(
                code == MONGOC_ERROR_SERVER_SELECTION_BAD_WIRE_VERSION.rawValue
                    ? .invalidConfiguration : .serverSelection)
        case MONGOC_ERROR_SERVER.rawValue, MONGOC_ERROR_QUERY.rawValue, MONGOC_ERROR_INSERT.rawValue,
            MONGOC_ERROR_COLLECTION.rawValue:
            let serverCode = Int(code)
            let mapped: Code =
                serverCode == MONGOC_ERROR_MAX_TIME_MS_EXPIRED.rawValue
                ? .timeout
                : kind == .write ? .writeFailed : .commandFailed
            self = MongoError(mapped, message, serverCode: serverCode, driverDomain: domain, driverCode: code)
        case MONGOC_ERROR_WRITE_CONCERN.rawValue:
            self = MongoError(
                .writeConcernFailed, message, serverCode: Int(code), driverDomain: domain,
                driverCode: code)
        case MONGOC_ERROR_BSON.rawValue, MONGOC_ERROR_COMMAND.rawValue, MONGOC_ERROR_NAMESPACE.rawValue,
            MONGOC_ERROR_MATCHER.rawValue:
            self = driver(.invalidDocument)
        case MONGOC_ERROR_CLIENT.rawValue:
            switch code {
            case MONGOC_ERROR_CLIENT_TOO_BIG.rawValue, MONGOC_ERROR_CLIENT_TOO_SMALL.rawValue:
                self = driver(.invalidDocument)
            case MONGOC_ERROR_CLIENT_AUTHENTICATE.rawValue, MONGOC_ERROR_CLIENT_SESSION_FAILURE.rawValue:
                self = driver(.commandFailed)
            default:
                self = driver(.connectionFailed)
            }
        case MONGOC_ERROR_PROTOCOL.rawValue:
            self = driver(.invalidReply)
        case MONGOC_ERROR_POOL.rawValue:
            self = driver(.invalidConfiguration)
        default:
            self = driver(.commandFailed)
        }
    }

    /// A server write error from a reply's `writeErrors` entry (`{index, code, errmsg}`).
    init(writeError: BSONDocument) {
        let serverCode = writeError["code"]?.intValue
        let index = writeError["index"]?.intValue.map { " (document \($0))" } ?? ""
        self.init(.writeFailed, (writeError["errmsg"]?.stringValue ?? "write error") + index, serverCode: serverCode)
    }

    /// A write concern error from a reply (`writeConcernError` or an entry of `writeConcernErrors`).
    init(writeConcernError: BSONDocument) {
        self.init(
            .writeConcernFailed, writeConcernError["errmsg"]?.stringValue ?? "write concern error",
            serverCode: writeConcernError["code"]?.intValue)
    }

    private static func message(of error: bson_error_t) -> String {
        withUnsafeBytes(of: error.message) { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
    }
}
