import Autoscaling
import Foundation
import Testing

@Suite("A sale's pre-scale window as a KEDA cron trigger")
struct PrescaleWindowTests {
    static let utc = TimeZone(identifier: "UTC")!
    static let seoul = TimeZone(identifier: "Asia/Seoul")!

    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func theWindowOpensThePodReadyTimeAndTheLeadBeforeTheSaleAndClosesAfterIt() throws {
        let window = PrescaleWindow(
            opensAt: Self.date("2026-12-24T11:00:00Z"), endsAt: Self.date("2026-12-24T12:00:00Z"),
            podReady: .seconds(90), lead: .seconds(600), after: .seconds(900))
        // 11:00 − 90 s − 10 min = 10:48:30, rounded down to the minute; 12:15 exactly.
        #expect(window.start == Self.date("2026-12-24T10:48:00Z"))
        #expect(window.end == Self.date("2026-12-24T12:15:00Z"))
        let trigger = try window.trigger(name: "sale-xmas", replicas: 24, timezone: Self.seoul)
        // Seoul is UTC+9: the cron fields are local time, one-off by day and month.
        #expect(trigger.start == "48 19 24 12 *" && trigger.end == "15 21 24 12 *")
        #expect(trigger.timezone == "Asia/Seoul" && trigger.desiredReplicas == 24)
        #expect(
            trigger.yaml(indent: 2) == """
                  - type: cron
                    name: sale-xmas
                    metadata:
                      timezone: "Asia/Seoul"
                      start: "48 19 24 12 *"
                      end: "15 21 24 12 *"
                      desiredReplicas: "24"

                """)
    }

    @Test func anEndThatIsNotOnAMinuteIsRoundedUpAndADayBoundaryIsCrossed() throws {
        let window = PrescaleWindow(
            opensAt: Self.date("2026-12-31T23:50:00Z"), endsAt: Self.date("2027-01-01T00:20:10Z"),
            podReady: .seconds(120), lead: .seconds(300), after: .zero)
        let trigger = try window.trigger(name: "sale-ny", replicas: 3, timezone: Self.utc)
        #expect(trigger.start == "43 23 31 12 *" && trigger.end == "21 0 1 1 *")
    }

    @Test func windowsACronTriggerCannotSayAreRefused() {
        let opens = Self.date("2026-12-24T11:00:00Z")
        let cases: [(PrescaleWindow, Int, String)] = [
            (
                PrescaleWindow(opensAt: opens, endsAt: opens, podReady: .seconds(60), lead: .zero, after: .zero), 2,
                "ends before"
            ),
            (
                PrescaleWindow(
                    opensAt: opens, endsAt: opens + 3_600, podReady: .seconds(-1), lead: .zero, after: .zero), 2,
                "negative"
            ),
            (
                PrescaleWindow(
                    opensAt: opens, endsAt: opens + 365 * 86_400, podReady: .zero, lead: .zero, after: .zero), 2,
                "shorter than a year"
            ),
            (
                PrescaleWindow(opensAt: opens, endsAt: opens + 3_600, podReady: .zero, lead: .zero, after: .zero), 0,
                "at least 1"
            ),
        ]
        for (window, replicas, message) in cases {
            #expect {
                _ = try window.trigger(name: "sale-x", replicas: replicas, timezone: Self.utc)
            } throws: { error in
                "\(error)".contains(message)
            }
        }
    }

    @Test func thePatchAppendsTheTriggerAndAnnotatesTheSaleStart() throws {
        let window = PrescaleWindow(
            opensAt: Self.date("2026-12-24T11:00:00Z"), endsAt: Self.date("2026-12-24T12:00:00Z"),
            podReady: .seconds(90), lead: .seconds(600), after: .seconds(900))
        let patch = try PrescalePatch(deal: "Xmas_Deal:2026", window: window, replicas: 24, timezone: Self.utc)
        #expect(patch.trigger.name == "sale-xmas-deal-2026")
        let text = patch.yaml(scaledObject: "order-worker")
        #expect(text.contains("path: /spec/triggers/-"))
        #expect(text.contains("path: /metadata/annotations/flashdeal.io~1sale-start.sale-xmas-deal-2026"))
        #expect(text.contains("value: \"2026-12-24T11:00:00Z\""))
        // The pod-ready time is the workload's (its annotation or probes), not the patch's to set.
        #expect(!text.contains("pod-ready-seconds"))
        #expect(text.contains("start: \"48 10 24 12 *\"") && text.contains("end: \"15 12 24 12 *\""))
        #expect(PrescalePatch.triggerName(String(repeating: "a", count: 80)).count == 47)
    }
}
