import Admission
import Credentials
import DealData
import Domain
import Foundation
import Gateway
import Infrastructure
import Logging
import OrderWorker
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// prometheus/ and grafana/ checked with promtool: the configuration and rules are valid, the alert
/// unit tests pass and cover every alert both ways, and every PromQL expression parses.
@Suite("Prometheus rules, configuration and Grafana dashboards (promtool)")
struct PrometheusRulesTests {
    static let root = TestStack.root

    @Test func promtoolIsInstalled() throws {
        let promtool = try Promtool.find()
        let version = try promtool.run(["--version"])
        #expect(version.status == 0, "\(version.output)")
        #expect(version.output.contains("version 2."), "\(version.output)")
    }

    @Test func configurationAndRuleFilesPassPromtoolChecks() throws {
        let promtool = try Promtool.find()
        let config = try promtool.run(["check", "config", "prometheus/prometheus.yml"])
        #expect(config.status == 0, "promtool check config:\n\(config.output)")
        #expect(config.output.contains("SUCCESS"), "\(config.output)")
        let rules = try promtool.run(["check", "rules"] + PromQLSources.ruleFiles)
        #expect(rules.status == 0, "promtool check rules:\n\(rules.output)")
        #expect(!rules.output.contains("FAILED"), "\(rules.output)")
    }

    static func testFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root + "/prometheus/tests")
            .filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }.sorted().map { "prometheus/tests/" + $0 }
    }

    @Test func alertUnitTestsPass() throws {
        let promtool = try Promtool.find()
        let files = try Self.testFiles()
        try #require(!files.isEmpty, "no promtool unit tests under prometheus/tests")
        let result = try promtool.run(["test", "rules"] + files)
        #expect(result.status == 0, "promtool test rules:\n\(result.output)")
        #expect(result.output.contains("SUCCESS") && !result.output.contains("FAILED"), "\(result.output)")
    }

    /// Each alert has a unit test where it fires and one where it stays silent.
    @Test func everyAlertIsTestedFiringAndSilent() throws {
        let rules = try String(contentsOfFile: Self.root + "/prometheus/rules/flashdeal-alerts.yml", encoding: .utf8)
        let alerts = rules.components(separatedBy: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("- alert:")
                ? trimmed.dropFirst("- alert:".count).trimmingCharacters(in: .whitespaces) : nil
        }
        try #require(alerts.count >= 6, "\(alerts)")
        var firing: Set<String> = []
        var silent: Set<String> = []
        for file in try Self.testFiles() {
            let lines = try String(contentsOfFile: Self.root + "/" + file, encoding: .utf8).components(
                separatedBy: "\n")
            for (i, line) in lines.enumerated() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard trimmed.hasPrefix("alertname:"), i + 1 < lines.count else { continue }
                let name = trimmed.dropFirst("alertname:".count).trimmingCharacters(in: .whitespaces)
                let next = lines[i + 1].trimmingCharacters(in: .whitespaces)
                if next == "exp_alerts: []" {
                    silent.insert(name)
                } else if next == "exp_alerts:" {
                    firing.insert(name)
                }
            }
        }
        for alert in alerts {
            #expect(firing.contains(alert), "no unit test where \(alert) fires")
            #expect(silent.contains(alert), "no unit test where \(alert) stays silent")
        }
    }

    @Test func everyRuleAndDashboardExpressionParses() throws {
        let promtool = try Promtool.find()
        let expressions = try PromQLSources.ruleExpressions() + PromQLSources.dashboardExpressions()
        try #require(expressions.count >= 50, "found only \(expressions.count) expressions")
        for expression in expressions {
            #expect(
                !expression.promQL.contains("$"),
                "a Grafana variable is left in \(expression.source): \(expression.promQL)")
            #expect(
                !expression.promQL.trimmingCharacters(in: .whitespaces).isEmpty,
                "empty expression in \(expression.source)")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "every-expression-\(UUID().uuidString).yml")
        try PromQLSources.rulesFile(for: expressions).write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try promtool.run(["check", "rules", file.path])
        // On failure promtool names the rule (check:expression_N); say where N comes from.
        let sources = expressions.enumerated().map {
            "check:expression_\($0.offset) = \($0.element.source): \($0.element.promQL)"
        }
        #expect(
            result.status == 0,
            "promtool could not parse every expression:\n\(result.output)\n\(sources.joined(separator: "\n"))")
        #expect(result.output.contains("SUCCESS: \(expressions.count) rules found"), "\(result.output)")
    }

    @Test func theMetricNameExtractorSeesMetricsOnly() {
        let names = PromQLSources.metricNames(
            in: """
                histogram_quantile(0.99, sum by (operation, le) (rate(a_seconds_bucket{outcome=~"ok|x_total",le="0.5"}[5m] offset 1h)))
                / on (operation) group_left sum without (instance) (b_total) > 1e3 and c:recorded:ratio_rate5m or vector(0)
                """)
        #expect(names == ["a_seconds_bucket", "b_total", "c:recorded:ratio_rate5m"], "\(names)")
    }

    @Test func dashboardsAndProvisioningAreWellFormed() throws {
        var uids: Set<String> = []
        for file in PromQLSources.dashboards {
            let data = try Data(contentsOf: URL(fileURLWithPath: Self.root + "/" + file))
            let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(file)")
            let uid = try #require(dashboard["uid"] as? String, "\(file) has no uid")
            #expect(uids.insert(uid).inserted, "uid \(uid) used twice")
            #expect((dashboard["title"] as? String)?.isEmpty == false, "\(file) has no title")
            let panels = try #require(dashboard["panels"] as? [[String: Any]], "\(file) has no panels")
            var ids: Set<Int> = []
            for panel in panels {
                let id = try #require(panel["id"] as? Int, "\(file): a panel without id")
                #expect(ids.insert(id).inserted, "\(file): panel id \(id) used twice")
                let grid = try #require(panel["gridPos"] as? [String: Int], "\(file): panel \(id) has no gridPos")
                #expect((grid["x"] ?? 0) + (grid["w"] ?? 0) <= 24, "\(file): panel \(id) is wider than the grid")
                if panel["type"] as? String == "row" { continue }
                let targets = try #require(panel["targets"] as? [[String: Any]], "\(file): panel \(id) has no targets")
                #expect(!targets.isEmpty, "\(file): panel \(id) (\(panel["title"] ?? "")) queries nothing")
                for target in targets {
                    #expect(target["expr"] is String, "\(file): panel \(id) has a target without expr")
                    #expect(
                        (target["datasource"] as? [String: String])?["type"] == "prometheus", "\(file): panel \(id)")
                }
            }
        }
        #expect(uids == ["flashdeal-hot-path", "flashdeal-slo"])
        for file in [
            "grafana/provisioning/datasources/prometheus.yaml", "grafana/provisioning/dashboards/flashdeal.yaml",
        ] {
            let text = try String(contentsOfFile: Self.root + "/" + file, encoding: .utf8)
            #expect(text.contains("apiVersion: 1"), "\(file)")
        }
    }
}
