import Domain
import RateLimiting
import Testing

func request(
    _ operation: String = "createOrder", ip: String = "10.0.0.1", user: String? = nil,
    deal: String? = nil
) -> RateLimitRequest {
    RateLimitRequest(
        operation: operation, dealId: deal.flatMap { try? DealID($0) }, userId: user.flatMap { try? UserID($0) },
        clientIP: ip)
}

/// A policy set from YAML policy entries (each a flow mapping).
func policies(_ entries: String...) throws -> PolicySet {
    let yaml = "version: 1\npolicies:\n" + entries.map { "  - " + $0 }.joined(separator: "\n") + "\n"
    return try #require(loaded(yaml))
}
