import Testing

@testable import Gateway

@Suite("Trace context")
struct TraceContextTests {
    @Test func newRootsAreWellFormedAndDistinct() {
        var seen = Set<String>()
        for _ in 0..<2_000 {
            let traceparent = TraceContext.traceparent(from: nil)
            #expect(TraceContext.isValid(traceparent), "\(traceparent)")
            #expect(traceparent.hasPrefix("00-") && traceparent.hasSuffix("-01"))
            seen.insert(traceparent)
        }
        #expect(seen.count == 2_000)
        // Every hex digit turns up in every position of the trace id over 2,000 draws (a digit
        // stuck in one position has probability 16 × (15/16)^2000 ≈ 0 of passing).
        let ids = seen.map { Array($0.split(separator: "-")[1].utf8) }
        for position in 0..<32 {
            #expect(Set(ids.map { $0[position] }).count == 16, "trace id position \(position)")
        }
    }

    @Test func aCallersContextIsContinuedWithANewSpan() {
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let child = TraceContext.traceparent(from: parent)
        let parts = child.split(separator: "-")
        #expect(parts[1] == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(parts[2] != "00f067aa0ba902b7" && parts[2].count == 16)
        #expect(parts[3] == "01")
        #expect(TraceContext.isValid(child))
        #expect(TraceContext.randomHex(3).count == 6)
        #expect(TraceContext.randomHex(0).isEmpty)
    }

    @Test func malformedContextsStartANewTrace() {
        for bad in [
            "", "00-abc-def-01", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        ] {
            let fresh = TraceContext.traceparent(from: bad)
            #expect(TraceContext.isValid(fresh))
            #expect(!fresh.contains("4bf92f35") && !fresh.contains("4BF92F35"))
        }
    }
}
