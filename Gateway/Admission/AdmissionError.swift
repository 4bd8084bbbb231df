public import Infrastructure

/// A reply or document the admission library could not make sense of. Never retryable: it means
/// Redis or MongoDB hold data in a shape this version does not write.
public struct AdmissionError: RetryableError, CustomStringConvertible, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var isRetryable: Bool { false }
    public var description: String { "admission: \(message)" }
}

/// Function replies are read with ``FunctionReply``; a malformed one is an ``RedisError/Code/invalidReply``.
typealias Reply = FunctionReply
