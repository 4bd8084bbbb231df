import Foundation
public import Infrastructure

#if canImport(Glibc)
    import Glibc
#endif

/// The local real stack as the integration tests see it: endpoints from `.stack/endpoints.env`
/// (written by `scripts/stack up`) and a handle to stop and start single servers mid-test.
///
/// A test that needs a server and cannot find one fails loudly: `endpoints()` throws.
public enum TestStack {
    public static let root: String = {
        // Tests/TestSupport/TestStack.swift → repository root
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }()

    public static func endpoints() throws -> ServiceEndpoints {
        try ServiceEndpoints.load(
            environment: ProcessInfo.processInfo.environment,
            defaultFile: root + "/.stack/endpoints.env")
    }

    /// Runs `scripts/stack ARGS…` and fails the test if it does not exit 0.
    ///
    /// Uses `posix_spawn` + `waitpid` rather than Foundation's `Process`: a server that daemonizes
    /// keeps the descriptors `Process` watches for the child's exit, and `waitUntilExit` never returns.
    public static func run(_ arguments: String...) throws {
        try run(arguments)
    }

    public static func run(_ arguments: [String]) throws {
        let result = try ChildProcess.run(root + "/scripts/stack", arguments)
        guard result.status == 0 else {
            throw StackCommandFailed(arguments: arguments, status: result.status ?? -1, output: result.output)
        }
    }

    public struct StackCommandFailed: Error, CustomStringConvertible {
        let arguments: [String]
        let status: Int32
        let output: String
        public var description: String {
            "scripts/stack \(arguments.joined(separator: " ")) exited \(status): \(output)"
        }
    }

    /// Rate policies that let every test request through.
    public static let permissivePolicies = """
        version: 1
        defaults: {failMode: open, action: reject}
        policies:
          - name: everything
            key: global
            bucket: {capacity: 1000000, refillPerSecond: 1000000}
        """

    /// Writes `policies` to a temporary file of its own and returns its path; the caller removes it.
    public static func policyFile(_ policies: String = permissivePolicies) throws -> String {
        let path = NSTemporaryDirectory() + uniqueName("policies") + ".yaml"
        try policies.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A name no other test (or earlier run) uses: for topics, groups, collections and keys.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UInt32.random(in: 0...UInt32.max))-\(Int(Date().timeIntervalSince1970 * 1000) % 1_000_000)"
    }
}
