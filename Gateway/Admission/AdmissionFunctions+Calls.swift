import DealData
import Infrastructure

/// Calling the library's functions: a reply, or the library loaded again when Redis lost it.
extension AdmissionFunctions {
    /// Calls `function` with the deal's keys. A server that does not know the library yet (never
    /// loaded, or restarted empty) gets it loaded, and the call is made again once.
    /// Errors are ``RedisError``s (untyped here: typed throws through these async calls trip the
    /// release optimizer).
    @inline(never)
    static func call(
        _ redis: RedisClient, _ function: String, _ keys: AdmissionKeys, _ arguments: [String],
        budget: Duration? = nil
    ) async throws -> RedisValue {
        let first = await result(redis, function, keys, arguments, budget)
        if case .failure(let error) = first, error.code == .server, error.message.contains("Function not found") {
            if case .failure(let loadError) = await load(redis) { throw loadError }
            return try await result(redis, function, keys, arguments, budget).get()
        }
        return try first.get()
    }

    private static func result(
        _ redis: RedisClient, _ function: String, _ keys: AdmissionKeys, _ arguments: [String],
        _ budget: Duration?
    ) async -> Result<RedisValue, RedisError> {
        do {
            return .success(try await redis.fcall(function, keys: keys.all, arguments: arguments, budget: budget))
        } catch {
            return .failure(error)
        }
    }

    private static func load(_ redis: RedisClient) async -> Result<Void, RedisError> {
        do { return .success(try await redis.load(library)) } catch { return .failure(error) }
    }
}
