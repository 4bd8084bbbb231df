/// A KEDA ScaledObject as the simulator runs it: its triggers, and the HPA KEDA creates from it
/// (`minReplicas = max(minReplicaCount, 1)`, `maxReplicas = maxReplicaCount`, the behavior copied).
public struct ScaledObject: Sendable, Equatable {
    public enum Trigger: Sendable, Equatable {
        case kafka(name: String, KafkaLagTrigger)
        case prometheus(name: String, PrometheusTrigger)
        case cron(name: String, CronFloorTrigger)

        public var name: String {
            switch self {
            case .kafka(let name, _), .prometheus(let name, _), .cron(let name, _): name
            }
        }
    }

    public var name: String
    /// The workload it scales (`scaleTargetRef.name`).
    public var target: String
    public var pollingInterval: Int
    /// Only the 1 → 0 step waits for it.
    public var cooldownPeriod: Int
    public var useCachedMetrics: Bool
    public var minReplicaCount: Int
    public var maxReplicaCount: Int
    public var behavior: HPABehavior?
    public var triggers: [Trigger]
    /// `flashdeal.io/sale-start` (`HH:MM` in the cron triggers' timezone): the opening the cron
    /// window is for. nil when the manifest does not say.
    public var saleStartMinuteOfDay: Int?
    /// `flashdeal.io/pod-ready-seconds`.
    public var podReadySeconds: Int?

    public init(
        name: String, target: String, pollingInterval: Int = 30, cooldownPeriod: Int = 300,
        useCachedMetrics: Bool = false,
        minReplicaCount: Int = 0, maxReplicaCount: Int = 100, behavior: HPABehavior? = nil,
        triggers: [Trigger], saleStartMinuteOfDay: Int? = nil, podReadySeconds: Int? = nil
    ) {
        self.name = name
        self.target = target
        self.pollingInterval = pollingInterval
        self.cooldownPeriod = cooldownPeriod
        self.useCachedMetrics = useCachedMetrics
        self.minReplicaCount = minReplicaCount
        self.maxReplicaCount = maxReplicaCount
        self.behavior = behavior
        self.triggers = triggers
        self.saleStartMinuteOfDay = saleStartMinuteOfDay
        self.podReadySeconds = podReadySeconds
    }

    /// The HPA spec KEDA derives.
    public func hpaSpec(globalTolerance: Double = 0.1) -> HorizontalPodAutoscaler.Spec {
        .init(
            minReplicas: max(minReplicaCount, 1), maxReplicas: maxReplicaCount, behavior: behavior,
            globalTolerance: globalTolerance)
    }

    /// What each trigger reports at one instant.
    public struct Readings {
        /// Lag of each partition of the consumed topic.
        public var partitionLags: [Int64]
        /// Requests answered per second over each `rate()` window asked for (window seconds → rate).
        public var requestRate: (Int) -> Double
        public var waitingShoppers: Double
        /// Minute of the day in the cron triggers' timezone.
        public var minuteOfDay: Int

        public init(
            partitionLags: [Int64], requestRate: @escaping (Int) -> Double, waitingShoppers: Double, minuteOfDay: Int
        ) {
            self.partitionLags = partitionLags
            self.requestRate = requestRate
            self.waitingShoppers = waitingShoppers
            self.minuteOfDay = minuteOfDay
        }
    }

    /// One trigger's metric: its value, the HPA target and type, and whether it is active.
    public struct TriggerMetric: Sendable, Equatable {
        public var trigger: String
        public var value: Double
        public var target: Double
        public var type: TriggerMetricType
        public var active: Bool
    }

    public func metrics(_ readings: Readings) -> [TriggerMetric] {
        triggers.map { trigger in
            switch trigger {
            case .kafka(let name, let k):
                let (value, active) = k.metric(partitionLags: readings.partitionLags)
                return TriggerMetric(
                    trigger: name, value: Double(value), target: Double(k.lagThreshold), type: k.metricType,
                    active: active)
            case .prometheus(let name, let p):
                let value =
                    switch p.signal {
                    case .requestRate(let window): readings.requestRate(window)
                    case .waitingShoppers: readings.waitingShoppers
                    }
                return TriggerMetric(
                    trigger: name, value: value, target: p.threshold, type: p.metricType,
                    active: value > p.activationThreshold)
            case .cron(let name, let c):
                return TriggerMetric(
                    trigger: name, value: Double(c.metric(minuteOfDay: readings.minuteOfDay)), target: 1,
                    type: .averageValue, active: c.isActive(minuteOfDay: readings.minuteOfDay))
            }
        }
    }

    /// The HPA's proposal for each trigger metric (External metrics).
    public static func proposals(
        _ metrics: [TriggerMetric], currentReplicas: Int, readyPods: Int, tolerance: Tolerance
    ) -> [Int?] {
        metrics.map { m in
            switch m.type {
            case .averageValue:
                MetricProposal.externalAverageValue(
                    values: [m.value], target: m.target, statusReplicas: currentReplicas, tolerance: tolerance)
            case .value:
                MetricProposal.externalValue(
                    values: [m.value], target: m.target, currentReplicas: currentReplicas, readyPods: readyPods,
                    tolerance: tolerance)
            }
        }
    }

    /// The timezone of the cron triggers (all of one ScaledObject's must agree), nil without one.
    public var cronTimezone: String? {
        triggers.lazy.compactMap { if case .cron(_, let c) = $0 { c.timezone } else { nil } }.first
    }
}
