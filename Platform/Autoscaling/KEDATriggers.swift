/// The metric type a KEDA trigger hands the HPA (`metricType`; KEDA's default is `AverageValue`).
public enum TriggerMetricType: String, Sendable, Equatable {
    case averageValue = "AverageValue"
    case value = "Value"
}

/// KEDA's `kafka` trigger (`pkg/scalers/kafka_scaler.go`, `getTotalLag`).
public struct KafkaLagTrigger: Sendable, Equatable {
    public var lagThreshold: Int64
    public var activationLagThreshold: Int64
    public var allowIdleConsumers: Bool
    public var limitToPartitionsWithLag: Bool
    public var metricType: TriggerMetricType

    public init(
        lagThreshold: Int64 = 10, activationLagThreshold: Int64 = 0, allowIdleConsumers: Bool = false,
        limitToPartitionsWithLag: Bool = false, metricType: TriggerMetricType = .averageValue
    ) {
        self.lagThreshold = lagThreshold
        self.activationLagThreshold = activationLagThreshold
        self.allowIdleConsumers = allowIdleConsumers
        self.limitToPartitionsWithLag = limitToPartitionsWithLag
        self.metricType = metricType
    }

    /// The metric for the lag of each partition, and whether the trigger is active
    /// (`totalLag > activationLagThreshold`, strictly).
    ///
    /// Unless idle consumers are allowed, the total is capped at `upper × lagThreshold` (integer
    /// division in the test), `upper` being the partitions — or only those with lag — so the HPA never
    /// asks for more consumers than there are partitions to give them.
    public func metric(partitionLags: [Int64]) -> (value: Int64, active: Bool) {
        let total = partitionLags.reduce(0, +)
        var value = total
        if !allowIdleConsumers || limitToPartitionsWithLag {
            let upper = Int64(limitToPartitionsWithLag ? partitionLags.count { $0 > 0 } : partitionLags.count)
            if total / lagThreshold > upper { value = upper * lagThreshold }
        }
        return (value, total > activationLagThreshold)
    }
}

/// KEDA's `prometheus` trigger. The simulator cannot run PromQL; it recognises the signals Flash
/// Deal's queries read (``Signal``) and evaluates them on the simulated metrics.
public struct PrometheusTrigger: Sendable, Equatable {
    public enum Signal: Sendable, Equatable {
        /// Requests the gateways answer per second, averaged over a `rate()` window of `window` s.
        case requestRate(window: Int)
        /// Shoppers in the waiting room (a gauge).
        case waitingShoppers
    }

    public var query: String
    public var threshold: Double
    public var activationThreshold: Double
    public var metricType: TriggerMetricType
    public var signal: Signal

    public init(
        query: String, threshold: Double, activationThreshold: Double = 0,
        metricType: TriggerMetricType = .averageValue
    ) throws(ManifestError) {
        self.query = query
        self.threshold = threshold
        self.activationThreshold = activationThreshold
        self.metricType = metricType
        signal = try Self.signal(of: query)
    }

    /// The metric names the simulator knows, each with what it stands for.
    public static let knownMetrics = [
        "flashdeal_gateway_http_request_duration_seconds_count": "requests answered (inside rate(…[window]))",
        "flashdeal_waitingroom_waiting": "shoppers waiting",
    ]

    static func signal(of query: String) throws(ManifestError) -> Signal {
        if query.contains("flashdeal_waitingroom_waiting") { return .waitingShoppers }
        if query.contains("flashdeal_gateway_http_request_duration_seconds_count") {
            guard query.contains("rate("), let window = rangeSeconds(in: query) else {
                throw ManifestError(
                    "prometheus query \(query.debugDescription): the request counter is read through rate(…[window])")
            }
            return .requestRate(window: window)
        }
        let known = knownMetrics.keys.sorted().joined(separator: ", ")
        throw ManifestError(
            "prometheus query \(query.debugDescription) reads no metric the simulator models (it knows \(known))")
    }

    /// The range of the first `[…]` selector, in seconds (`30s`, `1m`, `2m30s`, `1h`).
    static func rangeSeconds(in query: String) -> Int? {
        guard let open = query.firstIndex(of: "["), let close = query[open...].firstIndex(of: "]") else { return nil }
        return DurationText.seconds(String(query[query.index(after: open)..<close]))
    }
}

/// KEDA's `cron` trigger (`pkg/scalers/cron_scaler.go`): `desiredReplicas` inside the window and
/// 1 outside it, against a target of 1 — a floor under the other triggers, never a ceiling.
public struct CronFloorTrigger: Sendable, Equatable {
    public var timezone: String
    public var start: CronTime
    public var end: CronTime
    public var desiredReplicas: Int

    public init(timezone: String, start: CronTime, end: CronTime, desiredReplicas: Int) {
        self.timezone = timezone
        self.start = start
        self.end = end
        self.desiredReplicas = desiredReplicas
    }

    /// Whether `minuteOfDay` (in the trigger's timezone) lies in [start, end); a window may wrap midnight.
    public func isActive(minuteOfDay: Int) -> Bool {
        let s = start.minuteOfDay
        let e = end.minuteOfDay
        return s < e ? (s <= minuteOfDay && minuteOfDay < e) : (minuteOfDay >= s || minuteOfDay < e)
    }

    public func metric(minuteOfDay: Int) -> Int { isActive(minuteOfDay: minuteOfDay) ? desiredReplicas : 1 }
}

/// The `minute hour * * *` form of a cron field pair that daily sale windows use.
public struct CronTime: Sendable, Equatable {
    public var minute: Int
    public var hour: Int

    public var minuteOfDay: Int { hour * 60 + minute }

    public init(minute: Int, hour: Int) {
        self.minute = minute
        self.hour = hour
    }

    /// `m h dom mon dow`: minute and hour as numbers; the other fields are read but a window that
    /// depends on the date is simulated as daily (a sale's window is about its day's hours).
    public init(cron: String) throws(ManifestError) {
        let fields = cron.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count == 5, let m = Int(fields[0]), let h = Int(fields[1]), (0..<60).contains(m),
            (0..<24).contains(h)
        else {
            throw ManifestError(
                "cron \(cron.debugDescription): the simulator reads `minute hour dom month dow` with a fixed minute and hour"
            )
        }
        self.init(minute: m, hour: h)
    }
}

/// A manifest the simulator cannot read, with what was wrong.
public struct ManifestError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Durations as manifests and options write them: `90`, `90s`, `2m`, `1m30s`, `1h`.
public enum DurationText {
    public static func seconds(_ text: String) -> Int? {
        if let plain = Int(text) { return plain }
        var total = 0
        var digits = ""
        for c in text {
            if c.isNumber {
                digits.append(c)
                continue
            }
            guard let n = Int(digits) else { return nil }
            switch c {
            case "s": total += n
            case "m": total += n * 60
            case "h": total += n * 3_600
            default: return nil
            }
            digits = ""
        }
        return digits.isEmpty && !text.isEmpty ? total : nil
    }
}
