import Domain
import RateLimiting
import Testing

@Suite("Simulation: trace files")
struct SimulationTraceTests {
    @Test("a trace line maps onto a RateLimitRequest; blank lines are skipped")
    func parsesLines() throws {
        let entries = try TraceReader.parse(
            """
            {"t": 0.125, "op": "createOrder", "deal": "deal-7", "user": "u-1", "ip": "10.0.0.1", "headers": {"X-Api-Key": "k1"}, "labels": {"tier": "public"}}

            {"t": 1, "op": "deals", "user": null}
            """)
        #expect(entries.count == 2)
        let first = entries[0]
        #expect(first.time == 0.125 && first.line == 1)
        #expect(
            first.request
                == RateLimitRequest(
                    operation: "createOrder", dealId: try DealID("deal-7"), userId: try UserID("u-1"),
                    clientIP: "10.0.0.1", headers: ["x-api-key": "k1"], labels: ["tier": "public"]))
        #expect(first.request.headers["x-api-key"] == "k1")
        #expect(entries[1].line == 3)
        #expect(entries[1].request.userId == nil && entries[1].request.clientIP.isEmpty)
    }

    @Test(
        "bad lines are reported with their line numbers, all of them, and nothing is returned",
        arguments: [
            (#"{"t": 0.5, "op": "deal"#, "not valid JSON"),
            (#"[1, 2]"#, #"expected a JSON object like {"t": 0.5, "op": "createOrder", "ip": "10.0.0.1"}"#),
            (#"{"op": "deal"}"#, #"missing field "t" (seconds since the start of the trace)"#),
            (#"{"t": "soon", "op": "deal"}"#, #"field "t" must be a number of seconds"#),
            (#"{"t": -1, "op": "deal"}"#, #"field "t" must be zero or more seconds, got -1.0"#),
            (#"{"t": 1}"#, #"missing field "op" (the GraphQL operation, e.g. "createOrder")"#),
            (
                #"{"t": 1, "op": "deal", "usr": "u-1"}"#,
                #"unknown field "usr" (did you mean user?); fields are t, op, deal, user, ip, headers or labels"#
            ),
            (
                #"{"t": 1, "op": "deal", "user": "u 1"}"#,
                #"field "user": userId contains " " at position 1; allowed are letters, digits, '-', '_', '.', ':'"#
            ),
            (#"{"t": 1, "op": "deal", "headers": {"a": 1}}"#, #"field "headers" must be an object of strings"#),
        ])
    func badLines(line: String, message: String) {
        let text = #"{"t": 0, "op": "deals"}"# + "\n" + line + "\n"
        #expect {
            _ = try TraceReader.parse(text, file: "trace.jsonl")
        } throws: { error in
            guard let error = error as? TraceError else { return false }
            return error.problems == [TraceError.Problem(file: "trace.jsonl", line: 2, message: message)]
                && error.description == "trace.jsonl:2: error: \(message)"
        }
    }

    @Test("a trace must be sorted by t; every bad line is listed up to a limit")
    func orderingAndLimit() throws {
        #expect(
            throws: TraceError(problems: [
                .init(
                    file: "<memory>", line: 3,
                    message: "t is 0.5, earlier than 2.0 on line 2; sort the trace by t")
            ])
        ) {
            try TraceReader.parse(
                #"{"t": 1, "op": "a"}"# + "\n" + #"{"t": 2, "op": "a"}"# + "\n" + #"{"t": 0.5, "op": "a"}"#)
        }
        let many = Array(repeating: "nope", count: TraceReader.maximumProblems + 5).joined(separator: "\n")
        #expect {
            _ = try TraceReader.parse(many)
        } throws: { error in
            guard let error = error as? TraceError else { return false }
            return error.problems.count == TraceReader.maximumProblems && error.moreProblems == 5
                && error.problems.map(\.line) == Array(1...TraceReader.maximumProblems)
                && error.description.hasSuffix("… and 5 more bad lines")
        }
    }
}
