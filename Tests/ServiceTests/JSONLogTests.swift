import Foundation
import Logging
import Operations
import Synchronization
import Testing

/// The processes' log lines: one JSON object each, with the trace of the work they belong to.
@Suite("JSON log lines")
struct JSONLogTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    func logger(_ lines: Lines, level: Logger.Level = .info) -> Logger {
        Logger(label: "flashdeal.test") { label in
            JSONLogHandler(label: label, level: level, metadataProvider: LogTrace.metadataProvider, sink: lines.append)
        }
    }

    func object(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func aLineIsOneJSONObjectWithLevelLoggerMessageTimeAndMetadata() throws {
        let lines = Lines()
        var log = logger(lines)
        log[metadataKey: "deal"] = "deal-7"
        log.warning("stock is low\nreally", metadata: ["remaining": "3", "orders": .array(["a", "b"])])
        let text = try #require(lines.all.first)
        #expect(!text.contains("\n"), "one line per entry: newlines inside values are escaped")
        let o = try object(text)
        #expect(o["level"] as? String == "warning")
        #expect(o["logger"] as? String == "flashdeal.test")
        #expect(o["message"] as? String == "stock is low\nreally")
        #expect(o["deal"] as? String == "deal-7")
        #expect(o["remaining"] as? String == "3")
        #expect(o["orders"] as? [String] == ["a", "b"])
        let ts = try #require(o["ts"] as? String)
        #expect(ts.hasSuffix("Z") && ts.contains("."), "ISO 8601 UTC with milliseconds: \(ts)")
        #expect(o["trace_id"] == nil, "no trace outside traced work")
    }

    @Test func linesLoggedInsideTracedWorkCarryItsTraceAndSpanIds() async throws {
        let lines = Lines()
        let log = logger(lines)
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        await LogTrace.$traceparent.withValue(traceparent) {
            log.info("order accepted")
            await Task.yield()
            log.info("still the same request")
        }
        log.info("after it")
        let all = try lines.all.map(object)
        #expect(all.count == 3)
        for o in all.prefix(2) {
            #expect(o["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
            #expect(o["span_id"] as? String == "00f067aa0ba902b7")
        }
        #expect(all[2]["trace_id"] == nil)
    }

    @Test func theLevelFiltersAndBadSettingsAreRefused() throws {
        let lines = Lines()
        let log = logger(lines, level: .warning)
        log.info("not shown")
        log.error("shown")
        #expect(lines.all.count == 1)
        #expect(throws: FlashDealLogging.Invalid.self) {
            try FlashDealLogging.bootstrap(environment: ["LOG_LEVEL": "loud"])
        }
        #expect(throws: FlashDealLogging.Invalid.self) {
            try FlashDealLogging.bootstrap(environment: ["LOG_FORMAT": "xml"])
        }
    }
}
