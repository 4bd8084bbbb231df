import Foundation
import Testing

@testable import Autoscaling

/// The simulator reads the project's own manifests, as they are in `k8s/`.
@Suite struct ManifestSimulationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let files = [
        "k8s/components/autoscaling/scaledobject-gateway.yaml",
        "k8s/components/autoscaling/scaledobject-order-worker.yaml",
        "k8s/overlays/production/kafka-topics.yaml",
        "k8s/components/monitoring/servicemonitor-gateway.yaml",
        "k8s/components/monitoring/podmonitor-order-worker.yaml",
    ]

    static func text() throws -> String {
        try files.map { try String(contentsOf: root.appendingPathComponent($0), encoding: .utf8) }
            .joined(separator: "\n---\n")
    }

    static func simulate(_ yaml: String, peak: Double = 2_000, decay: Double = 180) throws -> SimulationResult {
        let configuration = try SimulationConfiguration(name: "k8s", manifests: try Manifests(yaml: yaml))
        let trace = try SaleTrace.synthetic(
            base: 20, multiplier: peak / 20, decaySeconds: decay, before: 1_200, after: 1_800)
        return try SaleSimulation(configuration: configuration, trace: trace).run()
    }

    @Test func theManifestsNumbersAreWhatTheSimulatorRuns() throws {
        let manifests = try Manifests(yaml: try Self.text())
        let configuration = try SimulationConfiguration(name: "k8s", manifests: manifests)
        #expect(configuration.model.partitions == 24)
        #expect(configuration.model.scrapeIntervalSeconds == 5)
        #expect(configuration.model.saleStartMinuteOfDay == 12 * 60)
        #expect(configuration.model.workerPodReadySeconds == 120)
        let worker = configuration.worker
        #expect(worker.minReplicaCount == 2 && worker.maxReplicaCount == 24)
        #expect(worker.behavior?.scaleUp.policies.first == .init(.pods, 12, periodSeconds: 15))
        #expect(worker.behavior?.scaleDown.stabilizationWindowSeconds == 600)
        guard case .kafka(_, let lag) = worker.triggers.first else {
            Issue.record("the worker's first trigger is not kafka: \(worker.triggers)")
            return
        }
        #expect(lag.lagThreshold == 5_000 && lag.limitToPartitionsWithLag && !lag.allowIdleConsumers)
        let gatewaySignals = configuration.gateway.triggers.compactMap { t -> PrometheusTrigger.Signal? in
            if case .prometheus(_, let p) = t { p.signal } else { nil }
        }
        #expect(gatewaySignals == [.requestRate(window: 60), .waitingShoppers])
    }

    /// Changing one number in `k8s/` changes the result: the simulator runs the files, not a copy.
    @Test func changingAThresholdInTheManifestsChangesTheResult() throws {
        let text = try Self.text()
        // 8,000 shoppers/s at the opening, decaying slowly: more orders, for longer, than the
        // sale-window floor of workers drains.
        let busy = try Self.simulate(text, peak: 8_000, decay: 900)
        #expect(busy.verdict.peakWorkerReady == 24)
        let raised = text.replacingOccurrences(of: "lagThreshold: \"5000\"", with: "lagThreshold: \"5000000\"")
        #expect(raised != text)
        let changed = try Self.simulate(raised, peak: 8_000, decay: 900)
        #expect(changed.verdict.peakWorkerReady == 6, "the cron floor only")
        #expect(changed.verdict.peakLag > busy.verdict.peakLag * 1.5)

        let shipped = try Self.simulate(text)
        let noFloor = text.replacingOccurrences(of: "desiredReplicas: \"12\"", with: "desiredReplicas: \"2\"")
        #expect(noFloor != text)
        #expect(try Self.simulate(noFloor).verdict.secondsUnderCapacity > shipped.verdict.secondsUnderCapacity)
    }

    @Test func aTriggerTheSimulatorCannotModelIsAnErrorThatNamesIt() throws {
        let text = try Self.text().replacingOccurrences(
            of: "flashdeal_waitingroom_waiting{namespace=\"flashdeal\"}", with: "some_other_gauge")
        #expect {
            _ = try Manifests(yaml: text)
        } throws: { error in
            "\(error)".contains("waiting-room-depth") && "\(error)".contains("some_other_gauge")
        }
    }

    @Test func recordedTracesAreRead() throws {
        let requests = try String(
            contentsOf: Self.root.appendingPathComponent("policies/traces/flash-sale-spike.jsonl"), encoding: .utf8)
        let trace = try SaleTrace.requests(jsonl: requests, name: "spike")
        #expect(trace.arrivals.count == 60)
        #expect((20...21).contains(trace.openAt), "opening at \(trace.openAt)")
        // A make demo samples file: counters per scrape, a reset when a gateway restarts.
        let samples = """
            {"t":100.0,"gateway":{"flashdeal_waitingroom_joins_total{deal=\\"d\\"}":0},"worker":null}
            {"t":101.0,"gateway":{"flashdeal_waitingroom_joins_total{deal=\\"d\\"}":40},"worker":null}
            {"t":102.0,"gateway":null,"worker":null}
            {"t":103.0,"gateway":{"flashdeal_waitingroom_joins_total{deal=\\"d\\"}":400},"worker":null}
            {"t":104.0,"gateway":{"flashdeal_waitingroom_joins_total{deal=\\"d\\"}":30},"worker":null}
            """
        let demo = try SaleTrace.demoSamples(jsonl: samples, name: "demo")
        #expect(demo.arrivals == [0, 40, 0, 360, 30])
        #expect(demo.openAt == 3)
        #expect(demo.scaled(by: 10).arrivals == [0, 400, 0, 3_600, 300])
        let padded = demo.padded(before: 2, perSecond: 0)
        #expect(padded.arrivals == [0, 0, 0, 40, 0, 360, 30] && padded.openAt == 5)
    }
}
