/// One autoscaled workload in the simulation: KEDA's activation (0 ↔ 1), the HPA KEDA creates, and
/// the pods, each Ready a fixed time after it is created.
struct ScaledWorkload: Sendable {
    let object: ScaledObject
    let podReadySeconds: Double
    private(set) var hpa: HorizontalPodAutoscaler
    /// When each pod becomes (became) Ready, oldest first.
    private(set) var pods: [Double]
    /// The last time any trigger was active (KEDA's cooldown counts from it).
    private var lastActive: Double = 0
    /// Trigger metrics as of KEDA's last poll (what the HPA reads when `useCachedMetrics` is set).
    private var cached: [ScaledObject.TriggerMetric] = []

    /// Starts with `replicas` Ready pods (the HPA's minimum unless given).
    init(_ object: ScaledObject, podReadySeconds: Double, globalTolerance: Double, replicas: Int? = nil) {
        self.object = object
        self.podReadySeconds = podReadySeconds
        hpa = HorizontalPodAutoscaler(spec: object.hpaSpec(globalTolerance: globalTolerance))
        pods = Array(repeating: -.infinity, count: replicas ?? max(object.minReplicaCount, 1))
    }

    var replicas: Int { pods.count }
    func ready(at t: Double) -> Int { pods.count { $0 <= t } }

    /// KEDA's poll at `t`: caches the metrics and does the 0 ↔ 1 step when `minReplicaCount` is 0.
    mutating func poll(at t: Double, metrics: [ScaledObject.TriggerMetric]) {
        cached = metrics
        let active = metrics.contains(where: \.active)
        if active { lastActive = t }
        guard object.minReplicaCount == 0 else { return }
        if active && pods.isEmpty {
            scale(to: 1, at: t)
        } else if !active && !pods.isEmpty && t - lastActive >= Double(object.cooldownPeriod) {
            scale(to: 0, at: t)
        }
    }

    /// The HPA's sync at `t` with the metrics read now (or KEDA's cached ones).
    mutating func sync(at t: Double, metrics live: [ScaledObject.TriggerMetric]) {
        let metrics = object.useCachedMetrics && !cached.isEmpty ? cached : live
        let proposals = ScaledObject.proposals(
            metrics, currentReplicas: replicas, readyPods: ready(at: t), tolerance: hpa.spec.tolerance)
        let desired = hpa.sync(now: t, currentReplicas: replicas, proposals: proposals)
        scale(to: desired, at: t)
    }

    /// New pods are Ready `podReadySeconds` after now; a scale-in removes pods not Ready yet first,
    /// then the newest.
    mutating func scale(to count: Int, at t: Double) {
        if count > pods.count {
            pods += Array(repeating: t + podReadySeconds, count: count - pods.count)
        } else if count < pods.count {
            pods.removeLast(pods.count - count)
        }
    }
}
