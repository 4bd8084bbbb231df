/// Common shape of every error the domain throws.
///
/// Domain errors describe deterministic rule violations, so retrying the same call with the same
/// input gives the same answer; `isRetryable` defaults to `false` and is overridden only where a
/// later attempt can succeed.
public protocol DomainError: Error, Sendable, Hashable, CustomStringConvertible {
    var isRetryable: Bool { get }
}

extension DomainError {
    public var isRetryable: Bool { false }
}
