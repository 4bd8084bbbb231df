/// Replays a sale's arrivals, one second at a time, through the waiting room, the gateways and the
/// order workers as the autoscalers size them.
///
/// Each second: KEDA polls and the HPAs sync on their periods (reading what Prometheus scraped,
/// and the live consumer lag); shoppers arrive and join the line; after the opening the waiting
/// room admits, first come first served, as many as the Ready gateways can serve (their requests
/// first; joins and polls beyond what is left are shed); each admitted shopper's order goes to a partition; the Ready workers drain their
/// partitions, except while the group rebalances after a change of its members.
public struct SaleSimulation: Sendable {
    public let configuration: SimulationConfiguration
    public let trace: SaleTrace

    public init(configuration: SimulationConfiguration, trace: SaleTrace) throws(ManifestError) {
        try configuration.model.validate()
        self.configuration = configuration
        self.trace = trace
    }

    public func run() -> SimulationResult {
        var state = SimulationState(configuration)
        var samples: [SecondSample] = []
        samples.reserveCapacity(trace.arrivals.count)
        for (second, arrivals) in trace.arrivals.enumerated() {
            samples.append(state.step(second: second, arrivals: arrivals, openAt: trace.openAt))
        }
        return SimulationResult(
            configuration: configuration.name, trace: trace.name, openAt: trace.openAt, samples: samples,
            waits: state.waits, model: configuration.model)
    }
}

/// What happened in one simulated second.
public struct SecondSample: Sendable, Equatable {
    public var second: Int
    public var arrivals: Double
    public var admitted: Double
    /// Requests per second the Ready gateways can answer.
    public var gatewayCapacity: Double
    /// Requests offered: joins, polls and the admitted shoppers' requests.
    public var gatewayLoad: Double
    /// Joins and polls beyond the Ready capacity (answered 503 with Retry-After).
    public var shed: Double
    /// Shoppers in line at the end of the second.
    public var waiting: Double
    /// Wait of the shoppers admitted in this second (seconds since they arrived or the opening).
    public var waitP50: Double?
    public var waitP95: Double?
    public var lag: Double
    public var consumed: Double
    /// Orders per second the Ready workers can confirm (0 while the group rebalances).
    public var workerCapacity: Double
    public var gatewayDesired: Int
    public var gatewayReady: Int
    public var workerDesired: Int
    public var workerReady: Int
    /// The admission was limited by the Ready gateways (someone waited who could have been let in).
    public var gatewayShort: Bool
}

/// The simulation's moving parts.
struct SimulationState {
    let model: SaleModel
    var gateway: ScaledWorkload
    var worker: ScaledWorkload
    /// Shoppers in line, by the second they arrived, oldest first.
    var line: [(second: Int, count: Double)] = []
    var head = 0
    var waiting = 0.0
    var sold = 0.0
    var soldOut = false
    var partitionLag: [Double]
    /// Requests answered per second, and shoppers waiting, as Prometheus scraped them.
    var loadHistory: [Double] = []
    var admittedHistory: [Double] = []
    var scrapedWaiting = 0.0
    var pausedUntil = -Double.infinity
    var lastReadyWorkers: Int
    /// Every admitted shopper's wait: wait (s) → shoppers.
    var waits: [Int: Double] = [:]

    init(_ configuration: SimulationConfiguration) {
        model = configuration.model
        gateway = ScaledWorkload(
            configuration.gateway, podReadySeconds: model.gatewayPodReadySeconds,
            globalTolerance: model.globalTolerance)
        worker = ScaledWorkload(
            configuration.worker, podReadySeconds: model.workerPodReadySeconds, globalTolerance: model.globalTolerance)
        partitionLag = Array(repeating: 0, count: model.partitions)
        lastReadyWorkers = worker.ready(at: 0)
    }

    mutating func step(second: Int, arrivals: Double, openAt: Int) -> SecondSample {
        let t = Double(second)
        autoscale(second: second, openAt: openAt)

        // The line and the gateways.
        let readyGateways = gateway.ready(at: t)
        let capacity = Double(readyGateways) * model.gatewayRequestsPerPod
        let polls = pollsPerSecond(second: second, openAt: openAt)
        if !soldOut && arrivals > 0 {
            line.append((second, arrivals))
            waiting += arrivals
        } else if soldOut {
            waiting = 0
        }
        var admitted = 0.0
        var short = false
        var admittedWaits: [(wait: Int, count: Double)] = []
        if second >= openAt && !soldOut {
            // Admitted shoppers hold passes with a deadline: their requests are served first; joins
            // and polls take what is left, and what does not fit is shed (503 with Retry-After).
            let room = capacity / model.requestsPerAdmitted
            var wanted = waiting
            if let stock = model.stock, model.ordersPerAdmitted > 0 {
                wanted = min(wanted, max(0, stock - sold) / model.ordersPerAdmitted)
            }
            admitted = min(wanted, room)
            short = room < wanted
            admittedWaits = admit(admitted, at: second, openAt: openAt)
        }
        let load = arrivals + polls + admitted * model.requestsPerAdmitted
        let shed = max(0, arrivals + polls - (capacity - admitted * model.requestsPerAdmitted))
        let orders = admitted * model.ordersPerAdmitted
        sold += orders
        if let stock = model.stock, sold >= stock - 1e-9, !soldOut {
            soldOut = true
            line.removeAll()
            head = 0
            waiting = 0
        }
        loadHistory.append(load)
        admittedHistory.append(admitted)
        if second % model.scrapeIntervalSeconds == 0 { scrapedWaiting = waiting }

        // The topic and the workers.
        for p in partitionLag.indices { partitionLag[p] += orders / Double(partitionLag.count) }
        let readyWorkers = worker.ready(at: t)
        if readyWorkers != lastReadyWorkers {
            pausedUntil = t + model.rebalancePauseSeconds
            lastReadyWorkers = readyWorkers
        }
        let paused = t < pausedUntil
        let consumed = paused ? 0 : consume(consumers: readyWorkers)
        return SecondSample(
            second: second, arrivals: arrivals, admitted: admitted, gatewayCapacity: capacity, gatewayLoad: load,
            shed: shed, waiting: waiting, waitP50: SimulationResult.percentile(admittedWaits, 0.5).map(Double.init),
            waitP95: SimulationResult.percentile(admittedWaits, 0.95).map(Double.init), lag: partitionLag.reduce(0, +),
            consumed: consumed,
            workerCapacity: paused ? 0 : Double(min(readyWorkers, partitionLag.count)) * model.workerOrdersPerPod,
            gatewayDesired: gateway.replicas, gatewayReady: readyGateways, workerDesired: worker.replicas,
            workerReady: readyWorkers, gatewayShort: short)
    }

