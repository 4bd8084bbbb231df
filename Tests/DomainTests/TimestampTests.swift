import Domain
import Foundation
import Testing

@Suite("Timestamps")
struct TimestampTests {
    /// Expected strings computed with Python's datetime.
    @Test(
        "formats as ISO-8601 UTC with milliseconds",
        arguments: [
            (Int64(0), "1970-01-01T00:00:00.000Z"), (1_795_600_800_123, "2026-11-25T10:00:00.123Z"),
            (-1, "1969-12-31T23:59:59.999Z"), (1_709_251_199_999, "2024-02-29T23:59:59.999Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"), (-2_208_988_800_000, "1900-01-01T00:00:00.000Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        ])
    func format(millis: Int64, expected: String) {
        #expect(Timestamp.format(Timestamp.date(epochMilliseconds: millis)) == expected)
        #expect(Timestamp.parse(expected).map(Timestamp.epochMilliseconds) == millis)
    }

    @Test("parses shorter and longer fractions, truncating below a millisecond")
    func parseFractions() {
        #expect(Timestamp.parse("2026-11-25T10:00:00Z").map(Timestamp.epochMilliseconds) == 1_795_600_800_000)
        #expect(Timestamp.parse("2026-11-25T10:00:00.1Z").map(Timestamp.epochMilliseconds) == 1_795_600_800_100)
        #expect(Timestamp.parse("2026-11-25T10:00:00.123456789Z").map(Timestamp.epochMilliseconds) == 1_795_600_800_123)
    }

    @Test(
        "refuses malformed text",
        arguments: [
            "", "2026-11-25", "2026-11-25T10:00:00.123", "2026-11-25T10:00:00.123+09:00", "2026-13-01T00:00:00.000Z",
            "2026-02-29T00:00:00.000Z", "2026-11-25T24:00:00.000Z", "2026-11-25T10:00:00.Z", "2026/11/25T10:00:00.000Z",
        ])
    func parseRejects(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    @Test("sub-millisecond precision is rounded away")
    func normalized() {
        let date = Date(timeIntervalSince1970: 1_795_600_800.1234)
        #expect(Timestamp.format(date) == "2026-11-25T10:00:00.123Z")
        #expect(Timestamp.normalized(date) == Timestamp.date(epochMilliseconds: 1_795_600_800_123))
    }
}
