import Foundation

/// A what-if: the manifests' configuration with a few numbers changed, written
/// `name: key=value key=value …` (e.g. `reactive only: cron=off`, `48 partitions: partitions=48 worker.max=48`).
public struct SimulationVariant: Sendable, Equatable {
    public var name: String
    public var changes: [(key: String, value: String)]

    public static func == (a: Self, b: Self) -> Bool {
        a.name == b.name && a.changes.map(\.key) == b.changes.map(\.key)
            && a.changes.map(\.value) == b.changes.map(\.value)
    }

    /// The keys a variant may set, with what each changes.
    public static let keys: [(String, String)] = [
        ("cron", "off (remove the cron triggers) or N (their desiredReplicas)"),
        ("gateway.cron", "the gateway's cron desiredReplicas"), ("worker.cron", "the workers' cron desiredReplicas"),
        ("cron.start", "HH:MM, the cron windows' start"),
        ("partitions", "the order-requests topic's partitions"),
        ("worker.lagThreshold", "the kafka trigger's lagThreshold"),
        ("gateway.threshold", "the threshold of every gateway prometheus trigger, in the order given, comma-separated"),
        ("gateway.min", "minReplicaCount"), ("gateway.max", "maxReplicaCount"),
        ("worker.min", "minReplicaCount"), ("worker.max", "maxReplicaCount"),
        ("tolerance.up", "behavior.scaleUp.tolerance of both"),
        ("pod-ready", "seconds from a pod's creation to Ready, both workloads"),
        ("rebalance-pause", "seconds every worker group change pauses consumption"),
    ]

    public init(name: String, changes: [(key: String, value: String)]) {
        self.name = name
        self.changes = changes
    }

    /// Parses `name: key=value …`.
    public init(parsing text: String) throws(ManifestError) {
        guard let colon = text.firstIndex(of: ":") else {
            throw ManifestError("variant \(text.debugDescription): write `name: key=value …`")
        }
        let name = text[..<colon].trimmingCharacters(in: .whitespaces)
        var changes: [(key: String, value: String)] = []
        for pair in text[text.index(after: colon)...].split(separator: " ", omittingEmptySubsequences: true) {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, Self.keys.contains(where: { $0.0 == kv[0] }) else {
                let known = Self.keys.map(\.0).joined(separator: ", ")
                throw ManifestError("variant \(name): \(pair.debugDescription) (keys: \(known))")
            }
            changes.append((kv[0], kv[1]))
        }
        guard !name.isEmpty else { throw ManifestError("variant \(text.debugDescription): no name") }
        self.init(name: name, changes: changes)
    }

    /// `base` with the changes applied.
    public func apply(to base: SimulationConfiguration) throws(ManifestError) -> SimulationConfiguration {
        var c = base
        c.name = name
        for (key, value) in changes {
            func int() throws(ManifestError) -> Int {
                guard let n = Int(value), n >= 0 else {
                    throw ManifestError("variant \(name): \(key)=\(value) is not a count")
                }
                return n
            }
            func number() throws(ManifestError) -> Double {
                guard let n = Double(value), n >= 0 else {
                    throw ManifestError("variant \(name): \(key)=\(value) is not a number")
                }
                return n
            }
            switch key {
            case "cron":
                if value == "off" {
                    c.gateway.triggers.removeAll { if case .cron = $0 { true } else { false } }
                    c.worker.triggers.removeAll { if case .cron = $0 { true } else { false } }
                } else {
                    let n = try int()
                    c.gateway.triggers = c.gateway.triggers.map { Self.cron($0) { $0.desiredReplicas = n } }
                    c.worker.triggers = c.worker.triggers.map { Self.cron($0) { $0.desiredReplicas = n } }
                }
            case "gateway.cron":
                let n = try int()
                c.gateway.triggers = c.gateway.triggers.map { Self.cron($0) { $0.desiredReplicas = n } }
            case "worker.cron":
                let n = try int()
                c.worker.triggers = c.worker.triggers.map { Self.cron($0) { $0.desiredReplicas = n } }
            case "cron.start":
                let parts = value.split(separator: ":").compactMap { Int($0) }
                guard parts.count == 2, (0..<24).contains(parts[0]), (0..<60).contains(parts[1]) else {
                    throw ManifestError("variant \(name): cron.start=\(value) is not HH:MM")
                }
                let start = CronTime(minute: parts[1], hour: parts[0])
                c.gateway.triggers = c.gateway.triggers.map { Self.cron($0) { $0.start = start } }
                c.worker.triggers = c.worker.triggers.map { Self.cron($0) { $0.start = start } }
            case "partitions": c.model.partitions = max(1, try int())
            case "worker.lagThreshold":
                let n = Int64(max(1, try int()))
                c.worker.triggers = c.worker.triggers.map { t in
                    guard case .kafka(let tn, var k) = t else { return t }
                    k.lagThreshold = n
                    return .kafka(name: tn, k)
                }
            case "gateway.threshold":
                var thresholds = value.split(separator: ",").compactMap { Double($0) }[...]
                c.gateway.triggers = c.gateway.triggers.map { t in
                    guard case .prometheus(let tn, var p) = t, let next = thresholds.popFirst() else { return t }
                    p.threshold = next
                    return .prometheus(name: tn, p)
                }
            case "gateway.min": c.gateway.minReplicaCount = try int()
            case "gateway.max": c.gateway.maxReplicaCount = try int()
            case "worker.min": c.worker.minReplicaCount = try int()
            case "worker.max": c.worker.maxReplicaCount = try int()
            case "tolerance.up":
                let t = try number()
                for keyPath in [\SimulationConfiguration.gateway, \SimulationConfiguration.worker] {
                    var behavior = c[keyPath: keyPath].behavior ?? HPABehavior()
                    behavior.scaleUp.tolerance = t
                    c[keyPath: keyPath].behavior = behavior
                }
            case "pod-ready":
                c.model.gatewayPodReadySeconds = try number()
                c.model.workerPodReadySeconds = try number()
            case "rebalance-pause": c.model.rebalancePauseSeconds = try number()
            default: throw ManifestError("variant \(name): unknown key \(key)")
            }
        }
        return c
    }

    static func cron(_ trigger: ScaledObject.Trigger, _ change: (inout CronFloorTrigger) -> Void)
        -> ScaledObject.Trigger
    {
        guard case .cron(let name, var cron) = trigger else { return trigger }
        change(&cron)
        return .cron(name: name, cron)
    }
}
