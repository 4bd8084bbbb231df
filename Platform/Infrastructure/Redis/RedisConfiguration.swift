/// How a ``RedisClient`` connects. Defaults suit the local stack and a gateway's hot path.
public struct RedisConfiguration: Sendable, Equatable {
    /// Server host. Env: `FLASHDEAL_REDIS_URL` (host part).
    public var host: String
    /// Server port. Env: `FLASHDEAL_REDIS_URL` (port part).
    public var port: Int
    /// Connections in the pool; concurrent calls spread over them and pipeline on each.
    /// Env: `FLASHDEAL_REDIS_CONNECTIONS`. Default 4.
    public var connections: Int
    /// Budget of one call, from submission to reply. Env: `FLASHDEAL_REDIS_TIMEOUT_MS`. Default 1,000 ms.
    public var commandTimeout: Duration
    /// Budget of one connection attempt. Default 1,000 ms.
    public var connectTimeout: Duration
    /// Most commands written before replies are read, per round trip on one connection. Default 1,024.
    public var maxPipelineDepth: Int

    public init(
        host: String = "127.0.0.1", port: Int = 6379, connections: Int = 4,
        commandTimeout: Duration = .milliseconds(1_000), connectTimeout: Duration = .milliseconds(1_000),
        maxPipelineDepth: Int = 1_024
    ) {
        self.host = host
        self.port = port
        self.connections = max(1, connections)
        self.commandTimeout = commandTimeout
        self.connectTimeout = connectTimeout
        self.maxPipelineDepth = max(1, maxPipelineDepth)
    }

    /// Applies `FLASHDEAL_REDIS_CONNECTIONS` and `FLASHDEAL_REDIS_TIMEOUT_MS` from `environment`.
    /// A malformed or out-of-range value throws, naming the variable.
    public func applying(environment: [String: String]) throws(EnvironmentValues.Invalid) -> RedisConfiguration {
        var copy = self
        let env = EnvironmentValues(environment)
        if let n = try env.int("FLASHDEAL_REDIS_CONNECTIONS", in: 1...1_024) { copy.connections = n }
        if let timeout = try env.milliseconds("FLASHDEAL_REDIS_TIMEOUT_MS", in: 1...600_000) {
            copy.commandTimeout = timeout
        }
        return copy
    }
}
