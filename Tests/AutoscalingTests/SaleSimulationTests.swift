import Foundation
import PropertyBased
import Testing

@testable import Autoscaling

/// The simulator as a whole: its invariants under random configurations, and the project's own
/// manifests read as they are.
@Suite struct SaleSimulationTests {
    static func object(
        _ target: String, min: Int, max: Int, triggers: [ScaledObject.Trigger], behavior: HPABehavior? = HPABehavior()
    ) -> ScaledObject {
        ScaledObject(
            name: target, target: target, pollingInterval: 10, minReplicaCount: min, maxReplicaCount: max,
            behavior: behavior, triggers: triggers)
    }

    static func configuration(
        gatewayMin: Int = 2, gatewayMax: Int = 32, workerMin: Int = 2, workerMax: Int = 24,
        behavior: HPABehavior? = HPABehavior(), model: SaleModel = SaleModel()
    ) throws -> SimulationConfiguration {
        let arrivals = try PrometheusTrigger(
            query: "sum(rate(flashdeal_gateway_http_request_duration_seconds_count[1m]))", threshold: 1_000)
        return SimulationConfiguration(
            name: "test",
            gateway: object(
                "gateway", min: gatewayMin, max: gatewayMax, triggers: [.prometheus(name: "arrivals", arrivals)],
                behavior: behavior),
            worker: object(
                "order-worker", min: workerMin, max: workerMax,
                triggers: [.kafka(name: "lag", KafkaLagTrigger(lagThreshold: 5_000))], behavior: behavior),
            model: model)
    }

    // MARK: Properties

    /// A random configuration and trace: replica bounds, policies, capacities and a spike.
    struct Case: Sendable, CustomStringConvertible {
        var gatewayMin, gatewayMax, workerMin, workerMax: Int
        var podsPerStep: Int
        var gatewayRps, workerOps: Double
        var podReady: Double
        var arrivals: [Double]
        var openAt: Int
        var stock: Double?

        var description: String {
            "g[\(gatewayMin),\(gatewayMax)] w[\(workerMin),\(workerMax)] step \(podsPerStep) rps \(gatewayRps) "
                + "ops \(workerOps) ready \(podReady) open \(openAt) stock \(stock.map { "\($0)" } ?? "-") "
                + "arrivals \(arrivals.count)"
        }
    }

    static let cases = zip(
        zip(Gen.int(in: 1...4), Gen.int(in: 0...30), Gen.int(in: 1...4), Gen.int(in: 0...30)),
        zip(Gen.int(in: 1...12), Gen.int(in: 200...2_000), Gen.int(in: 100...2_000), Gen.int(in: 0...180)),
        zip(Gen.int(in: 0...3_000).array(of: 4...12), Gen.int(in: 0...300), Gen.int(in: 0...50_000))
    ).map { a, b, c in
        // Each generated level lasts 60 s: a trace of 4-12 minutes.
        let arrivals = c.0.flatMap { Array(repeating: Double($0), count: 60) }
        return Case(
            gatewayMin: a.0, gatewayMax: a.0 + a.1, workerMin: a.2, workerMax: a.2 + a.3, podsPerStep: b.0,
            gatewayRps: Double(b.1), workerOps: Double(b.2), podReady: Double(b.3), arrivals: arrivals,
            openAt: min(c.1, arrivals.count - 1), stock: c.2 < 1_000 ? nil : Double(c.2))
    }

    static func run(_ c: Case) throws -> SimulationResult {
        var model = SaleModel()
        model.gatewayRequestsPerPod = c.gatewayRps
        model.workerOrdersPerPod = c.workerOps
        model.gatewayPodReadySeconds = c.podReady
        model.workerPodReadySeconds = c.podReady
        model.stock = c.stock
        let rules = ScalingRules(
            stabilizationWindowSeconds: 60, selectPolicy: .max,
            policies: [.init(.pods, c.podsPerStep, periodSeconds: 15)])
        let behavior = HPABehavior(scaleUp: rules, scaleDown: rules)
        let configuration = try configuration(
            gatewayMin: c.gatewayMin, gatewayMax: c.gatewayMax, workerMin: c.workerMin, workerMax: c.workerMax,
            behavior: behavior, model: model)
        return try SaleSimulation(
            configuration: configuration, trace: SaleTrace(name: "random", arrivals: c.arrivals, openAt: c.openAt)
        ).run()
    }

    @Test func replicasStayInBoundsAndStepNoFasterThanThePolicies() async {
        await propertyCheck(count: 60, input: Self.cases) { c in
            let result = try Self.run(c)
            var previous = (g: c.gatewayMin, w: c.workerMin)
            for s in result.samples {
                #expect((c.gatewayMin...c.gatewayMax).contains(s.gatewayDesired), "\(c) t=\(s.second)")
                #expect((c.workerMin...c.workerMax).contains(s.workerDesired), "\(c) t=\(s.second)")
                // One Pods policy of `podsPerStep` per 15 s, syncs 15 s apart: never more per step.
                #expect(abs(s.gatewayDesired - previous.g) <= c.podsPerStep, "\(c) t=\(s.second)")
                #expect(abs(s.workerDesired - previous.w) <= c.podsPerStep, "\(c) t=\(s.second)")
                #expect(s.gatewayReady <= s.gatewayDesired && s.workerReady <= s.workerDesired)
                previous = (s.gatewayDesired, s.workerDesired)
            }
        }
    }

    @Test func admissionNeverExceedsReadyCapacityOrTheLine() async {
        await propertyCheck(count: 60, input: Self.cases) { c in
            let result = try Self.run(c)
            var line = 0.0
            for s in result.samples {
                let model = result.model
                #expect(s.admitted * model.requestsPerAdmitted <= s.gatewayCapacity + 1e-6, "\(c) t=\(s.second)")
                #expect(s.admitted <= line + s.arrivals + 1e-6, "\(c) t=\(s.second)")
                #expect(s.second >= c.openAt || s.admitted == 0)
                line = s.waiting
            }
            if let stock = c.stock {
                #expect(result.verdict.admitted <= stock + 1e-6, "\(c)")
            }
        }
    }

    @Test func withoutTrafficReplicasSettleAtTheMinimum() async {
        let quiet = Gen.int(in: 1...4).array(of: 4...4)
        await propertyCheck(count: 20, input: quiet) { bounds in
            // Started well above the minimum (min + 10): after the 60 s window and the steps, at min.
            var model = SaleModel()
            model.gatewayPodReadySeconds = 0
            let rules = ScalingRules(
                stabilizationWindowSeconds: 60, selectPolicy: .max, policies: [.init(.pods, 2, periodSeconds: 15)])
            let configuration = try Self.configuration(
                gatewayMin: bounds[0], gatewayMax: bounds[0] + bounds[1] + 10, workerMin: bounds[2],
                workerMax: bounds[2] + bounds[3] + 10, behavior: HPABehavior(scaleUp: rules, scaleDown: rules),
                model: model)
            var state = SimulationState(configuration)
            state.gateway = ScaledWorkload(
                configuration.gateway, podReadySeconds: 0, globalTolerance: 0.1, replicas: bounds[0] + 10)
            state.worker = ScaledWorkload(
                configuration.worker, podReadySeconds: 0, globalTolerance: 0.1, replicas: bounds[2] + 10)
            var last: SecondSample?
            for second in 0..<600 { last = state.step(second: second, arrivals: 0, openAt: 0) }
            #expect(last?.gatewayDesired == bounds[0] && last?.workerDesired == bounds[2], "\(bounds)")
        }
    }
}
