/// One HorizontalPodAutoscaler as the controller runs it (`pkg/controller/podautoscaler/horizontal.go`):
/// each sync takes the largest metric proposal, stabilizes it, limits it by the scaling policies and
/// clamps it to [min, max]. Times are seconds on the simulation's clock.
public struct HorizontalPodAutoscaler: Sendable {
    public struct Spec: Sendable, Equatable {
        public var minReplicas: Int
        public var maxReplicas: Int
        /// nil: the legacy path (KEDA passes nil unless the ScaledObject sets a behavior).
        public var behavior: HPABehavior?
        /// `--horizontal-pod-autoscaler-tolerance`, for a direction whose behavior sets none.
        public var globalTolerance: Double
        /// `--horizontal-pod-autoscaler-downscale-stabilization`, the legacy path's window.
        public var downscaleStabilizationSeconds: Int

        public init(
            minReplicas: Int, maxReplicas: Int, behavior: HPABehavior?, globalTolerance: Double = 0.1,
            downscaleStabilizationSeconds: Int = 300
        ) {
            self.minReplicas = minReplicas
            self.maxReplicas = maxReplicas
            self.behavior = behavior
            self.globalTolerance = globalTolerance
            self.downscaleStabilizationSeconds = downscaleStabilizationSeconds
        }

        /// The band the metric proposals use: per direction when the behavior sets one.
        public var tolerance: Tolerance {
            Tolerance(
                scaleUp: behavior?.scaleUp.tolerance ?? globalTolerance,
                scaleDown: behavior?.scaleDown.tolerance ?? globalTolerance)
        }
    }

    struct Recommendation: Sendable {
        var time: Double
        var replicas: Int
    }

    struct ScaleEvent: Sendable {
        var time: Double
        var change: Int
    }

    public let spec: Spec
    private var recommendations: [Recommendation] = []
    private var upEvents: [ScaleEvent] = []
    private var downEvents: [ScaleEvent] = []
    private var seeded = false

    public init(spec: Spec) { self.spec = spec }

    /// One sync at `now`: the replicas the controller writes to `scale.spec.replicas`.
    ///
    /// `proposals` holds one entry per metric, nil for a metric that could not be read. A workload at
    /// zero replicas with `minReplicas` above zero is not autoscaled (returned unchanged).
    public mutating func sync(now: Double, currentReplicas current: Int, proposals: [Int?]) -> Int {
        if current == 0 && spec.minReplicas != 0 { return 0 }
        // A new HPA (or a restarted controller) starts its history with the current count, so the
        // first sync cannot scale down past the stabilization window.
        if !seeded {
            recommendations.append(Recommendation(time: now, replicas: current))
            seeded = true
        }
        let desired: Int
        if current > spec.maxReplicas {
            desired = spec.maxReplicas
        } else if current < spec.minReplicas {
            desired = spec.minReplicas
        } else {
            let valid = proposals.compactMap { $0 }
            guard let largest = valid.max() else { return current }
            // Some metrics unreadable and the others would scale down: hold.
            if valid.count < proposals.count && largest < current { return current }
            desired =
                if let behavior = spec.behavior {
                    normalizeWithBehavior(behavior, now: now, current: current, desired: largest)
                } else {
                    normalizeLegacy(now: now, current: current, desired: largest)
                }
        }
        if desired != current, spec.behavior != nil { storeScaleEvent(now: now, from: current, to: desired) }
        return desired
    }

    // MARK: With a behavior

    private mutating func normalizeWithBehavior(_ behavior: HPABehavior, now: Double, current: Int, desired: Int)
        -> Int
    {
        let stabilized = stabilize(behavior, now: now, current: current, desired: desired)
        if stabilized > current {
            let limit = max(scaleUpLimit(behavior.scaleUp, now: now, current: current), current)
            return min(stabilized, spec.maxReplicas, limit)
        }
        if stabilized < current {
            let limit = min(scaleDownLimit(behavior.scaleDown, now: now, current: current), current)
            return max(stabilized, spec.minReplicas, limit)
        }
        return stabilized
    }

