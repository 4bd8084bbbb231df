import Foundation
import TestSupport
import Testing

/// librdkafka's own complaints go through the process's logger, once per client and facility per
/// 10 s, instead of one raw `%3|…` line on standard error per reconnect attempt.
@Suite("librdkafka's log lines")
struct KafkaLogTests {
    @Test func anUnreachableBrokerIsReportedThroughTheLoggerAFewTimesNotOnEveryReconnect() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["FLASHDEAL_KAFKA_BROKERS"] = "127.0.0.1:1"  // nothing listens on port 1
        let ping = try ChildProcess(
            product: "flashdeal",
            arguments: [
                "ping", "--timeout-ms", "4000",
                "--endpoints", TestStack.root + "/.stack/endpoints.env",
            ],
            environment: environment)
        defer { try? FileManager.default.removeItem(atPath: ping.logFile) }
        let status = ping.wait()
        let lines = ping.log.split(separator: "\n")
        #expect(status == 1, "ping must fail for Kafka: \(ping.log)")
        #expect(lines.contains { $0.hasPrefix("kafka") && $0.contains("FAIL") }, "\(ping.log)")
        let raw = lines.filter { $0.first == "%" && $0.dropFirst().first?.isNumber == true }
        #expect(
            raw.isEmpty, "librdkafka wrote \(raw.count) lines of its own:\n\(raw.prefix(5).joined(separator: "\n"))")
        let complaints = lines.filter { $0.contains("127.0.0.1:1") && $0.contains("flashdeal.kafka.librdkafka") }
        #expect(!complaints.isEmpty, "the broker's failure is still reported:\n\(ping.log)")
        #expect(complaints.count <= 4, "\(complaints.count) lines in 4 s:\n\(complaints.joined(separator: "\n"))")
    }
}
