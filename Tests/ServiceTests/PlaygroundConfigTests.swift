import Foundation
import TestSupport
import Testing

/// The compose playground (compose.yaml, Dockerfile, deploy/, prometheus/prometheus-compose.yml),
/// checked without Docker: the compose file against the Compose specification's JSON schema
/// (check-jsonschema's vendored copy) and by `docker-compose config` (the Docker Compose CLI, which
/// resolves and validates a project without a daemon); the OpenTelemetry Collector, Loki and
/// Promtail configurations against their documented sections; and every cross-reference between
/// them and the processes (variables, ports, paths, health checks, scrape targets).
/// The tools come from `scripts/setup` (the project venv); a missing one fails the test.
@Suite("Compose playground and its Collector, Loki and Promtail configurations (static)")
struct PlaygroundConfigTests {
    static let root = TestStack.root

    // MARK: - compose.yaml

    @Test func composeFileMatchesTheComposeSpecificationSchema() throws {
        let result = try Self.run("check-jsonschema", ["--builtin-schema", "vendor.compose-spec", "compose.yaml"])
        #expect(result.status == 0, "check-jsonschema (compose-spec):\n\(result.output)")
        #expect(result.output.contains("ok -- validation done"), "\(result.output)")
    }

    @Test func dockerComposeConfigAcceptsTheProjectWithTheVersionsFileAlone() throws {
        let version = try Self.run("docker-compose", ["version"])
        #expect(version.status == 0 && version.output.contains("Docker Compose version v"), "\(version.output)")
        // As a user runs it: no --env-file, the `.env` link to deploy/versions.env supplies every variable.
        let attributes = try FileManager.default.attributesOfItem(atPath: Self.root + "/.env")
        #expect(attributes[.type] as? FileAttributeType == .typeSymbolicLink, ".env must link to deploy/versions.env")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: Self.root + "/.env") == "deploy/versions.env")
        let plain = try Self.run("docker-compose", ["config", "--quiet"])
        #expect(plain.status == 0, "docker-compose config:\n\(plain.output)")
        #expect(!plain.output.lowercased().contains("warn"), "docker-compose config warns:\n\(plain.output)")
        let compose = try Self.resolvedCompose()
        #expect(compose["name"] as? String == "flashdeal")
        #expect(Set(try Self.services(compose).keys) == Self.expectedServices)
    }

