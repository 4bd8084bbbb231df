public import Infrastructure

/// A reply or document the deal's data could not be read from. Never retryable: it means Redis or
/// MongoDB hold data in a shape this version does not write.
public struct DealDataError: RetryableError, CustomStringConvertible, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var isRetryable: Bool { false }
    public var description: String { "deal data: \(message)" }
}
