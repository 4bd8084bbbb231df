import ArgumentParser
import Autoscaling
import Foundation

extension AutoscaleCommand {
    /// `flashdeal autoscale simulate`: a sale replayed through the manifests' autoscaling.
    struct Simulate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay a sale through the HPA and KEDA arithmetic of the manifests; compare what-ifs.",
            discussion: """
                --manifests takes YAML files, directories of them, or kustomization directories \
                (rendered with `kubectl kustomize`); the ScaledObjects scaling `gateway` and \
                `order-worker`, the KafkaTopic `flashdeal.order-requests` and the monitors' scrape \
                interval are read from them. --trace is `synthetic:base=20,x=100,decay=180,before=1200,after=2400`, \
                a request trace (policies/traces/*.jsonl) or make demo's samples.jsonl. Each --variant \
                (`name: key=value …`) is simulated beside the manifests as shipped; keys: \
                \(SimulationVariant.keys.map(\.0).joined(separator: ", ")). Capacity defaults come from \
                docs/benchmarks.md. With --out DIR, report.md, report.html and seconds.csv are written there.
                """)

        @Option(help: "Manifests: YAML files, directories, or kustomization directories (repeatable).")
        var manifests: [String] = []
        @Option(help: "synthetic:…, a request trace (.jsonl) or make demo's samples.jsonl.")
        var trace = "synthetic:"
        @Option(help: "Multiply every arrival by this factor.") var scale = 1.0
        @Option(
            help:
                "Seconds with no arrivals added before the trace (a recording starts late; the pre-scale window shows)."
        )
        var padBefore = 0
        @Option(help: "The second of the trace the sale opens at (default: found in the trace).") var openAt: Int?
        @Option(help: "A what-if, `name: key=value …` (repeatable).") var variant: [String] = []
        @Option(help: "Requests/s one gateway pod answers at the target latency.") var gatewayRps: Double?
        @Option(help: "Orders/s one worker confirms.") var workerOps: Double?
        @Option(help: "Requests an admitted shopper makes.") var requestsPerShopper: Double?
        @Option(help: "Units for sale (default: unlimited).") var stock: Double?
        @Option(help: "Seconds from a pod's creation to Ready (default: the manifests' annotation).")
        var podReady: Double?
        @Option(help: "Seconds each worker group change pauses consumption.") var rebalancePause: Double?
        @Option(help: "Write report.md, report.html and seconds.csv here.") var out: String?

        func run() throws {
            do {
                let yaml = try Self.read(manifests.isEmpty ? Self.defaultManifests : manifests)
                var model = SaleModel()
                let shipped = try SimulationConfiguration(
                    name: "as shipped", manifests: try Manifests(yaml: yaml), base: model)
                model = shipped.model
                if let gatewayRps { model.gatewayRequestsPerPod = gatewayRps }
                if let workerOps { model.workerOrdersPerPod = workerOps }
                if let requestsPerShopper { model.requestsPerAdmitted = requestsPerShopper }
                if let stock { model.stock = stock }
                if let podReady {
                    model.gatewayPodReadySeconds = podReady
                    model.workerPodReadySeconds = podReady
                }
                if let rebalancePause { model.rebalancePauseSeconds = rebalancePause }
                var base = shipped
                base.model = model
                var configurations = [base]
                for text in variant { configurations.append(try SimulationVariant(parsing: text).apply(to: base)) }
                let saleTrace = try loadTrace()
                let results = try configurations.map { c throws(ManifestError) in
                    try SaleSimulation(configuration: c, trace: saleTrace).run()
                }
                let report = SimulationReport(
                    results: results, sources: manifests.isEmpty ? Self.defaultManifests : manifests)
                for r in results { print("\(r.configuration): \(r.verdict.line)") }
                if let out {
                    let dir = URL(fileURLWithPath: out)
                    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                    try report.markdown.write(
                        to: dir.appendingPathComponent("report.md"), atomically: true, encoding: .utf8)
                    try report.html.write(
                        to: dir.appendingPathComponent("report.html"), atomically: true, encoding: .utf8)
                    try report.csv.write(
                        to: dir.appendingPathComponent("seconds.csv"), atomically: true, encoding: .utf8)
                    print("report: \(dir.appendingPathComponent("report.html").path)")
                }
            } catch let error as ManifestError {
                throw ValidationError(error.description)
            } catch let error as SaleTrace.Invalid {
                throw ValidationError(error.description)
            }
        }

        /// The autoscaling component with the production topics and the monitors.
        static let defaultManifests = [
            "k8s/components/autoscaling", "k8s/overlays/production/kafka-topics.yaml", "k8s/components/monitoring",
        ]

        func loadTrace() throws -> SaleTrace {
            var loaded: SaleTrace
            if trace.hasPrefix("synthetic:") {
                loaded = try SaleTrace.synthetic(spec: trace)
            } else {
                guard let text = try? String(contentsOfFile: trace, encoding: .utf8) else {
                    throw ValidationError("--trace \(trace): no such file (or synthetic:…)")
                }
                let name = URL(fileURLWithPath: trace).lastPathComponent
                let first = text.prefix { $0 != "\n" }
                loaded =
                    first.contains("\"gateway\"")
                    ? try SaleTrace.demoSamples(jsonl: text, name: name)
                    : try SaleTrace.requests(jsonl: text, name: name)
            }
            if let openAt {
                guard loaded.arrivals.indices.contains(openAt) else {
                    throw ValidationError("--open-at \(openAt) is outside the trace (0..<\(loaded.arrivals.count))")
                }
                loaded.openAt = openAt
            }
            if padBefore > 0 { loaded = loaded.padded(before: padBefore, perSecond: 0) }
            guard scale > 0 else { throw ValidationError("--scale must be above 0") }
            return loaded.scaled(by: scale)
        }

        /// The YAML of every path: a kustomization directory rendered, a directory's *.yaml, a file.
        static func read(_ paths: [String]) throws -> String {
            var texts: [String] = []
            for path in paths {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                    throw ValidationError("--manifests \(path): no such file or directory")
                }
                if !isDirectory.boolValue {
                    texts.append(try String(contentsOfFile: path, encoding: .utf8))
                    continue
                }
                let entries = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
                if entries.contains("kustomization.yaml") && !isComponent(path) {
                    texts.append(try kustomize(path))
                } else {
                    for entry in entries where entry.hasSuffix(".yaml") && entry != "kustomization.yaml" {
                        texts.append(try String(contentsOfFile: "\(path)/\(entry)", encoding: .utf8))
                    }
                }
            }
            return texts.joined(separator: "\n---\n")
        }

        /// A kustomize Component cannot be built alone: its files are read as they are.
        static func isComponent(_ path: String) -> Bool {
            (try? String(contentsOfFile: "\(path)/kustomization.yaml", encoding: .utf8))?.contains("kind: Component")
                ?? false
        }

        static func kustomize(_ path: String) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["kubectl", "kustomize", path]
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            let message = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw ValidationError(
                    "kubectl kustomize \(path) failed: \(String(decoding: message, as: UTF8.self))")
            }
            return String(decoding: data, as: UTF8.self)
        }
    }
}
