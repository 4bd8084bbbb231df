public import Foundation

/// The window in which a sale's workloads are scaled up before the sale, as a KEDA `cron` trigger
/// (a floor under the reactive triggers: the HPA takes the largest proposal). Reactive scaling
/// reacts in minutes and the sale spikes in the first second, so the replicas the sale needs must be
/// Ready when it opens: the window starts `lead` plus the time a pod takes to become Ready before the
/// opening, and ends `after` the sale's end (docs/kubernetes.md, "Pre-scaling a sale").
///
/// KEDA's cron fields have no year: `start` and `end` are `minute hour day month *` in `timezone`,
/// so a window repeats a year later unless the trigger is removed after the sale.
public struct PrescaleWindow: Sendable, Equatable {
    public var opensAt: Date
    public var endsAt: Date
    /// From a pod's creation to Ready: image pull, start, the startup and readiness probes.
    public var podReady: Duration
    /// Margin before the pod-ready time, for the HPA's sync and scale-up steps and for nodes.
    public var lead: Duration
    /// How long after the sale the floor stays (the backlog of orders drains after the end).
    public var after: Duration

    public init(opensAt: Date, endsAt: Date, podReady: Duration, lead: Duration, after: Duration) {
        self.opensAt = opensAt
        self.endsAt = endsAt
        self.podReady = podReady
        self.lead = lead
        self.after = after
    }

    /// Why a window cannot be rendered.
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// The window's first minute (rounded down: the floor starts no later than asked).
    public var start: Date {
        Self.floorMinute(opensAt.addingTimeInterval(-(podReady + lead).seconds))
    }

    /// The window's end (rounded up to a whole minute).
    public var end: Date {
        let end = endsAt.addingTimeInterval(after.seconds)
        let floored = Self.floorMinute(end)
        return floored == end ? end : floored.addingTimeInterval(60)
    }

    /// Checks what a cron window can express.
    public func validate() throws(Invalid) {
        guard endsAt > opensAt else { throw Invalid(description: "the sale ends before it opens") }
        guard podReady >= .zero, lead >= .zero, after >= .zero else {
            throw Invalid(description: "pod-ready time, lead and after must not be negative")
        }
        // Without a year, a window of a year or more would overlap itself.
        guard end.timeIntervalSince(start) < 364 * 86_400 else {
            throw Invalid(description: "a cron window must be shorter than a year")
        }
    }

    /// `minute hour day month *` of `date` in `timezone`.
    public static func cron(_ date: Date, in timezone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timezone
        let c = calendar.dateComponents([.minute, .hour, .day, .month], from: date)
        return "\(c.minute!) \(c.hour!) \(c.day!) \(c.month!) *"
    }

    /// The KEDA `cron` trigger: every metadata value a string, as KEDA's schema requires.
    public func trigger(name: String, replicas: Int, timezone: TimeZone) throws(Invalid) -> CronTrigger {
        try validate()
        guard replicas >= 1 else { throw Invalid(description: "desired replicas must be at least 1") }
        return CronTrigger(
            name: name, timezone: timezone.identifier, start: Self.cron(start, in: timezone),
            end: Self.cron(end, in: timezone), desiredReplicas: replicas)
    }

    static func floorMinute(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60)
    }
}

/// A KEDA `cron` trigger (`type: cron`).
public struct CronTrigger: Sendable, Equatable {
    public var name: String
    public var timezone: String
    public var start: String
    public var end: String
    public var desiredReplicas: Int

    /// The trigger as an item of `spec.triggers`, indented by `indent` spaces.
    public func yaml(indent: Int = 0) -> String {
        let pad = String(repeating: " ", count: indent)
        return """
            \(pad)- type: cron
            \(pad)  name: \(name)
            \(pad)  metadata:
            \(pad)    timezone: "\(timezone)"
            \(pad)    start: "\(start)"
            \(pad)    end: "\(end)"
            \(pad)    desiredReplicas: "\(desiredReplicas)"

            """
    }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
