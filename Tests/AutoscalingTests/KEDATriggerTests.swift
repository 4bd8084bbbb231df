import Testing

@testable import Autoscaling

/// KEDA's triggers and the HPA KEDA creates from a ScaledObject.
@Suite struct KEDATriggerTests {
    let kafka = KafkaLagTrigger(lagThreshold: 5_000)

    /// One ScaledObject with a kafka trigger (and optionally a cron floor), min 1, max 100.
    func workers(_ trigger: KafkaLagTrigger, behavior: HPABehavior = HPABehavior(), cron: CronFloorTrigger? = nil)
        -> ScaledObject
    {
        var triggers: [ScaledObject.Trigger] = [.kafka(name: "lag", trigger)]
        if let cron { triggers.append(.cron(name: "floor", cron)) }
        return ScaledObject(
            name: "w", target: "order-worker", minReplicaCount: 1, maxReplicaCount: 100, behavior: behavior,
            triggers: triggers)
    }

    func readings(lags: [Int64], minute: Int = 0) -> ScaledObject.Readings {
        .init(partitionLags: lags, requestRate: { _ in 0 }, waitingShoppers: 0, minuteOfDay: minute)
    }

    /// One HPA sync of `object` at `current` replicas.
    func desired(_ object: ScaledObject, current: Int, _ readings: ScaledObject.Readings) -> Int {
        var hpa = HorizontalPodAutoscaler(spec: object.hpaSpec())
        let proposals = ScaledObject.proposals(
            object.metrics(readings), currentReplicas: current, readyPods: current, tolerance: hpa.spec.tolerance)
        return hpa.sync(now: 0, currentReplicas: current, proposals: proposals)
    }

    @Test func lagIsCappedAtThePartitionsUnlessIdleConsumersAreAllowed() {
        let lags = Array(repeating: Int64(100_000), count: 24)
        #expect(kafka.metric(partitionLags: lags).value == 24 * 5_000)
        var idle = kafka
        idle.allowIdleConsumers = true
        #expect(idle.metric(partitionLags: lags).value == 2_400_000)
        // From 2 replicas the default behavior allows 6; with a wide policy, 24 and no more.
        let wide = HPABehavior(
            scaleUp: .init(
                stabilizationWindowSeconds: 0, selectPolicy: .max, policies: [.init(.pods, 100, periodSeconds: 15)]))
        #expect(desired(workers(kafka, behavior: wide), current: 2, readings(lags: lags)) == 24)
    }

    @Test func onlyPartitionsWithLagCountWhenLimitedToThem() {
        var limited = kafka
        limited.limitToPartitionsWithLag = true
        let oneHot = [Int64(1_000_000)] + Array(repeating: 0, count: 23)
        #expect(limited.metric(partitionLags: oneHot).value == 5_000)
        #expect(kafka.metric(partitionLags: oneHot).value == 24 * 5_000)
    }

    @Test func activationIsStrictlyAboveTheThreshold() {
        var t = kafka
        t.activationLagThreshold = 10
        #expect(!t.metric(partitionLags: [5, 5]).active)
        #expect(t.metric(partitionLags: [5, 6]).active)
    }

    /// keda#2908: at P−1 replicas the capped metric is P × threshold, a ratio of P/(P−1); within the
    /// 10 % tolerance the last replica is never added — unless the scale-up tolerance is 0.
    @Test func theLastPartitionsReplicaIsNeverAddedWithinTheTolerance() {
        let lags = Array(repeating: Int64(1_000_000), count: 24)
        #expect(desired(workers(kafka), current: 23, readings(lags: lags)) == 23)
        var zero = HPABehavior()
        zero.scaleUp.tolerance = 0
        #expect(desired(workers(kafka, behavior: zero), current: 23, readings(lags: lags)) == 24)
        // With 10 partitions the ratio is 10/9 = 1.11, outside the band: the last one is added.
        let ten = Array(repeating: Int64(1_000_000), count: 10)
        #expect(desired(workers(kafka), current: 9, readings(lags: ten)) == 10)
    }

    @Test func theCronTriggerIsAFloorUnderAHigherReactiveProposal() throws {
        let cron = CronFloorTrigger(
            timezone: "UTC", start: try CronTime(cron: "45 11 * * *"), end: try CronTime(cron: "30 12 * * *"),
            desiredReplicas: 6)
        let wide = HPABehavior(
            scaleUp: .init(
                stabilizationWindowSeconds: 0, selectPolicy: .max, policies: [.init(.pods, 100, periodSeconds: 15)]))
        let object = workers(kafka, behavior: wide, cron: cron)
        let inWindow = 12 * 60
        // Little lag: the floor holds 6.
        #expect(desired(object, current: 2, readings(lags: [100], minute: inWindow)) == 6)
        // Lag for 14 workers: the higher proposal wins.
        let lagFor14 = Array(repeating: Int64(2_900), count: 24)
        #expect(desired(object, current: 2, readings(lags: lagFor14, minute: inWindow)) == 14)
        // Outside the window the cron metric is 1: no floor.
        #expect(desired(object, current: 2, readings(lags: [100], minute: 11 * 60)) == 2)
        #expect(cron.metric(minuteOfDay: 11 * 60 + 44) == 1 && cron.metric(minuteOfDay: 11 * 60 + 45) == 6)
        #expect(cron.metric(minuteOfDay: 12 * 60 + 30) == 1)
    }

