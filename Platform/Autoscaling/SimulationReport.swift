import Foundation

/// The simulator's report: configurations side by side, a verdict line each, and per-second charts
/// (Markdown, self-contained HTML with inline SVG, and a CSV of every second).
public struct SimulationReport: Sendable {
    public var results: [SimulationResult]
    /// Where the manifests came from (shown in the report).
    public var sources: [String]

    public init(results: [SimulationResult], sources: [String]) {
        self.results = results
        self.sources = sources
    }

    var trace: String { results.first?.trace ?? "" }

    public var markdown: String {
        var lines = [
            "# Autoscaling simulation", "",
            "Trace: \(trace). Manifests: \(sources.map { "`\($0)`" }.joined(separator: ", ")).",
            "Written by `flashdeal autoscale simulate`; times are seconds from the opening.", "",
            "| configuration | min under capacity | peak wait (s) | wait p50 / p95 (s) | peak waiting | peak lag | min workers behind | shed requests | gateway pods (peak Ready) | workers (peak Ready) | pod-minutes |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in results {
            let v = r.verdict
            lines.append(
                "| \(r.configuration) | \(fmt(Double(v.secondsUnderCapacity) / 60, 1)) | \(v.peakWaitSeconds) | "
                    + "\(v.waitP50Seconds) / \(v.waitP95Seconds) | \(fmt(v.peakWaiting, 0)) | \(fmt(v.peakLag, 0)) | "
                    + "\(fmt(Double(v.secondsWorkersBehind) / 60, 1)) | "
                    + "\(fmt(v.shed, 0)) | \(v.peakGatewayReady) | \(v.peakWorkerReady) | "
                    + "\(fmt(v.gatewayPodMinutes + v.workerPodMinutes, 0)) |")
        }
        lines += ["", "## Verdicts", ""]
        lines += results.map { "- **\($0.configuration)**: \($0.verdict.line)." }
        lines += ["", "## Model", ""]
        if let m = results.first?.model {
            lines += [
                "- Capacity per pod: gateway \(fmt(m.gatewayRequestsPerPod, 0)) requests/s, worker "
                    + "\(fmt(m.workerOrdersPerPod, 0)) orders/s; a waiting shopper polls as the gateway's pollAfterMs "
                    + "tells it (a quarter of its ETA, 0.25-10 s), an admitted one makes \(fmt(m.requestsPerAdmitted, 1)) requests "
                    + "and \(fmt(m.ordersPerAdmitted, 1)) order\(m.stock.map { "; stock \(fmt($0, 0))" } ?? "").",
                "- Pods Ready \(fmt(m.gatewayPodReadySeconds, 0)) s (gateway) / \(fmt(m.workerPodReadySeconds, 0)) s "
                    + "(worker) after creation; every worker group change pauses consumption "
                    + "\(fmt(m.rebalancePauseSeconds, 1)) s; HPA sync \(m.hpaSyncSeconds) s; Prometheus scrape "
                    + "\(m.scrapeIntervalSeconds) s.",
            ]
        }
        lines += ["", "## Timelines (every 60 s)", ""]
        for r in results {
            lines += [
                "### \(r.configuration)", "",
                "| t (s) | arrivals/s | admitted/s | gateway load / capacity (req/s) | waiting | wait p95 (s) | lag | gateways desired / Ready | workers desired / Ready |",
                "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            ]
            for s in r.samples where (s.second - r.openAt) % 60 == 0 {
                lines.append(
                    "| \(s.second - r.openAt) | \(fmt(s.arrivals, 0)) | \(fmt(s.admitted, 0)) | "
                        + "\(fmt(s.gatewayLoad, 0)) / \(fmt(s.gatewayCapacity, 0)) | \(fmt(s.waiting, 0)) | "
                        + "\(s.waitP95.map { fmt($0, 0) } ?? "–") | \(fmt(s.lag, 0)) | \(s.gatewayDesired) / \(s.gatewayReady) | "
                        + "\(s.workerDesired) / \(s.workerReady) |")
            }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    public var csv: String {
        var lines = [
            "configuration,t,arrivals,admitted,gateway_load,gateway_capacity,shed,waiting,wait_p50,wait_p95,lag,consumed,"
                + "worker_capacity,gateway_desired,gateway_ready,worker_desired,worker_ready"
        ]
        for r in results {
            let name = "\"\(r.configuration.replacingOccurrences(of: "\"", with: "\"\""))\""
            for s in r.samples {
                let fields: [String] = [
                    name, String(s.second - r.openAt), csvNumber(s.arrivals), csvNumber(s.admitted),
                    csvNumber(s.gatewayLoad), csvNumber(s.gatewayCapacity), csvNumber(s.shed), csvNumber(s.waiting),
                    s.waitP50.map(csvNumber) ?? "", s.waitP95.map(csvNumber) ?? "", csvNumber(s.lag),
                    csvNumber(s.consumed), csvNumber(s.workerCapacity), String(s.gatewayDesired),
                    String(s.gatewayReady), String(s.workerDesired), String(s.workerReady),
                ]
                lines.append(fields.joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func csvNumber(_ v: Double) -> String { fmt(v, 2) }
}
