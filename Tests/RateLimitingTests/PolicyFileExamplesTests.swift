import Domain
import Foundation
import RateLimiting
import Testing

/// Every `policies/*.yaml`.
private func exampleFiles() throws -> [String] {
    let directory = repositoryPath("policies")
    return try FileManager.default.contentsOfDirectory(atPath: directory)
        .filter { $0.hasSuffix(".yaml") }.sorted().map { directory + "/" + $0 }
}

@Suite("Policy file: shipped examples")
struct PolicyFileExamplesTests {
    @Test("every example passes the checker and points editors at the schema")
    func examplesLoad() throws {
        let files = try exampleFiles()
        #expect(files.contains { $0.hasSuffix("/flash-sale.yaml") })
        for result in PolicyCheck.check(paths: files) {
            #expect(result.isValid, "\(result.rendered)")
            #expect(result.rendered.hasPrefix("ok  \(result.path)  "))
            let text = try String(contentsOfFile: result.path, encoding: .utf8)
            #expect(text.hasPrefix("# yaml-language-server: $schema=./policy.schema.json\n"), "\(result.path)")
        }
    }

    @Test("flash-sale.yaml has the policies the runbook describes")
    func flashSaleContents() throws {
        let set = try PolicyLoader.load(path: repositoryPath("policies/flash-sale.yaml"))
        let byName = Dictionary(uniqueKeysWithValues: set.policies.map { ($0.name, $0) })
        #expect(byName["global-create-order"]?.key == .global)
        #expect(byName["global-create-order"]?.failMode == .closed)
        #expect(byName["per-ip-burst"]?.failMode == .open)
        #expect(byName["per-user-create-order"]?.key == .user)
        #expect(byName["per-deal-admission"]?.action == .queue)
        #expect(set.policies.contains { $0.action == .shadow })
    }

    @Test("check prints one ok line per good file and every diagnostic of a bad one, with a summary")
    func checkOutput() throws {
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).yaml").path
        try "version: 1\npolicies:\n  - name: a\n    key: ip\n    bucket: {capacity: 0, refillPerSecond: 1}\n"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: bad) }
        let good = repositoryPath("policies/minimal.yaml")
        let results = PolicyCheck.check(paths: [good, bad])
        #expect(results.map(\.isValid) == [true, false])
        #expect(
            results[0].rendered.range(
                of: #"^ok  .*minimal\.yaml  1 policy  version [0-9a-f]{12}$"#, options: .regularExpression) != nil)
        #expect(
            results[1].rendered.components(separatedBy: "\n") == [
                "\(bad):4:10: error: unknown key \"ip\"; expected one of clientIP, user, deal, global or header:<Name>",
                "    hint: did you mean clientIP?",
                "\(bad):5:24: error: bucket capacity must be at least 1, got 0",
                "    hint: capacity is the largest burst one identity may send at once",
            ])
        #expect(PolicyCheck.summary(results) == "2 errors in 1 of 2 files")
        #expect(PolicyCheck.summary([results[0]]) == nil)
    }
}
