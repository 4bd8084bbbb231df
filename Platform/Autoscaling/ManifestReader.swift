internal import Yams

/// What the simulator reads from rendered manifests (`kubectl kustomize` output, or the YAML files
/// themselves): the ScaledObjects, the partitions of each KafkaTopic, and the scrape interval of
/// the monitors.
public struct Manifests: Sendable, Equatable {
    public var scaledObjects: [ScaledObject]
    /// topic name → partitions (Strimzi `KafkaTopic`: `spec.topicName`, else `metadata.name`).
    public var topicPartitions: [String: Int]
    /// The shortest `interval` of the ServiceMonitors and PodMonitors, in seconds; nil without one.
    public var scrapeIntervalSeconds: Int?

    public init(scaledObjects: [ScaledObject], topicPartitions: [String: Int], scrapeIntervalSeconds: Int?) {
        self.scaledObjects = scaledObjects
        self.topicPartitions = topicPartitions
        self.scrapeIntervalSeconds = scrapeIntervalSeconds
    }

    /// Reads every document of `yaml` (several files' text may be joined with `---`).
    public init(yaml: String) throws(ManifestError) {
        let documents: [Any]
        do { documents = try Array(Yams.load_all(yaml: yaml)).compactMap { $0 } } catch {
            throw ManifestError("the manifests are not YAML: \(error)")
        }
        var objects: [ScaledObject] = []
        var partitions: [String: Int] = [:]
        var intervals: [Int] = []
        for case let document as [String: Any] in documents {
            let kind = document["kind"] as? String
            let metadata = document["metadata"] as? [String: Any] ?? [:]
            let spec = document["spec"] as? [String: Any] ?? [:]
            switch kind {
            case "ScaledObject": objects.append(try Self.scaledObject(metadata: metadata, spec: spec))
            case "KafkaTopic":
                let topic = (spec["topicName"] as? String) ?? (metadata["name"] as? String) ?? ""
                if let n = Self.int(spec["partitions"]) { partitions[topic] = n }
            case "ServiceMonitor", "PodMonitor":
                let endpoints = (spec["endpoints"] ?? spec["podMetricsEndpoints"]) as? [[String: Any]] ?? []
                intervals += endpoints.compactMap { ($0["interval"] as? String).flatMap(DurationText.seconds) }
            default: continue
            }
        }
        self.init(scaledObjects: objects, topicPartitions: partitions, scrapeIntervalSeconds: intervals.min())
    }

    public func scaledObject(named name: String) -> ScaledObject? { scaledObjects.first { $0.name == name } }

    // MARK: ScaledObject

    static func scaledObject(metadata: [String: Any], spec: [String: Any]) throws(ManifestError) -> ScaledObject {
        let name = metadata["name"] as? String ?? "?"
        let annotations = metadata["annotations"] as? [String: Any] ?? [:]
        let target = (spec["scaleTargetRef"] as? [String: Any])?["name"] as? String ?? ""
        let advanced = spec["advanced"] as? [String: Any]
        let hpaConfig = advanced?["horizontalPodAutoscalerConfig"] as? [String: Any]
        var triggers: [ScaledObject.Trigger] = []
        for (index, entry) in ((spec["triggers"] as? [[String: Any]]) ?? []).enumerated() {
            triggers.append(try trigger(entry, index: index, in: name))
        }
        guard !triggers.isEmpty else { throw ManifestError("ScaledObject \(name): no trigger") }
        var saleStart: Int?
        if let text = annotations["flashdeal.io/sale-start"] as? String {
            let parts = text.split(separator: ":").compactMap { Int($0) }
            guard parts.count == 2, (0..<24).contains(parts[0]), (0..<60).contains(parts[1]) else {
                throw ManifestError(
                    "ScaledObject \(name): flashdeal.io/sale-start \(text.debugDescription) is not HH:MM")
            }
            saleStart = parts[0] * 60 + parts[1]
        }
        return ScaledObject(
            name: name, target: target, pollingInterval: int(spec["pollingInterval"]) ?? 30,
            cooldownPeriod: int(spec["cooldownPeriod"]) ?? 300,
            useCachedMetrics: anyUsesCache(spec),
            minReplicaCount: int(spec["minReplicaCount"]) ?? 0, maxReplicaCount: int(spec["maxReplicaCount"]) ?? 100,
            behavior: try behavior(hpaConfig?["behavior"] as? [String: Any], in: name), triggers: triggers,
            saleStartMinuteOfDay: saleStart, podReadySeconds: int(annotations["flashdeal.io/pod-ready-seconds"]))
    }

    static func anyUsesCache(_ spec: [String: Any]) -> Bool {
        ((spec["triggers"] as? [[String: Any]]) ?? []).contains { ($0["useCachedMetrics"] as? Bool) == true }
    }

