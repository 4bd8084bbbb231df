public import Domain

/// A validated policy file: what the limiter enforces, and which file version it came from.
public struct PolicySet: Sendable, Equatable {
    /// The file format version (`version:`).
    public let version: Int
    /// The policies, in file order.
    public let policies: [RatePolicy]
    /// Where the policies were read from (a path, or a label for in-memory text).
    public let source: String
    /// First 12 hex digits of the SHA-256 of the file's bytes: the active policy version that the
    /// gateway logs and `flashdeal policy check` prints.
    public let digest: String

    public init(version: Int, policies: [RatePolicy], source: String, digest: String) {
        self.version = version
        self.policies = policies
        self.source = source
        self.digest = digest
    }

    public func policy(named name: String) -> RatePolicy? { policies.first { $0.name == name } }
}
