public import Foundation

/// A sale's pre-scale window as a kustomize JSON 6902 patch on a ScaledObject: the `cron` trigger
/// appended to `spec.triggers`, and the annotation `flashdeal.io/sale-start.<trigger name>` with
/// which `scripts/k8s-check` checks that the window opens at least the workload's pod-ready time
/// (its `flashdeal.io/pod-ready-seconds`, or its startup probe's worst case) before the sale. The
/// ScaledObject must have `metadata.annotations` (the project's do).
public struct PrescalePatch: Sendable, Equatable {
    public var window: PrescaleWindow
    public var trigger: CronTrigger

    /// - Parameter deal: the deal's id; the trigger is named `sale-<id>` (lowercased, anything but
    ///   letters, digits and `-` turned into `-`, shortened to fit an annotation's name).
    public init(deal: String, window: PrescaleWindow, replicas: Int, timezone: TimeZone) throws(PrescaleWindow.Invalid)
    {
        self.window = window
        self.trigger = try window.trigger(name: Self.triggerName(deal), replicas: replicas, timezone: timezone)
    }

    /// `sale-<deal>`, at most 47 characters so that `sale-start.<name>` fits an annotation name (63).
    public static func triggerName(_ deal: String) -> String {
        var slug = String(deal.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" })
        while slug.contains("--") { slug = slug.replacingOccurrences(of: "--", with: "-") }
        slug = slug.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        return String(("sale-" + slug).prefix(47)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }

    public static let saleStartAnnotation = "flashdeal.io/sale-start."

    /// The patch file's text, with a comment saying how to use it.
    public func yaml(scaledObject: String) -> String {
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime]
        let podReady = Int(window.podReady.seconds.rounded(.up))
        let tilde = { (name: String) in
            name.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
        }
        return """
            # Pre-scale for \(trigger.name): the sale opens \(iso.string(from: window.opensAt)) and ends \
            \(iso.string(from: window.endsAt)).
            # Floor of \(trigger.desiredReplicas) replicas from \(iso.string(from: window.start)) (pods Ready in \
            \(podReady) s, plus the lead) to \(iso.string(from: window.end)), in \(trigger.timezone).
            # Written by `flashdeal autoscale prescale`. Use it in a kustomization:
            #   patches:
            #     - path: <this file>
            #       target: {group: keda.sh, kind: ScaledObject, name: \(scaledObject)}
            # Remove it after the sale: a cron window has no year and would come back a year later.
            - op: add
              path: /spec/triggers/-
              value:
                type: cron
                name: \(trigger.name)
                metadata:
                  timezone: "\(trigger.timezone)"
                  start: "\(trigger.start)"
                  end: "\(trigger.end)"
                  desiredReplicas: "\(trigger.desiredReplicas)"
            - op: add
              path: /metadata/annotations/\(tilde(Self.saleStartAnnotation + trigger.name))
              value: "\(iso.string(from: window.opensAt))"

            """
    }
}
