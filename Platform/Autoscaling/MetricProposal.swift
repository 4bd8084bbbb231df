/// The replica count one metric proposes, as `replica_calculator.go` computes it.
///
/// Values are converted to milli-units the way the metrics APIs carry them (`resource.Quantity`'s
/// `MilliValue`), so rounding matches the controller's.
public enum MetricProposal {
    /// A metric value as the metrics API hands it over: truncated to milli-units
    /// (KEDA's `GenerateMetricInMili`: `int64(value * 1000)`).
    static func milli(_ value: Double) -> Int64 { Int64((value * 1_000).rounded(.towardZero)) }

    /// External (and Object) metric, target `AverageValue` — KEDA's default for every trigger.
    /// `GetExternalPerPodMetricReplicas`: the ratio uses the pods the workload has (`status.replicas`),
    /// the proposal does not: `ceil(sum / target)`.
    public static func externalAverageValue(
        values: [Double], target: Double, statusReplicas: Int, tolerance: Tolerance
    ) -> Int {
        let usage = values.reduce(Int64(0)) { $0 + milli($1) }
        let targetMilli = milli(target)
        let ratio = Double(usage) / (Double(targetMilli) * Double(statusReplicas))
        guard !tolerance.isWithin(ratio) else { return statusReplicas }
        return Int((Double(usage) / Double(targetMilli)).rounded(.up))
    }

    /// External (and Object) metric, target `Value`: `ceil(ratio × Ready pods)`; from zero replicas
    /// `ceil(ratio)` with no tolerance (`getUsageRatioReplicaCount`).
    public static func externalValue(
        values: [Double], target: Double, currentReplicas: Int, readyPods: Int, tolerance: Tolerance
    ) -> Int {
        let usage = values.reduce(Int64(0)) { $0 + milli($1) }
        let ratio = Double(usage) / Double(milli(target))
        guard currentReplicas != 0 else { return Int(ratio.rounded(.up)) }
        guard !tolerance.isWithin(ratio) else { return currentReplicas }
        return Int((ratio * Double(readyPods)).rounded(.up))
    }

    /// The pods of a workload as the `Pods` and `Resource` proposals see them.
    public struct PodSample: Sendable, Equatable {
        /// The metric of each Ready pod that reports one (for `Resource`: usage, in the request's unit).
        public var values: [Double]
        /// Pods not Ready yet (Pending, starting): no usable sample.
        public var unready: Int
        /// Ready pods without a sample.
        public var missing: Int

        public init(values: [Double], unready: Int = 0, missing: Int = 0) {
            self.values = values
            self.unready = unready
            self.missing = missing
        }
    }

    /// `Pods` metric, target `AverageValue` (`calcPlainMetricReplicas`). Nil when no pod reports.
    public static func pods(_ sample: PodSample, target: Double, currentReplicas: Int, tolerance: Tolerance) -> Int? {
        guard !sample.values.isEmpty else { return nil }
        let target = milli(target)
        // `GetMetricUsageRatio`: the average is an integer division of milli-values.
        let ratio = { (values: [Int64]) in Double(values.reduce(0, +) / Int64(values.count)) / Double(target) }
        return corrected(
            values: sample.values.map(milli), sample: sample, ratio: ratio, missingOnScaleDown: target,
            currentReplicas: currentReplicas, tolerance: tolerance)
    }

    /// `Resource` metric (e.g. cpu), target `Utilization` in percent of the request: the utilization
    /// is an integer percent of the summed requests (`GetResourceUtilizationRatio`); a missing pod
    /// counts as `max(100, target)` percent on a scale-down. Nil when no pod reports.
    public static func resourceUtilization(
        _ sample: PodSample, requestPerPod: Double, targetPercent: Int, currentReplicas: Int, tolerance: Tolerance
    ) -> Int? {
        guard !sample.values.isEmpty, requestPerPod > 0, targetPercent > 0 else { return nil }
        let request = milli(requestPerPod)
        let ratio = { (values: [Int64]) in
            let percent = values.reduce(0, +) * 100 / (request * Int64(values.count))
            return Double(percent) / Double(targetPercent)
        }
        return corrected(
            values: sample.values.map(milli), sample: sample, ratio: ratio,
            missingOnScaleDown: request * Int64(max(100, targetPercent)) / 100,
            currentReplicas: currentReplicas, tolerance: tolerance)
    }

    /// The common part of the two per-pod proposals: unready pods count as 0 on a scale-up, missing
    /// pods as 0 on a scale-up and as the target on a scale-down; a corrected ratio that falls back
    /// within the band or flips direction keeps the current count.
    private static func corrected(
        values: [Int64], sample: PodSample, ratio: ([Int64]) -> Double, missingOnScaleDown: Int64,
        currentReplicas: Int, tolerance: Tolerance
    ) -> Int {
        let first = ratio(values)
        let scaleUpWithUnready = sample.unready > 0 && first > 1
        if !scaleUpWithUnready && sample.missing == 0 {
            guard !tolerance.isWithin(first) else { return currentReplicas }
            return Int((first * Double(values.count)).rounded(.up))
        }
        var all = values
        if sample.missing > 0 {
            all += Array(repeating: first < 1 ? missingOnScaleDown : 0, count: sample.missing)
        }
        if scaleUpWithUnready { all += Array(repeating: 0, count: sample.unready) }
        let second = ratio(all)
        if tolerance.isWithin(second) || (first > 1 && second < 1) || (first < 1 && second > 1) {
            return currentReplicas
        }
        let proposal = Int((second * Double(all.count)).rounded(.up))
        if (second < 1 && proposal > currentReplicas) || (second > 1 && proposal < currentReplicas) {
            return currentReplicas
        }
        return proposal
    }
}
