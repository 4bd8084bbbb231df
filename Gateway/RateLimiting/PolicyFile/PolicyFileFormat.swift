/// The vocabulary of a policy file: its versions, keys and enumerations, in one place. The loader
/// accepts exactly these names, and a test keeps `policies/policy.schema.json` in step with them.
public enum PolicyFileFormat {
    /// Format versions this build understands.
    public static let supportedVersions: [Int] = [1]

    /// The GraphQL operations the gateway serves. A policy may only name these.
    public static let knownOperations: [String] = [
        "deals", "deal", "product", "stock", "order", "admission", "joinWaitingRoom", "createOrder", "cancelOrder",
    ]

    /// Keys of the file's top-level mapping.
    public static let topLevelKeys: [String] = ["version", "defaults", "policies"]
    public static let requiredTopLevelKeys: [String] = ["version", "policies"]
    /// Keys of `defaults:`; each is a policy field applied to every policy that omits it.
    public static let defaultsKeys: [String] = ["cost", "action", "failMode"]
    /// Keys of one entry of `policies:`.
    public static let policyKeys: [String] = [
        "name", "description", "match", "key", "bucket", "cost", "action", "failMode",
    ]
    public static let requiredPolicyKeys: [String] = ["name", "key", "bucket"]
    public static let matchKeys: [String] = ["operations", "deals", "labels"]
    public static let bucketKeys: [String] = ["capacity", "refillPerSecond"]
    public static let costKeys: [String] = ["default", "perOperation"]

    /// Plain `key:` values; `header:<Name>` is accepted besides these.
    public static let keyKinds: [String] = ["clientIP", "user", "deal", "global"]
    public static let headerKeyPrefix = "header:"
    public static let actions: [String] = ["reject", "queue", "shadow"]
    public static let failModes: [String] = ["open", "closed"]

    /// Where a key that is misplaced actually belongs, for "did you mean" hints.
    static let homeOfKey: [String: String] = {
        var home: [String: String] = [:]
        for key in policyKeys { home[key] = "a policy entry (under policies:)" }
        for key in matchKeys { home[key] = "match:" }
        for key in bucketKeys { home[key] = "bucket:" }
        home["perOperation"] = "cost:"
        home["version"] = "the top level of the file"
        home["policies"] = "the top level of the file"
        home["defaults"] = "the top level of the file"
        return home
    }()
}
