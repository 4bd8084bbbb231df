/// What the simulator assumes about Flash Deal and the cluster, beside the manifests.
public struct SaleModel: Sendable, Equatable {
    /// Requests per second one gateway pod answers at the target latency (docs/benchmarks.md).
    public var gatewayRequestsPerPod: Double = 1_000
    /// Orders per second one worker confirms (docs/benchmarks.md, "Order worker").
    public var workerOrdersPerPod: Double = 1_000
    /// Requests an admitted shopper makes: the poll that admits, createOrder, order queries.
    public var requestsPerAdmitted: Double = 4
    /// Orders an admitted shopper places.
    public var ordersPerAdmitted: Double = 1
    /// Units for sale; nil: unlimited. Once sold, the waiting room empties at once (sold out).
    public var stock: Double?
    /// From a pod's creation to Ready, per workload (the manifests' `flashdeal.io/pod-ready-seconds`
    /// when they say).
    public var gatewayPodReadySeconds: Double = 120
    public var workerPodReadySeconds: Double = 120
    /// Every change of the worker group's members pauses all consumption this long (a rebalance;
    /// a group join takes about session.timeout.ms / 2 = 3 s on the local broker).
    public var rebalancePauseSeconds: Double = 3
    /// The order-requests topic's partitions.
    public var partitions: Int = 24
    /// The HPA controller's sync period.
    public var hpaSyncSeconds: Int = 15
    /// Prometheus's scrape interval (the monitors' `interval` when the manifests have them).
    public var scrapeIntervalSeconds: Int = 15
    /// The controller's global tolerance.
    public var globalTolerance: Double = 0.1
    /// Lag a worker should drain within: seconds above it count as "workers behind".
    public var drainTargetSeconds: Double = 5
    /// The sale's opening as minute of day in the cron triggers' timezone (the manifests'
    /// `flashdeal.io/sale-start` when they say): where the trace's opening falls on the clock.
    public var saleStartMinuteOfDay: Int = 12 * 60

    public init() {}

    /// Why a model cannot run.
    public func validate() throws(ManifestError) {
        guard gatewayRequestsPerPod > 0, workerOrdersPerPod > 0 else {
            throw ManifestError("capacity per pod must be above 0")
        }
        guard requestsPerAdmitted >= 1, ordersPerAdmitted >= 0 else {
            throw ManifestError("an admitted shopper makes at least 1 request")
        }
        guard gatewayPodReadySeconds >= 0, workerPodReadySeconds >= 0, rebalancePauseSeconds >= 0 else {
            throw ManifestError("pod-ready time and rebalance pause must not be negative")
        }
        guard partitions >= 1, hpaSyncSeconds >= 1, scrapeIntervalSeconds >= 1 else {
            throw ManifestError("partitions, HPA sync and scrape interval must be at least 1")
        }
    }
}

/// One configuration to simulate: the two ScaledObjects and the model.
public struct SimulationConfiguration: Sendable, Equatable {
    public var name: String
    public var gateway: ScaledObject
    public var worker: ScaledObject
    public var model: SaleModel

    public init(name: String, gateway: ScaledObject, worker: ScaledObject, model: SaleModel) {
        self.name = name
        self.gateway = gateway
        self.worker = worker
        self.model = model
    }

    /// The configuration the manifests describe: the ScaledObjects scaling `gateway` and
    /// `order-worker`, the partitions of `flashdeal.order-requests`, the monitors' scrape interval,
    /// and the annotations for the sale's start and the pod-ready time. `base` supplies the rest.
    public init(name: String, manifests: Manifests, base: SaleModel = SaleModel()) throws(ManifestError) {
        func object(_ target: String) throws(ManifestError) -> ScaledObject {
            guard let found = manifests.scaledObjects.first(where: { $0.target == target }) else {
                let names = manifests.scaledObjects.map(\.target).joined(separator: ", ")
                throw ManifestError(
                    "no ScaledObject scales \(target) (the manifests scale: \(names.isEmpty ? "none" : names))")
            }
            return found
        }
        let gateway = try object("gateway")
        let worker = try object("order-worker")
        var model = base
        if let partitions = manifests.topicPartitions["flashdeal.order-requests"] { model.partitions = partitions }
        if let interval = manifests.scrapeIntervalSeconds { model.scrapeIntervalSeconds = interval }
        if let start = worker.saleStartMinuteOfDay ?? gateway.saleStartMinuteOfDay {
            model.saleStartMinuteOfDay = start
        }
        if let ready = gateway.podReadySeconds { model.gatewayPodReadySeconds = Double(ready) }
        if let ready = worker.podReadySeconds { model.workerPodReadySeconds = Double(ready) }
        self.init(name: name, gateway: gateway, worker: worker, model: model)
    }
}
