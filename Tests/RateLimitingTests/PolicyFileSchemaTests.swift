import Foundation
import RateLimiting
import TestSupport
import Testing

private func schema() throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: repositoryPath("policies/policy.schema.json")))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

private func object(_ value: Any?, _ path: String...) throws -> [String: Any] {
    var current = value
    for key in path { current = (current as? [String: Any])?[key] }
    return try #require(current as? [String: Any], "schema has no object at \(path)")
}

private func keys(_ properties: [String: Any]) -> Set<String> { Set(properties.keys) }

/// The project venv's Python (`scripts/setup` installs jsonschema and PyYAML there): the check runs
/// on every machine, or fails saying what is missing — it is never skipped.
private func venvPython() throws -> String {
    let python = repositoryPath(".deps/venv/bin/python")
    try #require(FileManager.default.isExecutableFile(atPath: python), "\(python) is missing: run scripts/setup")
    return python
}

@Suite("Policy file: JSON schema")
struct PolicyFileSchemaTests {
    @Test("the schema's keys and enumerations are exactly the loader's")
    func schemaMatchesLoader() throws {
        let root = try schema()
        #expect(root["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema")
        #expect(keys(try object(root, "properties")) == Set(PolicyFileFormat.topLevelKeys))
        #expect(Set(root["required"] as? [String] ?? []) == Set(PolicyFileFormat.requiredTopLevelKeys))
        #expect(try object(root, "properties", "version")["enum"] as? [Int] == PolicyFileFormat.supportedVersions)
        #expect(keys(try object(root, "properties", "defaults", "properties")) == Set(PolicyFileFormat.defaultsKeys))

        let policy = try object(root, "$defs", "policy")
        #expect(keys(try object(policy, "properties")) == Set(PolicyFileFormat.policyKeys))
        #expect(Set(policy["required"] as? [String] ?? []) == Set(PolicyFileFormat.requiredPolicyKeys))
        #expect(keys(try object(policy, "properties", "match", "properties")) == Set(PolicyFileFormat.matchKeys))
        #expect(keys(try object(policy, "properties", "bucket", "properties")) == Set(PolicyFileFormat.bucketKeys))

        let keyAlternatives = try #require(try object(policy, "properties", "key")["anyOf"] as? [[String: Any]])
        #expect(keyAlternatives.first?["enum"] as? [String] == PolicyFileFormat.keyKinds)
        #expect(
            (keyAlternatives.last?["pattern"] as? String)?.hasPrefix("^" + PolicyFileFormat.headerKeyPrefix) == true)

        let costObject = try #require((try object(root, "$defs", "cost")["oneOf"] as? [[String: Any]])?.last)
        #expect(keys(try object(costObject, "properties")) == Set(PolicyFileFormat.costKeys))
        #expect(try object(root, "$defs", "operation")["enum"] as? [String] == PolicyFileFormat.knownOperations)
        #expect(try object(root, "$defs", "action")["enum"] as? [String] == PolicyFileFormat.actions)
        #expect(try object(root, "$defs", "failMode")["enum"] as? [String] == PolicyFileFormat.failModes)
    }

    @Test("every property in the schema has a description, for editor tooltips")
    func everyPropertyDescribed() throws {
        var undescribed: [String] = []
        func walk(_ value: Any, _ path: String) {
            if let dictionary = value as? [String: Any] {
                if let properties = dictionary["properties"] as? [String: Any] {
                    for (name, property) in properties {
                        let property = property as? [String: Any] ?? [:]
                        if property["description"] == nil, property["$ref"] == nil {
                            undescribed.append("\(path)/\(name)")
                        }
                    }
                }
                for (key, child) in dictionary { walk(child, "\(path)/\(key)") }
            } else if let array = value as? [Any] {
                for (index, child) in array.enumerated() { walk(child, "\(path)/\(index)") }
            }
        }
        walk(try schema(), "#")
        #expect(undescribed.isEmpty, "\(undescribed)")
        // $ref targets carry the description.
        for name in ["cost", "action", "failMode", "operation", "policy"] {
            #expect(try object(try schema(), "$defs", name)["description"] != nil, "\(name)")
        }
    }

    @Test("python jsonschema accepts every example and rejects a broken one", .timeLimit(.minutes(1)))
    func pythonValidation() throws {
        let script = """
            import json, sys, yaml, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            validator = jsonschema.Draft202012Validator(schema)
            for path in sys.argv[2:]:
                errors = list(validator.iter_errors(yaml.safe_load(open(path))))
                print(("ok " if not errors else "bad ") + path.rsplit("/", 1)[-1])
            broken = {"version": 1, "policies": [{"name": "x", "key": "ip", "bucket": {"capacity": 0, "refillPerSecond": 1}}]}
            print("broken " + str(len(list(validator.iter_errors(broken)))))
            """
        let examples = try FileManager.default.contentsOfDirectory(atPath: repositoryPath("policies"))
            .filter { $0.hasSuffix(".yaml") }.sorted()
        let run = try ChildProcess.run(
            try venvPython(),
            ["-c", script, repositoryPath("policies/policy.schema.json")]
                + examples.map { repositoryPath("policies/" + $0) })
        let lines = run.output.split(separator: "\n").map(String.init)
        #expect(run.status == 0, "\(lines)")
        #expect(lines.dropLast() == examples.map { "ok " + $0 }[...])
        #expect(lines.last == "broken 2")  // unknown key kind, capacity 0
    }
}