    /// `stabilizeRecommendationWithBehaviors`: the lowest recommendation of the scale-up window and
    /// the highest of the scale-down window bound the current count; then the raw proposal is kept.
    private mutating func stabilize(_ behavior: HPABehavior, now: Double, current: Int, desired: Int) -> Int {
        let upCutoff = now - Double(behavior.scaleUp.stabilizationWindowSeconds)
        let downCutoff = now - Double(behavior.scaleDown.stabilizationWindowSeconds)
        var up = desired
        var down = desired
        for r in recommendations {
            if r.time > upCutoff { up = min(up, r.replicas) }
            if r.time > downCutoff { down = max(down, r.replicas) }
        }
        var recommendation = current
        if recommendation < up { recommendation = up }
        if recommendation > down { recommendation = down }
        let oldest = min(upCutoff, downCutoff)
        recommendations.removeAll { $0.time < oldest }
        recommendations.append(Recommendation(time: now, replicas: desired))
        return recommendation
    }

    /// Replicas added (or removed) by the events strictly inside the last `period` seconds.
    private func change(_ events: [ScaleEvent], period: Int, now: Double) -> Int {
        events.reduce(0) { $0 + ($1.time > now - Double(period) ? $1.change : 0) }
    }

    /// The replicas at the start of `policy`'s period: what the scale events inside it changed, undone.
    private func periodStart(_ policy: ScalingRules.Policy, now: Double, current: Int) -> Int {
        current - change(upEvents, period: policy.periodSeconds, now: now)
            + change(downEvents, period: policy.periodSeconds, now: now)
    }

    /// `calculateScaleUpLimitWithScalingRules`.
    func scaleUpLimit(_ rules: ScalingRules, now: Double, current: Int) -> Int {
        if rules.selectPolicy == .disabled { return current }
        var result = rules.selectPolicy == .min ? Int.max : Int.min
        for policy in rules.policies {
            let periodStart = periodStart(policy, now: now, current: current)
            let proposed =
                switch policy.kind {
                case .pods: periodStart + policy.value
                case .percent: Int((Double(periodStart) * (1 + Double(policy.value) / 100)).rounded(.up))
                }
            result = rules.selectPolicy == .min ? min(result, proposed) : max(result, proposed)
        }
        return result
    }

    /// `calculateScaleDownLimitWithBehaviors` (a Percent policy truncates).
    func scaleDownLimit(_ rules: ScalingRules, now: Double, current: Int) -> Int {
        if rules.selectPolicy == .disabled { return current }
        var result = rules.selectPolicy == .min ? Int.min : Int.max
        for policy in rules.policies {
            let periodStart = periodStart(policy, now: now, current: current)
            let proposed =
                switch policy.kind {
                case .pods: periodStart - policy.value
                case .percent: Int((Double(periodStart) * (1 - Double(policy.value) / 100)).rounded(.towardZero))
                }
            result = rules.selectPolicy == .min ? max(result, proposed) : min(result, proposed)
        }
        return result
    }

    private mutating func storeScaleEvent(now: Double, from current: Int, to desired: Int) {
        guard let behavior = spec.behavior else { return }
        if desired > current {
            upEvents.removeAll { $0.time <= now - Double(behavior.scaleUp.longestPeriod) }
            upEvents.append(ScaleEvent(time: now, change: desired - current))
        } else {
            downEvents.removeAll { $0.time <= now - Double(behavior.scaleDown.longestPeriod) }
            downEvents.append(ScaleEvent(time: now, change: current - desired))
        }
    }

    // MARK: Legacy (no behavior)

    /// `normalizeDesiredReplicas`: the highest recommendation of the downscale window, then at most
    /// `max(2 × current, 4)` and [min, max].
    private mutating func normalizeLegacy(now: Double, current: Int, desired: Int) -> Int {
        let cutoff = now - Double(spec.downscaleStabilizationSeconds)
        var stabilized = desired
        for r in recommendations where r.time >= cutoff { stabilized = max(stabilized, r.replicas) }
        recommendations.removeAll { $0.time < cutoff }
        recommendations.append(Recommendation(time: now, replicas: desired))
        let upLimit = max(2 * current, 4)
        let maximum = min(spec.maxReplicas, upLimit)
        if stabilized < spec.minReplicas { return spec.minReplicas }
        if stabilized > maximum { return maximum }
        return stabilized
    }
}