    @Test func aCronWindowMayWrapMidnight() throws {
        let cron = CronFloorTrigger(
            timezone: "UTC", start: try CronTime(cron: "30 23 * * *"), end: try CronTime(cron: "15 0 * * *"),
            desiredReplicas: 4)
        #expect(cron.isActive(minuteOfDay: 23 * 60 + 59) && cron.isActive(minuteOfDay: 5))
        #expect(!cron.isActive(minuteOfDay: 15) && !cron.isActive(minuteOfDay: 23 * 60))
    }

    @Test func prometheusQueriesAreMappedToWhatTheSimulatorModels() throws {
        let rate = try PrometheusTrigger(
            query: "sum(rate(flashdeal_gateway_http_request_duration_seconds_count{namespace=\"x\"}[2m])) or vector(0)",
            threshold: 1_000)
        #expect(rate.signal == .requestRate(window: 120))
        let depth = try PrometheusTrigger(query: "sum(max by (deal) (flashdeal_waitingroom_waiting))", threshold: 10)
        #expect(depth.signal == .waitingShoppers)
        #expect(throws: ManifestError.self) { try PrometheusTrigger(query: "sum(up)", threshold: 1) }
        #expect(
            DurationText.seconds("1m30s") == 90 && DurationText.seconds("5s") == 5 && DurationText.seconds("x") == nil)
    }
}

/// KEDA's own steps around the HPA: 0 ↔ 1 and the cached metrics.
@Suite struct ScaledWorkloadTests {
    static func object(min: Int, cached: Bool = false) -> ScaledObject {
        ScaledObject(
            name: "w", target: "order-worker", pollingInterval: 30, cooldownPeriod: 300, useCachedMetrics: cached,
            minReplicaCount: min, maxReplicaCount: 10, behavior: HPABehavior(),
            triggers: [.kafka(name: "lag", KafkaLagTrigger(lagThreshold: 100, activationLagThreshold: 5))])
    }

    func metric(lag: Double, active: Bool) -> ScaledObject.TriggerMetric {
        .init(trigger: "lag", value: lag, target: 100, type: .averageValue, active: active)
    }

    @Test func withMinimumZeroKEDAScalesToZeroAfterTheCooldownAndBackToOneWhenActive() {
        var w = ScaledWorkload(Self.object(min: 0), podReadySeconds: 0, globalTolerance: 0.1)
        #expect(w.replicas == 1)
        w.poll(at: 0, metrics: [metric(lag: 3, active: false)])
        w.poll(at: 299, metrics: [metric(lag: 3, active: false)])
        #expect(w.replicas == 1, "the cooldown counts from the last activity (none yet: from 0)")
        w.poll(at: 300, metrics: [metric(lag: 3, active: false)])
        #expect(w.replicas == 0)
        w.poll(at: 330, metrics: [metric(lag: 6, active: true)])
        #expect(w.replicas == 1)
    }

    @Test func aMinimumAboveZeroIsNeverScaledToZeroByKEDA() {
        var w = ScaledWorkload(Self.object(min: 2), podReadySeconds: 0, globalTolerance: 0.1)
        for t in stride(from: 0.0, through: 900, by: 30) { w.poll(at: t, metrics: [metric(lag: 0, active: false)]) }
        #expect(w.replicas == 2)
    }

    @Test func cachedMetricsAreThoseOfTheLastPoll() {
        var w = ScaledWorkload(Self.object(min: 1, cached: true), podReadySeconds: 0, globalTolerance: 0.1)
        w.poll(at: 0, metrics: [metric(lag: 100, active: true)])
        // The HPA syncs with a live lag of 900, but reads the cached 100: no change.
        w.sync(at: 15, metrics: [metric(lag: 900, active: true)])
        #expect(w.replicas == 1)
        var live = ScaledWorkload(Self.object(min: 1), podReadySeconds: 0, globalTolerance: 0.1)
        live.poll(at: 0, metrics: [metric(lag: 100, active: true)])
        live.sync(at: 15, metrics: [metric(lag: 900, active: true)])
        // Live: 900 / 100 asks for 9; the default behavior's first step allows max(1 + 4 pods, 1 × 200 %) = 5.
        #expect(live.replicas == 5)
    }

    @Test func newPodsAreReadyAfterThePodReadyTimeAndAScaleInDropsTheUnreadyFirst() {
        var w = ScaledWorkload(Self.object(min: 1), podReadySeconds: 120, globalTolerance: 0.1)
        w.scale(to: 4, at: 10)
        #expect(w.ready(at: 129) == 1 && w.ready(at: 130) == 4)
        w.scale(to: 2, at: 20)
        #expect(w.replicas == 2 && w.ready(at: 20) == 1, "the Ready pod stays; one unready one is left")
    }
}
