import Foundation
import TestSupport
import Testing

/// The tools the playground checks use: the project venv's, run in the repository.
extension PlaygroundConfigTests {
    // MARK: - Tools

    struct Missing: Error, CustomStringConvertible {
        let tool: String
        var description: String { "\(tool) not found: run scripts/setup (it installs it into .deps/venv)" }
    }

    struct Result {
        let status: Int32
        let output: String
    }

    /// A tool of the project venv, run in the repository with a minimal environment (so no
    /// variable of the caller's shell changes how compose interpolates the file).
    static func run(_ tool: String, _ arguments: [String]) throws -> Result {
        let path = root + "/.deps/venv/bin/" + tool
        guard FileManager.default.isExecutableFile(atPath: path) else { throw Missing(tool: path) }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("playground-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let run = try ChildProcess.run(
            path, arguments,
            environment: [
                "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch.path, "LANG": "C.UTF-8",
                "DOCKER_CONFIG": scratch.path,
            ], separateErrors: true)
        return Result(
            status: run.status ?? -1, output: run.errors.isEmpty ? run.output : run.output + "\n" + run.errors)
    }

    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    /// A YAML file as JSON objects (ruamel.yaml, safe loader, from the project venv).
    static func yaml(_ file: String) throws -> [String: Any] {
        let script = """
            import json, sys
            from ruamel.yaml import YAML
            with open(sys.argv[1]) as f:
                print(json.dumps(YAML(typ="safe", pure=True).load(f), default=str))
            """
        let result = try run("python", ["-c", script, file])
        guard result.status == 0 else { throw Failed(description: "\(file) does not parse as YAML:\n\(result.output)") }
        guard let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any] else {
            throw Failed(description: "\(file) is not a YAML mapping")
        }
        return object
    }

    /// The project as Docker Compose resolves it: variables interpolated, YAML merges applied,
    /// relative paths made absolute.
    static func resolvedCompose() throws -> [String: Any] {
        let result = try run(
            "docker-compose", ["--env-file", "deploy/versions.env", "-f", "compose.yaml", "config", "--format", "json"])
        guard result.status == 0 else { throw Failed(description: "docker-compose config failed:\n\(result.output)") }
        let start = result.output.firstIndex(of: "{") ?? result.output.startIndex
        guard let object = try JSONSerialization.jsonObject(with: Data(result.output[start...].utf8)) as? [String: Any]
        else {
            throw Failed(description: "docker-compose config printed no JSON object:\n\(result.output)")
        }
        return object
    }

    static func services(_ compose: [String: Any]) throws -> [String: [String: Any]] {
        try #require(compose["services"] as? [String: [String: Any]], "no services")
    }

    static func text(_ file: String) throws -> String {
        try String(contentsOfFile: root + "/" + file, encoding: .utf8)
    }

    /// `NAME=value` lines of deploy/versions.env.
    static func versions() throws -> [String: String] {
        var values: [String: String] = [:]
        for line in try text("deploy/versions.env").split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), let eq = trimmed.firstIndex(of: "=") else { continue }
            values[String(trimmed[..<eq])] = String(trimmed[trimmed.index(after: eq)...])
        }
        return values
    }

    static let flashDealServices = ["gateway", "worker-1", "worker-2", "seed"]
    static let expectedServices: Set<String> = [
        "redis", "kafka", "mongodb", "gateway", "worker-1", "worker-2", "seed", "k6",
        "otel-collector", "jaeger", "prometheus", "grafana", "loki", "promtail",
    ]

    static func environment(_ service: [String: Any]) -> [String: String] {
        (service["environment"] as? [String: Any] ?? [:]).mapValues { "\($0)" }
    }

    /// host:port of a URL or an address (`http://loki:3100/x`, `kafka:9092`, `redis://redis:6379`).
    static func hostPort(_ address: String) -> (host: String, port: Int)? {
        var rest = Substring(address)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        rest = rest.prefix { $0 != "/" && $0 != "?" }
        let parts = rest.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { return nil }
        return (String(parts[0]), port)
    }

    /// The container ports a service listens on, as far as the files say: published targets,
    /// the Flash Deal processes' FLASHDEAL_HTTP_PORT, and the servers' well-known ports.
    static func listens(_ service: String, _ port: Int, in compose: [String: Any]) throws -> Bool {
        let services = try services(compose)
        guard let definition = services[service] else { return false }
        if let ports = definition["ports"] as? [[String: Any]],
            ports.contains(where: { ($0["target"] as? Int) == port })
        {
            return true
        }
        if environment(definition)["FLASHDEAL_HTTP_PORT"] == String(port) { return true }
        let known: [String: Set<Int>] = [
            "redis": [6379], "mongodb": [27017], "jaeger": [4317, 4318, 16686],
            "loki": [3100], "otel-collector": [4318, 8888, 13133], "prometheus": [9090],
        ]
        if known[service]?.contains(port) == true { return true }
        if service == "kafka", let listeners = environment(definition)["KAFKA_LISTENERS"] {
            return listeners.split(separator: ",").contains { $0.hasSuffix(":\(port)") }
        }
        return false
    }
}
