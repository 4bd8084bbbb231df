import Foundation
import TestSupport
import Testing

/// The Collector, Loki, Promtail and Grafana configurations of the playground.
extension PlaygroundConfigTests {
    // MARK: - Collector, Loki, Promtail, Grafana

    @Test func collectorPipelinesUseOnlyDefinedComponents() throws {
        let config = try Self.yaml("deploy/otel-collector.yaml")
        let service = try #require(config["service"] as? [String: Any], "no service section")
        let pipelines = try #require(service["pipelines"] as? [String: [String: Any]], "no service.pipelines")
        #expect(!pipelines.isEmpty)
        var used: [String: Set<String>] = [:]
        for kind in ["receivers", "processors", "exporters"] {
            let defined = Set((try #require(config[kind] as? [String: Any], "no \(kind) section")).keys)
            for (name, pipeline) in pipelines {
                #expect(
                    ["traces", "metrics", "logs"].contains(name.split(separator: "/").first.map(String.init) ?? ""),
                    "pipeline \(name)")
                let listed = pipeline[kind] as? [String] ?? []
                if kind != "processors" { #expect(!listed.isEmpty, "pipeline \(name) has no \(kind)") }
                for component in listed {
                    #expect(
                        defined.contains(component), "pipeline \(name) uses \(component), not defined under \(kind)")
                }
                used[kind, default: []].formUnion(listed)
                if kind == "processors", let first = listed.first {
                    #expect(first == "memory_limiter", "pipeline \(name): memory_limiter comes first")
                }
            }
            #expect(defined == used[kind], "\(kind) defined but unused: \(defined.subtracting(used[kind] ?? []))")
        }
        let extensions = Set((config["extensions"] as? [String: Any] ?? [:]).keys)
        #expect(Set(service["extensions"] as? [String] ?? []) == extensions, "service.extensions vs extensions")
        // OTLP/HTTP on 4318, where the processes send and compose publishes.
        let otlp = try #require((config["receivers"] as? [String: Any])?["otlp"] as? [String: Any])
        let http = try #require(
            (otlp["protocols"] as? [String: Any])?["http"] as? [String: Any], "otlp receiver without http")
        #expect(http["endpoint"] as? String == "0.0.0.0:4318")
        let compose = try Self.resolvedCompose()
        let ports = try Self.services(compose)["otel-collector"]?["ports"] as? [[String: Any]] ?? []
        #expect(ports.contains { $0["target"] as? Int == 4318 })
        #expect(
            (try Self.services(compose)["otel-collector"]?["volumes"] as? [[String: Any]])?.first?["source"] as? String
                == Self.root + "/deploy/otel-collector.yaml")
        // Exporters that send somewhere send to a compose service's port.
        for (name, value) in config["exporters"] as? [String: Any] ?? [:] {
            guard let endpoint = (value as? [String: Any])?["endpoint"] as? String else { continue }
            let (host, port) = try #require(Self.hostPort(endpoint), "exporter \(name): \(endpoint)")
            #expect(
                try Self.listens(host, port, in: compose),
                "exporter \(name) sends to \(endpoint), which no service serves")
        }
    }

    @Test func lokiConfigurationHasItsDocumentedSections() throws {
        let config = try Self.yaml("deploy/loki.yaml")
        for section in ["server", "schema_config", "storage_config", "common", "limits_config"] {
            #expect(config[section] is [String: Any], "loki.yaml lacks \(section)")
        }
        #expect(config["auth_enabled"] as? Bool == false)
        let server = try #require(config["server"] as? [String: Any])
        #expect(server["http_listen_port"] as? Int == 3100)
        let periods = try #require(
            (config["schema_config"] as? [String: Any])?["configs"] as? [[String: Any]], "schema_config.configs")
        try #require(!periods.isEmpty)
        let storage = try #require(config["storage_config"] as? [String: Any])
        for period in periods {
            for key in ["from", "store", "object_store", "schema", "index"] {
                #expect(period[key] != nil, "schema period lacks \(key)")
            }
            // Structured metadata (trace_id, span_id) needs the TSDB index and schema v13.
            #expect(period["store"] as? String == "tsdb" && period["schema"] as? String == "v13", "\(period)")
            let objectStore = try #require(period["object_store"] as? String)
            #expect(storage[objectStore] != nil, "object_store \(objectStore) is not configured in storage_config")
            #expect((period["from"] as? String)?.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) != nil)
        }
        #expect(storage["tsdb_shipper"] != nil, "storage_config.tsdb_shipper")
        #expect((config["limits_config"] as? [String: Any])?["allow_structured_metadata"] as? Bool == true)
        let compose = try Self.resolvedCompose()
        let loki = try #require(try Self.services(compose)["loki"])
        #expect((loki["command"] as? [String])?.contains("-config.file=/etc/loki/config.yaml") == true)
        #expect(
            (loki["volumes"] as? [[String: Any]])?.contains {
                $0["source"] as? String == Self.root + "/deploy/loki.yaml"
                    && $0["target"] as? String == "/etc/loki/config.yaml"
            } == true)
    }

    @Test func promtailParsesTheProcessesJSONLinesAndPushesToLoki() throws {
        let config = try Self.yaml("deploy/promtail.yaml")
        for section in ["server", "positions", "clients", "scrape_configs"] {
            #expect(config[section] != nil, "promtail.yaml lacks \(section)")
        }
        let compose = try Self.resolvedCompose()
        let services = try Self.services(compose)
        let clients = try #require(config["clients"] as? [[String: Any]])
        try #require(!clients.isEmpty)
        for client in clients {
            let url = try #require(client["url"] as? String)
            #expect(url.hasSuffix("/loki/api/v1/push"), "\(url)")
            let (host, port) = try #require(Self.hostPort(url))
            let served = try Self.listens(host, port, in: compose)
            #expect(host == "loki" && served, "\(url) is not the loki service")
        }
        // Positions survive a restart: the file is on a volume.
        let positions = try #require((config["positions"] as? [String: Any])?["filename"] as? String)
        let promtail = try #require(services["promtail"])
        let volumes = promtail["volumes"] as? [[String: Any]] ?? []
        #expect(
            volumes.contains {
                $0["type"] as? String == "volume" && positions.hasPrefix(($0["target"] as? String ?? "?") + "/")
            },
            "positions \(positions) are not on a volume")
        #expect(
            volumes.contains { $0["source"] as? String == "/var/run/docker.sock" && $0["read_only"] as? Bool == true })
        let jobs = try #require(config["scrape_configs"] as? [[String: Any]])
        try #require(!jobs.isEmpty)
        var fields: Set<String> = []
        var labels: Set<String> = []
        var metadata: Set<String> = []
        var selectors: [String] = []
        func walk(_ stages: [[String: Any]]) {
            for stage in stages {
                if let json = stage["json"] as? [String: Any] {
                    for (name, source) in json["expressions"] as? [String: Any] ?? [:] {
                        fields.insert(name)
                        #expect((source as? String ?? name) == name, "\(name) read from \(source)")
                    }
                }
                labels.formUnion((stage["labels"] as? [String: Any] ?? [:]).keys)
                metadata.formUnion((stage["structured_metadata"] as? [String: Any] ?? [:]).keys)
                if let match = stage["match"] as? [String: Any] {
                    selectors.append(match["selector"] as? String ?? "")
                    walk(match["stages"] as? [[String: Any]] ?? [])
                }
            }
        }
        for job in jobs {
            #expect(job["job_name"] is String)
            let discovery = try #require(
                job["docker_sd_configs"] as? [[String: Any]], "containers through the Docker API")
            #expect(discovery.first?["host"] as? String == "unix:///var/run/docker.sock")
            let filters = discovery.first?["filters"] as? [[String: Any]] ?? []
            #expect(
                filters.contains {
                    ($0["values"] as? [String])?.contains(
                        "com.docker.compose.project=\(compose["name"] as? String ?? "")") == true
                },
                "only this compose project's containers")
            walk(job["pipeline_stages"] as? [[String: Any]] ?? [])
        }
        #expect(fields.isSuperset(of: ["level", "trace_id", "span_id", "message"]), "json stage reads \(fields)")
        #expect(labels == ["level"], "labels \(labels): ids are not labels (unbounded)")
        #expect(metadata.isSuperset(of: ["trace_id", "span_id"]), "structured metadata \(metadata)")
        for name in Self.flashDealServices {
            #expect(selectors.contains { $0.contains(name) }, "the JSON stages do not apply to \(name)")
        }
    }

    @Test func grafanaGetsEveryDataSourceAndTheDashboards() throws {
        let playground = try Self.yaml("grafana/playground/datasources.yaml")
        #expect(playground["apiVersion"] as? Int == 1)
        let sources = try #require(playground["datasources"] as? [[String: Any]])
        let uids = Set(sources.compactMap { $0["uid"] as? String })
        #expect(Set(sources.compactMap { $0["type"] as? String }) == ["loki", "jaeger"])
        let compose = try Self.resolvedCompose()
        let prometheus = try Self.yaml("grafana/provisioning/datasources/prometheus.yaml")
        for source in sources + (prometheus["datasources"] as? [[String: Any]] ?? []) {
            let url = try #require(source["url"] as? String)
            let (host, port) = try #require(Self.hostPort(url), "\(url)")
            #expect(try Self.listens(host, port, in: compose), "data source \(source["name"] ?? "") points at \(url)")
            for field in (source["jsonData"] as? [String: Any])?["derivedFields"] as? [[String: Any]] ?? [] {
                #expect(
                    uids.contains(field["datasourceUid"] as? String ?? ""),
                    "derived field links to an unknown data source")
            }
        }
        let grafana = try #require(try Self.services(compose)["grafana"])
        let targets = Dictionary(
            (grafana["volumes"] as? [[String: Any]] ?? []).compactMap { volume -> (String, String)? in
                guard let target = volume["target"] as? String, let source = volume["source"] as? String else {
                    return nil
                }
                return (target, source)
            }, uniquingKeysWith: { a, _ in a })
        // Where grafana/README.md says to mount them, and where the dashboards provider looks.
        let provider = try Self.yaml("grafana/provisioning/dashboards/flashdeal.yaml")
        let path =
            ((provider["providers"] as? [[String: Any]])?.first?["options"] as? [String: Any])?["path"] as? String
        #expect(targets[path ?? "?"] == Self.root + "/grafana/dashboards")
        #expect(targets["/etc/grafana/provisioning/dashboards"] == Self.root + "/grafana/provisioning/dashboards")
        #expect(
            targets["/etc/grafana/provisioning/datasources/prometheus.yaml"] == Self.root
                + "/grafana/provisioning/datasources/prometheus.yaml")
        #expect(
            targets["/etc/grafana/provisioning/datasources/playground.yaml"] == Self.root
                + "/grafana/playground/datasources.yaml")
        let home = Self.environment(grafana)["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"] ?? ""
        #expect(
            home.hasPrefix((path ?? "?") + "/")
                && FileManager.default.fileExists(
                    atPath: Self.root + "/grafana/dashboards/" + home.dropFirst((path ?? "").count + 1)),
            "home dashboard \(home)")
    }
}
