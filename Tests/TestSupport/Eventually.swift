/// Retries `body` until it succeeds, for at most `timeout`.
public func eventually<T>(timeout: Duration = .seconds(15), _ body: () async throws -> T) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while true {
        do { return try await body() } catch {
            if ContinuousClock.now >= deadline { throw error }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// What an `eventually` block throws while the condition does not hold yet: retried, not recorded
/// as an issue (a failed `#require` would record one at once).
public struct NotYet: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "not yet: \(message)" }
}

/// Unwraps inside `eventually` blocks.
public func need<T>(_ value: T?, _ message: @autoclosure () -> String = "missing value") throws -> T {
    guard let value else { throw NotYet(message()) }
    return value
}

/// Holds inside `eventually` blocks.
public func need(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    guard condition else { throw NotYet(message()) }
}
