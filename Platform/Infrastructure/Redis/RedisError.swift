/// A failed Redis call.
public struct RedisError: RetryableError, CustomStringConvertible, Equatable {
    /// What went wrong; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Backing: String, Hashable, Sendable {
            case connectionFailed, connectionLost, timeout, server, protocolError, closed, invalidReply
        }
        private let backing: Backing
        private init(_ backing: Backing) { self.backing = backing }

        /// The server could not be reached (refused, unreachable, connect timed out).
        public static let connectionFailed = Code(.connectionFailed)
        /// The connection broke while the call was in flight; the command may or may not have run.
        public static let connectionLost = Code(.connectionLost)
        /// No reply within the call's timeout; the command may or may not have run.
        public static let timeout = Code(.timeout)
        /// The server answered with an error reply (`ERR …`, `NOSCRIPT …`, a script's own error).
        public static let server = Code(.server)
        /// The reply could not be parsed.
        public static let protocolError = Code(.protocolError)
        /// The client was shut down.
        public static let closed = Code(.closed)
        /// The reply had a shape the caller did not expect.
        public static let invalidReply = Code(.invalidReply)

        public var description: String { backing.rawValue }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var isRetryable: Bool {
        switch code {
        case .connectionFailed, .connectionLost, .timeout: true
        case .server:
            message.hasPrefix("BUSY") || message.hasPrefix("LOADING") || message.hasPrefix("TRYAGAIN")
                || message.hasPrefix("MASTERDOWN")
        default: false
        }
    }

    /// An error reply's first word (`ERR`, `NOSCRIPT`, `WRONGTYPE`, …), when the server sent one.
    public var serverErrorPrefix: String? {
        guard code == .server else { return nil }
        return message.split(separator: " ", maxSplits: 1).first.map(String.init)
    }

    public var description: String { "redis \(code): \(message)" }
}
