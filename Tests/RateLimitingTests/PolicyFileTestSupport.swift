import Foundation
import RateLimiting
import Testing

/// The diagnostics `yaml` produces (empty when it loads).
func diagnostics(_ yaml: String, file: String = "test.yaml") -> [PolicyDiagnostic] {
    do {
        _ = try PolicyLoader.parse(yaml: yaml, file: file)
        return []
    } catch {
        return error.diagnostics
    }
}

/// Loads `yaml`, recording a failure with every diagnostic when it does not load.
func loaded(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> PolicySet? {
    do {
        return try PolicyLoader.parse(yaml: yaml, file: "test.yaml")
    } catch {
        Issue.record("expected the file to load:\n\(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The only diagnostic of `yaml`; records a failure if there is not exactly one.
func onlyDiagnostic(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> PolicyDiagnostic? {
    let found = diagnostics(yaml)
    guard found.count == 1 else {
        Issue.record(
            "expected exactly one diagnostic, got \(found.count):\n\(found.map(\.rendered).joined(separator: "\n"))",
            sourceLocation: sourceLocation)
        return nil
    }
    return found[0]
}

/// A file with one policy whose body lines (indented by four spaces) are given.
func singlePolicy(_ body: String) -> String {
    """
    version: 1
    policies:
      - name: p
    \(body.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))

    """
}

/// The repository root, found from this file's path (Tests/RateLimitingTests/<file>).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func repositoryPath(_ relative: String) -> String { repositoryRoot.appendingPathComponent(relative).path }

/// A valid two-policy file used as the base of several tests and mutations.
let validPolicyYAML = """
    version: 1
    defaults:
      failMode: closed
    policies:
      - name: per-ip
        description: "Every operation, per client IP."
        key: clientIP
        bucket: {capacity: 20, refillPerSecond: 5}
      - name: per-user-orders
        match:
          operations: [createOrder, cancelOrder]
          deals: [deal-7]
          labels: {tier: public}
        key: user
        bucket:
          capacity: 5
          refillPerSecond: 0.5
        cost: {default: 1, perOperation: {createOrder: 2}}
        action: queue
        failMode: open

    """