    /// KEDA polls and HPA syncs due this second.
    mutating func autoscale(second: Int, openAt: Int) {
        let t = Double(second)
        let clock = model.saleStartMinuteOfDay * 60 + second - openAt
        let minute = ((clock >= 0 ? clock / 60 : (clock - 59) / 60) % 1_440 + 1_440) % 1_440
        let lags = partitionLag.map { Int64($0.rounded(.up)) }
        let scrape = second - second % model.scrapeIntervalSeconds
        let history = loadHistory
        let readings = ScaledObject.Readings(
            partitionLags: lags,
            requestRate: { window in Self.rate(history, endingAt: scrape, window: window) },
            waitingShoppers: scrapedWaiting, minuteOfDay: minute)
        for keyPath in [\SimulationState.gateway, \SimulationState.worker] {
            let metrics = self[keyPath: keyPath].object.metrics(readings)
            if second % max(self[keyPath: keyPath].object.pollingInterval, 1) == 0 {
                self[keyPath: keyPath].poll(at: t, metrics: metrics)
            }
            if second % model.hpaSyncSeconds == 0 && self[keyPath: keyPath].replicas > 0 {
                self[keyPath: keyPath].sync(at: t, metrics: metrics)
            }
        }
    }

    /// Admission polls per second of the shoppers in line, each at the interval the gateway tells it
    /// (`pollAfterMs`): before the opening a quarter of the time to the draw, 0.5-5 s; in line a
    /// quarter of its ETA, 0.25-10 s, the ETA being its place over the admissions per second measured
    /// in the last 10 s (at least 1, as the gateway does when it has measured none).
    func pollsPerSecond(second: Int, openAt: Int) -> Double {
        guard waiting > 0 else { return 0 }
        if second < openAt {
            return waiting / min(5, max(0.5, Double(openAt - second) / 4))
        }
        let recent = admittedHistory.suffix(10)
        let rate = max(1, recent.reduce(0, +) / Double(max(recent.count, 1)))
        var ahead = 0.0
        var polls = 0.0
        for cohort in line[head...] where cohort.count > 0 {
            let eta = (ahead + cohort.count / 2) / rate
            polls += cohort.count / min(10, max(0.25, eta / 4))
            ahead += cohort.count
        }
        return polls
    }

    /// The average of the seconds in (end − window, end], what `rate(…[window])` over the scraped
    /// counter gives.
    static func rate(_ history: [Double], endingAt end: Int, window: Int) -> Double {
        let upper = min(end, history.count)
        let lower = max(0, upper - max(window, 1))
        guard upper > lower else { return 0 }
        return history[lower..<upper].reduce(0, +) / Double(upper - lower)
    }

    /// Takes `count` shoppers from the front of the line; returns their waits.
    mutating func admit(_ count: Double, at second: Int, openAt: Int) -> [(wait: Int, count: Double)] {
        var left = count
        var taken: [(wait: Int, count: Double)] = []
        while left > 1e-9 && head < line.count {
            let take = min(left, line[head].count)
            let wait = second - max(line[head].second, openAt)
            taken.append((wait, take))
            waits[wait, default: 0] += take
            line[head].count -= take
            left -= take
            waiting -= take
            if line[head].count <= 1e-9 { head += 1 }
        }
        if head > 1_024 && head * 2 > line.count {
            line.removeFirst(head)
            head = 0
        }
        waiting = max(0, waiting)
        return taken
    }

    /// The range assignor's split of the partitions over `consumers` members; each drains up to its
    /// capacity from its partitions, in proportion to their lag.
    mutating func consume(consumers: Int) -> Double {
        let n = min(consumers, partitionLag.count)
        guard n > 0 else { return 0 }
        let per = partitionLag.count / n
        let extra = partitionLag.count % n
        var start = 0
        var total = 0.0
        for member in 0..<n {
            let count = per + (member < extra ? 1 : 0)
            let range = start..<(start + count)
            start += count
            let lag = partitionLag[range].reduce(0, +)
            guard lag > 0 else { continue }
            let drained = min(lag, model.workerOrdersPerPod)
            for p in range { partitionLag[p] -= partitionLag[p] * drained / lag }
            total += drained
        }
        return total
    }

}