    static func trigger(_ entry: [String: Any], index: Int, in object: String) throws(ManifestError)
        -> ScaledObject.Trigger
    {
        let type = entry["type"] as? String ?? ""
        let name = entry["name"] as? String ?? "\(type)-\(index)"
        let metadata = entry["metadata"] as? [String: Any] ?? [:]
        let where_ = "ScaledObject \(object), trigger \(name)"
        let metricType: TriggerMetricType
        switch entry["metricType"] as? String {
        case nil, "AverageValue": metricType = .averageValue
        case "Value": metricType = .value
        case let other?: throw ManifestError("\(where_): metricType \(other) is not simulated (AverageValue, Value)")
        }
        func number(_ key: String, default value: Double? = nil) throws(ManifestError) -> Double {
            if let v = metadata[key].flatMap(double) { return v }
            if let value, metadata[key] == nil { return value }
            throw ManifestError("\(where_): \(key) is missing or not a number")
        }
        func flag(_ key: String) -> Bool { (metadata[key] as? String ?? "\(metadata[key] ?? "false")") == "true" }
        switch type {
        case "kafka":
            let threshold = try number("lagThreshold", default: 10)
            guard threshold > 0 else { throw ManifestError("\(where_): lagThreshold must be above 0") }
            return .kafka(
                name: name,
                KafkaLagTrigger(
                    lagThreshold: Int64(threshold),
                    activationLagThreshold: Int64(try number("activationLagThreshold", default: 0)),
                    allowIdleConsumers: flag("allowIdleConsumers"),
                    limitToPartitionsWithLag: flag("limitToPartitionsWithLag"), metricType: metricType))
        case "prometheus":
            guard let query = metadata["query"] as? String else { throw ManifestError("\(where_): no query") }
            do {
                return .prometheus(
                    name: name,
                    try PrometheusTrigger(
                        query: query, threshold: try number("threshold"),
                        activationThreshold: try number("activationThreshold", default: 0), metricType: metricType))
            } catch { throw ManifestError("\(where_): \(error.description)") }
        case "cron":
            guard let start = metadata["start"] as? String, let end = metadata["end"] as? String else {
                throw ManifestError("\(where_): start and end are required")
            }
            do {
                return .cron(
                    name: name,
                    CronFloorTrigger(
                        timezone: metadata["timezone"] as? String ?? "UTC", start: try CronTime(cron: start),
                        end: try CronTime(cron: end), desiredReplicas: Int(try number("desiredReplicas"))))
            } catch { throw ManifestError("\(where_): \(error.description)") }
        default:
            throw ManifestError(
                "\(where_): trigger type \(type.debugDescription) is not simulated (kafka, prometheus, cron)")
        }
    }

    // MARK: Behavior

    static func behavior(_ yaml: [String: Any]?, in object: String) throws(ManifestError) -> HPABehavior? {
        guard let yaml else { return nil }
        return HPABehavior(
            scaleUp: try rules(yaml["scaleUp"] as? [String: Any], defaults: .defaultScaleUp, in: object),
            scaleDown: try rules(yaml["scaleDown"] as? [String: Any], defaults: .defaultScaleDown, in: object))
    }

    /// One direction, each absent field taking the API server's default.
    static func rules(_ yaml: [String: Any]?, defaults: ScalingRules, in object: String) throws(ManifestError)
        -> ScalingRules
    {
        guard let yaml else { return defaults }
        var rules = defaults
        if let window = int(yaml["stabilizationWindowSeconds"]) { rules.stabilizationWindowSeconds = window }
        if let select = yaml["selectPolicy"] as? String {
            guard let parsed = ScalingRules.Select(rawValue: select) else {
                throw ManifestError("ScaledObject \(object): selectPolicy \(select) (Max, Min or Disabled)")
            }
            rules.selectPolicy = parsed
        }
        if let tolerance = yaml["tolerance"].flatMap(double) { rules.tolerance = tolerance }
        if let policies = yaml["policies"] as? [[String: Any]] {
            rules.policies = try policies.map { p throws(ManifestError) in
                guard let kind = (p["type"] as? String).flatMap(ScalingRules.Policy.Kind.init(rawValue:)),
                    let value = int(p["value"]), let period = int(p["periodSeconds"])
                else {
                    throw ManifestError("ScaledObject \(object): a scaling policy needs type, value and periodSeconds")
                }
                return ScalingRules.Policy(kind, value, periodSeconds: period)
            }
        }
        return rules
    }

    // MARK: Values (KEDA metadata values are strings; the HPA's are numbers)

    static func int(_ value: Any?) -> Int? {
        switch value {
        case let i as Int: i
        case let s as String: Int(s)
        default: nil
        }
    }

    static func double(_ value: Any) -> Double? {
        switch value {
        case let d as Double: d
        case let i as Int: Double(i)
        case let s as String: Double(s)
        default: nil
        }
    }
}
