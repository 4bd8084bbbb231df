import Foundation
import TestSupport
import Testing

/// The README's module graph is `Package.swift`'s, read back with `swift package dump-package`: a
/// dependency added or dropped in one and not the other fails here.
@Suite("The README's module graph")
struct ModuleGraphTests {
    @Test func theReadmeListsEveryModuleWithExactlyTheModulesOfOursItUses() throws {
        let scratch = "/tmp/module-graph-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let run = try ChildProcess.run(
            "/usr/bin/env", ["swift", "package", "--scratch-path", scratch, "dump-package"],
            separateErrors: true)
        #expect(run.status == 0, "\(run.errors)")
        let package = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
        let targets = try #require(package["targets"] as? [[String: Any]])
        let ours = Set(targets.compactMap { $0["name"] as? String })
        var declared: [String: [String]] = [:]
        for target in targets {
            guard let name = target["name"] as? String, let type = target["type"] as? String,
                type != "test", type != "system", name != "TestSupport", name != "Twins"
            else { continue }
            let dependencies = (target["dependencies"] as? [[String: Any]] ?? []).compactMap { dependency in
                ((dependency["byName"] ?? dependency["target"]) as? [Any])?.first as? String
            }
            declared[name] = dependencies.filter(ours.contains).sorted()
        }

        let readme = try String(contentsOfFile: TestStack.root + "/README.md", encoding: .utf8)
        let block = try #require(
            readme.components(separatedBy: "```text\n").dropFirst()
                .first { $0.contains(" ─▶ ") }?.components(separatedBy: "```").first)
        var documented: [String: [String]] = [:]
        for line in block.split(separator: "\n") {
            let parts = line.components(separatedBy: " ─▶ ")
            try #require(parts.count == 2, "not a graph line: \(line)")
            documented[parts[0]] = parts[1] == "(nothing of ours)" ? [] : parts[1].components(separatedBy: ", ")
        }
        #expect(documented.keys.sorted() == declared.keys.sorted())
        for (module, uses) in declared.sorted(by: { $0.key < $1.key }) {
            #expect(
                documented[module] == uses, "README: \(module) ─▶ \(documented[module] ?? []); Package.swift: \(uses)")
        }
    }
}