    @Test func everyImageVersionAndHostPortComesFromTheVersionsFile() throws {
        let versions = try Self.versions()
        let compose = try Self.text("compose.yaml").split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }.joined(separator: "\n")
        // Every ${VAR} (not $${…}, a literal dollar for the container's shell) is in deploy/versions.env,
        // and compose.yaml has no default of its own.
        let pattern = try NSRegularExpression(pattern: #"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}"#)
        var used: Set<String> = []
        for match in pattern.matches(in: compose, range: NSRange(compose.startIndex..., in: compose)) {
            let name = String(compose[Range(match.range(at: 1), in: compose)!])
            let modifier = String(compose[Range(match.range(at: 2), in: compose)!])
            used.insert(name)
            #expect(versions[name] != nil, "${\(name)} of compose.yaml is not defined in deploy/versions.env")
            #expect(
                modifier.hasPrefix(":?"),
                "${\(name)\(modifier)}: compose.yaml takes values from deploy/versions.env only (use ${\(name):?…})")
        }
        let dockerfileArgs = Set(
            try Self.text("Dockerfile").split(separator: "\n").compactMap { line -> String? in
                line.hasPrefix("ARG ") ? String(line.dropFirst(4)).components(separatedBy: "=")[0] : nil
            })
        for name in versions.keys {
            #expect(used.contains(name), "\(name) of deploy/versions.env is not used by compose.yaml")
            #expect(!(versions[name] ?? "").isEmpty, "\(name) is empty in deploy/versions.env")
        }
        #expect(dockerfileArgs.isSubset(of: used), "Dockerfile ARGs \(dockerfileArgs) not all passed by compose.yaml")
        // No image or host port is written out in compose.yaml.
        for line in compose.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("image:") {
                #expect(trimmed.contains("_IMAGE:?"), "image not from deploy/versions.env: \(trimmed)")
            }
        }
        let resolved = try Self.resolvedCompose()
        for (name, service) in try Self.services(resolved) {
            let image = service["image"] as? String
            #expect(image != nil || service["build"] != nil, "\(name) has neither image nor build")
            if let image {
                #expect(
                    versions.values.contains(image), "\(name): image \(image) is not a value of deploy/versions.env")
            }
            for port in service["ports"] as? [[String: Any]] ?? [] {
                let published = "\(port["published"] ?? "")"
                #expect(
                    versions.contains { $0.key.hasSuffix("_HOST_PORT") && $0.value == published },
                    "\(name): host port \(published) is not a *_HOST_PORT of deploy/versions.env")
            }
        }
        // Versions that must agree with the rest of the project.
        let setup = try Self.text("scripts/setup")
        let k6 = try #require(versions["K6_IMAGE"]?.components(separatedBy: ":").last)
        #expect(setup.contains("k6==\(k6)"), "K6_IMAGE \(k6) is not the k6 scripts/setup installs")
        #expect(
            versions["PROMETHEUS_IMAGE"]?.contains(":v2.") == true,
            "Prometheus 2.x: the rules are checked with promtool 2")
    }

    @Test func everyMountedHostPathAndBuildInputExists() throws {
        let compose = try Self.resolvedCompose()
        var mounts = 0
        for (name, service) in try Self.services(compose) {
            for volume in service["volumes"] as? [[String: Any]] ?? [] where volume["type"] as? String == "bind" {
                let source = try #require(volume["source"] as? String, "\(name): bind mount without source")
                if source == "/var/run/docker.sock" {
                    #expect(name == "promtail")
                    continue
                }
                #expect(source.hasPrefix(Self.root + "/"), "\(name): \(source) is outside the repository")
                #expect(FileManager.default.fileExists(atPath: source), "\(name): mounted \(source) does not exist")
                #expect(volume["read_only"] as? Bool == true, "\(name): \(source) should be mounted read-only")
                mounts += 1
            }
            if let build = service["build"] as? [String: Any] {
                let context = try #require(build["context"] as? String)
                let dockerfile = build["dockerfile"] as? String ?? "Dockerfile"
                #expect(FileManager.default.fileExists(atPath: context + "/" + dockerfile), "\(name): no \(dockerfile)")
            }
        }
        #expect(mounts >= 8, "only \(mounts) bind mounts")
        for line in try Self.text("Dockerfile").split(separator: "\n")
        where line.hasPrefix("COPY ") && !line.contains("--from") {
            let sources = line.split(separator: " ").dropFirst().dropLast()
            for source in sources where source != "." {
                #expect(
                    FileManager.default.fileExists(atPath: Self.root + "/" + source),
                    "Dockerfile copies missing \(source)")
            }
        }
        let ignored = try Self.text(".dockerignore")
        for local in [".build", ".deps", ".stack", "reports"] {
            #expect(ignored.split(separator: "\n").contains(Substring(local)), ".dockerignore lacks \(local)")
        }
    }

    @Test func theImageBuildsWithTheLibrariesPackageSwiftLinks() throws {
        let dockerfile = try Self.text("Dockerfile")
        let manifest = try Self.text("Package.swift")
        let modulemap = try Self.text("Platform/CLibraries/CRdKafka/module.modulemap")
        #expect(
            dockerfile.contains("FROM ${SWIFT_IMAGE} AS build") && dockerfile.contains("FROM ${SWIFT_RUNTIME_IMAGE}"))
        for package in ["libhiredis-dev", "librdkafka-dev", "libmongoc-dev", "libbson-dev"] {
            #expect(dockerfile.contains(package), "the build stage does not install \(package)")
        }
        // The link name and directory Package.swift and the module map use for librdkafka.
        #expect(manifest.contains(#""/.deps/rdkafka/lib""#) && modulemap.contains(#"link "rdkafka_wheel""#))
        #expect(
            dockerfile.contains(".deps/rdkafka/lib/librdkafka_wheel.so"),
            "the Dockerfile does not provide -lrdkafka_wheel")
        for product in ["flashdeal-gateway", "flashdeal-worker", "flashdeal"] {
            #expect(dockerfile.contains("--product \(product)"), "the image lacks \(product)")
        }
        #expect(try Self.versions()["SWIFT_IMAGE"]?.hasPrefix("swift:6.") == true)
    }

    @Test func theProcessesGetTheVariablesTheyReadAndAreCheckedOnReadyz() throws {
        // Every FLASHDEAL_* or LOG_LEVEL variable given to a Flash Deal container is one the sources read.
        var read: Set<String> = []
        let pattern = try NSRegularExpression(pattern: #""((?:FLASHDEAL_[A-Z0-9_]+)|LOG_LEVEL)""#)
        for directory in ["Gateway", "OrderWorker", "DealData", "Platform", "CLI"] {
            let enumerator = FileManager.default.enumerator(atPath: Self.root + "/" + directory)
            while let file = enumerator?.nextObject() as? String {
                guard file.hasSuffix(".swift") else { continue }
                let source = try Self.text(directory + "/" + file)
                for match in pattern.matches(in: source, range: NSRange(source.startIndex..., in: source)) {
                    read.insert(String(source[Range(match.range(at: 1), in: source)!]))
                }
            }
        }
        try #require(read.count >= 20, "found only \(read.count) variables read by the sources")
        // The OpenTelemetry SDK's standard variables (the specification's names).
        let otel: Set<String> = [
            "OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
        ]
        let compose = try Self.resolvedCompose()
        let services = try Self.services(compose)
        for name in Self.flashDealServices {
            let service = try #require(services[name], "no service \(name)")
            let env = Self.environment(service)
            for key in env.keys {
                #expect(read.contains(key) || otel.contains(key), "\(name): \(key) is read by no Flash Deal process")
            }
            for key in ["FLASHDEAL_REDIS_URL", "FLASHDEAL_KAFKA_BROKERS", "FLASHDEAL_MONGO_URI"] {
                let value = try #require(env[key], "\(name) lacks \(key)")
                for address in value.split(separator: ",") {
                    let (host, port) = try #require(Self.hostPort(String(address)), "\(name): \(key)=\(value)")
                    #expect(
                        try Self.listens(host, port, in: compose),
                        "\(name): \(key) points at \(host):\(port), which no service listens on")
                }
            }
            #expect(
                env["FLASHDEAL_MONGO_URI"]?.contains("replicaSet=") == true, "\(name): MongoDB through its replica set")
            if let endpoint = env["OTEL_EXPORTER_OTLP_ENDPOINT"] {
                let (host, port) = try #require(Self.hostPort(endpoint))
                #expect(
                    host == "otel-collector" && port == 4318,
                    "\(name): OTLP/HTTP goes to the collector's 4318, not \(endpoint)")
            }
        }
        for name in ["gateway", "worker-1", "worker-2"] {
            let service = try #require(services[name])
            let env = Self.environment(service)
            #expect(env["FLASHDEAL_HTTP_HOST"] == "0.0.0.0", "\(name) must listen on every interface in a container")
            let port = try #require(env["FLASHDEAL_HTTP_PORT"], "\(name) has no FLASHDEAL_HTTP_PORT")
            let test = (service["healthcheck"] as? [String: Any])?["test"] as? [String] ?? []
            #expect(
                test.joined(separator: " ").contains("http://127.0.0.1:\(port)/readyz"),
                "\(name): health check \(test) is not /readyz on \(port)")
            let ports = service["ports"] as? [[String: Any]] ?? []
            #expect(ports.contains { "\($0["target"] ?? "")" == port }, "\(name) does not publish its port \(port)")
        }
        let gateway = Self.environment(try #require(services["gateway"]))
        for secret in ["FLASHDEAL_JWT_SECRET", "FLASHDEAL_PASS_KEYS"] {
            #expect((gateway[secret] ?? "").count >= 32, "the gateway needs \(secret) (≥ 32 bytes)")
        }
        let policy = try #require(gateway["FLASHDEAL_POLICY_FILE"])
        #expect(FileManager.default.fileExists(atPath: Self.root + "/" + policy), "policy file \(policy)")
        #expect(
            try Self.text("Dockerfile").contains("COPY \(policy)") || policy.hasPrefix("policies/"),
            "\(policy) is not in the image")
        // Dependencies start healthy before the processes; the k6 runner waits for the seeding job.
        for name in ["gateway", "worker-1", "worker-2"] {
            let dependsOn = try #require(
                services[name]?["depends_on"] as? [String: [String: Any]], "\(name) has no depends_on")
            for server in ["redis", "kafka", "mongodb"] {
                #expect(
                    dependsOn[server]?["condition"] as? String == "service_healthy", "\(name) must wait for \(server)")
            }
        }
        let k6 = try #require(services["k6"])
        #expect(
            (k6["depends_on"] as? [String: [String: Any]])?["seed"]?["condition"] as? String
                == "service_completed_successfully")
        let profile = try #require(Self.environment(k6)["K6_PROFILE"])
        #expect(FileManager.default.fileExists(atPath: Self.root + "/k6/\(profile).js"), "k6/\(profile).js")
        let base = try #require(Self.hostPort(Self.environment(k6)["BASE_URL"] ?? ""), "k6 BASE_URL")
        let baseServed = try Self.listens(base.host, base.port, in: compose)
        #expect(base.host == "gateway" && baseServed, "k6 BASE_URL is not the gateway's port")
    }

    @Test func prometheusScrapesTheContainersOnTheirPorts() throws {
        let promtool = try Promtool.find()
        let check = try promtool.run(["check", "config", "prometheus/prometheus-compose.yml"])
        #expect(check.status == 0 && check.output.contains("SUCCESS"), "promtool check config:\n\(check.output)")
        let local = try Self.yaml("prometheus/prometheus.yml")
        let playground = try Self.yaml("prometheus/prometheus-compose.yml")
        func jobs(_ config: [String: Any]) -> [String: [String]] {
            var out: [String: [String]] = [:]
            for job in config["scrape_configs"] as? [[String: Any]] ?? [] {
                let targets = (job["static_configs"] as? [[String: Any]] ?? []).flatMap {
                    $0["targets"] as? [String] ?? []
                }
                out[job["job_name"] as? String ?? ""] = targets
            }
            return out
        }
        let localJobs = jobs(local)
        let playgroundJobs = jobs(playground)
        #expect(
            Set(localJobs.keys).isSubset(of: Set(playgroundJobs.keys)),
            "the playground keeps the jobs of prometheus.yml")
        #expect(local["rule_files"] as? [String] == playground["rule_files"] as? [String], "the same rules and alerts")
        let compose = try Self.resolvedCompose()
        let services = try Self.services(compose)
        func target(_ name: String) throws -> String {
            let service = try #require(services[name], "no service \(name)")
            let port = try #require(
                Self.environment(service)["FLASHDEAL_HTTP_PORT"], "\(name) has no FLASHDEAL_HTTP_PORT")
            return "\(name):\(port)"
        }
        #expect(playgroundJobs["flashdeal-gateway"] == [try target("gateway")])
        #expect(Set(playgroundJobs["flashdeal-worker"] ?? []) == [try target("worker-1"), try target("worker-2")])
        for (job, targets) in playgroundJobs {
            for address in targets {
                let (host, port) = try #require(Self.hostPort(address), "\(job): \(address)")
                #expect(try Self.listens(host, port, in: compose), "\(job): \(address) is not a service's port")
            }
        }
        // The collector's own metrics: the port its telemetry reader serves.
        let collector = try Self.yaml("deploy/otel-collector.yaml")
        let readers =
            (((collector["service"] as? [String: Any])?["telemetry"] as? [String: Any])?["metrics"] as? [String: Any])?[
                "readers"]
        let port =
            ((((readers as? [[String: Any]])?.first?["pull"] as? [String: Any])?["exporter"] as? [String: Any])?[
                "prometheus"] as? [String: Any])?["port"] as? Int
        #expect(playgroundJobs["otel-collector"] == ["otel-collector:\(port ?? -1)"])
        // The volume Prometheus reads its configuration from is prometheus/ itself.
        let volumes = services["prometheus"]?["volumes"] as? [[String: Any]] ?? []
        #expect(
            volumes.contains {
                $0["source"] as? String == Self.root + "/prometheus" && $0["target"] as? String == "/etc/prometheus"
            })
        #expect(
            (services["prometheus"]?["command"] as? [String])?.contains(
                "--config.file=/etc/prometheus/prometheus-compose.yml") == true)
    }
}
