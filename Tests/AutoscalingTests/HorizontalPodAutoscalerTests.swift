import Testing

@testable import Autoscaling

/// Worked cases of the HPA controller's arithmetic (`horizontal.go`, `replica_calculator.go`).
@Suite struct HorizontalPodAutoscalerTests {
    /// Syncs every 15 s from t = 0 with the same proposal; the replicas after each.
    func run(_ hpa: inout HorizontalPodAutoscaler, from start: Int, proposal: Int, syncs: Int) -> [Int] {
        var current = start
        return (0..<syncs).map { i in
            current = hpa.sync(now: Double(i * 15), currentReplicas: current, proposals: [proposal])
            return current
        }
    }

    @Test func theDefaultBehaviorDoublesOrAddsFourPodsPerSync() {
        var hpa = HorizontalPodAutoscaler(spec: .init(minReplicas: 1, maxReplicas: 100, behavior: HPABehavior()))
        #expect(run(&hpa, from: 2, proposal: 1_000, syncs: 4) == [6, 12, 24, 48])
    }

    @Test func scaleDownWaitsForTheStabilizationWindow() {
        var hpa = HorizontalPodAutoscaler(spec: .init(minReplicas: 1, maxReplicas: 100, behavior: HPABehavior()))
        let replicas = run(&hpa, from: 10, proposal: 2, syncs: 22)
        // The window is 300 s: the history holds 10 until a sync at t = 300 no longer sees it.
        #expect(replicas.prefix(20).allSatisfy { $0 == 10 }, "\(replicas)")
        #expect(replicas[20] == 2, "\(replicas)")
    }

    @Test func scaleDownPoliciesLimitEachPeriod() {
        let down = ScalingRules(
            stabilizationWindowSeconds: 0, selectPolicy: .min,
            policies: [.init(.percent, 10, periodSeconds: 60), .init(.pods, 2, periodSeconds: 60)])
        var hpa = HorizontalPodAutoscaler(
            spec: .init(minReplicas: 1, maxReplicas: 100, behavior: HPABehavior(scaleDown: down)))
        // Min of the changes: 10 % of 30 (truncated: 27) vs 2 pods (28) -> the smaller change, 28;
        // nothing more until 60 s after that step.
        let replicas = run(&hpa, from: 30, proposal: 1, syncs: 6)
        #expect(replicas == [28, 28, 28, 28, 26, 26], "\(replicas)")
    }

    @Test func selectPolicyMinTakesTheSmallerStepAndDisabledNone() {
        var up = ScalingRules.defaultScaleUp
        up.selectPolicy = .min
        var hpa = HorizontalPodAutoscaler(
            spec: .init(minReplicas: 1, maxReplicas: 100, behavior: HPABehavior(scaleUp: up)))
        // From 2: Pods 4 -> 6, Percent 100 -> 4; Min picks 4, then 8 (Percent), then 12 (Pods).
        #expect(run(&hpa, from: 2, proposal: 1_000, syncs: 3) == [4, 8, 12])

        up.selectPolicy = .disabled
        var disabled = HorizontalPodAutoscaler(
            spec: .init(minReplicas: 1, maxReplicas: 100, behavior: HPABehavior(scaleUp: up)))
        #expect(run(&disabled, from: 2, proposal: 1_000, syncs: 3) == [2, 2, 2])
    }

    @Test func withoutABehaviorTheLegacyLimitIsDoubleOrFour() {
        var hpa = HorizontalPodAutoscaler(spec: .init(minReplicas: 1, maxReplicas: 40, behavior: nil))
        #expect(run(&hpa, from: 1, proposal: 1_000, syncs: 5) == [4, 8, 16, 32, 40])
        // Down: the highest recommendation of the last 300 s holds — including one exactly 300 s old
        // (the legacy path drops only those before the cutoff; the behavior path those not after it).
        var fresh = HorizontalPodAutoscaler(spec: .init(minReplicas: 1, maxReplicas: 40, behavior: nil))
        let down = run(&fresh, from: 40, proposal: 3, syncs: 23)
        #expect(down.prefix(21).allSatisfy { $0 == 40 } && down[21] == 3, "\(down)")
    }

