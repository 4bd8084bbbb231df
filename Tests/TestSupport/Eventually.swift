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