    @Test func minAndMaxApplyBeforeAnyMetric() {
        var hpa = HorizontalPodAutoscaler(spec: .init(minReplicas: 3, maxReplicas: 5, behavior: HPABehavior()))
        #expect(hpa.sync(now: 0, currentReplicas: 1, proposals: [1]) == 3)
        #expect(hpa.sync(now: 15, currentReplicas: 9, proposals: [9]) == 5)
        // Zero replicas with min above zero: autoscaling is off for the workload.
        #expect(hpa.sync(now: 30, currentReplicas: 0, proposals: [9]) == 0)
    }

    @Test func anUnreadableMetricBlocksAScaleDownNotAScaleUp() {
        var hpa = HorizontalPodAutoscaler(
            spec: .init(
                minReplicas: 1, maxReplicas: 50,
                behavior: HPABehavior(
                    scaleDown: .init(
                        stabilizationWindowSeconds: 0, selectPolicy: .max,
                        policies: [.init(.percent, 100, periodSeconds: 15)]))))
        #expect(hpa.sync(now: 0, currentReplicas: 10, proposals: [2, nil]) == 10)
        #expect(hpa.sync(now: 15, currentReplicas: 10, proposals: [20, nil]) == 20)
        #expect(hpa.sync(now: 30, currentReplicas: 20, proposals: [nil]) == 20)
    }
}

/// Per-metric proposals.
@Suite struct MetricProposalTests {
    let tolerance = Tolerance()

    @Test func externalAverageValueProposesCeilOfTheSumOverTheTarget() {
        // 10,001 / 1,000 -> 11, whatever the current count (it only enters the band).
        #expect(
            MetricProposal.externalAverageValue(
                values: [10_001], target: 1_000, statusReplicas: 2, tolerance: tolerance) == 11)
        // Within 10 %: 10,500 over 10 replicas of 1,000 is a ratio of 1.05.
        #expect(
            MetricProposal.externalAverageValue(
                values: [10_500], target: 1_000, statusReplicas: 10, tolerance: tolerance) == 10)
        #expect(
            MetricProposal.externalAverageValue(
                values: [10_500], target: 1_000, statusReplicas: 10, tolerance: Tolerance(scaleUp: 0))
                == 11)
    }

    @Test func externalValueMultipliesTheReadyPods() {
        #expect(
            MetricProposal.externalValue(
                values: [300], target: 100, currentReplicas: 4, readyPods: 2, tolerance: tolerance) == 6)
        // From zero: ceil(ratio), no band.
        #expect(
            MetricProposal.externalValue(
                values: [105], target: 100, currentReplicas: 0, readyPods: 0, tolerance: tolerance) == 2)
    }

    @Test func podsCountUnreadyPodsAsZeroOnAScaleUp() {
        // Two Ready pods at 200 (target 100): ratio 2; with two unready pods at 0, 200 * 2 / 4 = 100 -> within the band.
        let sample = MetricProposal.PodSample(values: [200, 200], unready: 2)
        #expect(MetricProposal.pods(sample, target: 100, currentReplicas: 4, tolerance: tolerance) == 4)
        // Three Ready pods at 200 and one unready: 600 / 4 = 150 -> ceil(1.5 * 4) = 6.
        let three = MetricProposal.PodSample(values: [200, 200, 200], unready: 1)
        #expect(MetricProposal.pods(three, target: 100, currentReplicas: 4, tolerance: tolerance) == 6)
        #expect(MetricProposal.pods(.init(values: []), target: 100, currentReplicas: 4, tolerance: tolerance) == nil)
    }

    @Test func resourceUtilizationIsAnIntegerPercentAndMissingPodsCountAsFullOnAScaleDown() {
        // Usage 0.35 and 0.35 cores of 1-core requests: 35 % against 70 % -> ratio 0.5 -> 1 pod.
        let two = MetricProposal.PodSample(values: [0.35, 0.35])
        #expect(
            MetricProposal.resourceUtilization(
                two, requestPerPod: 1, targetPercent: 70, currentReplicas: 2, tolerance: tolerance) == 1)
        // A missing third pod counts as 100 % on the way down: (35 + 35 + 100) / 3 = 56 % -> ratio 0.8 -> ceil(2.4) = 3.
        let missing = MetricProposal.PodSample(values: [0.35, 0.35], missing: 1)
        #expect(
            MetricProposal.resourceUtilization(
                missing, requestPerPod: 1, targetPercent: 70, currentReplicas: 3, tolerance: tolerance)
                == 3)
    }
}
