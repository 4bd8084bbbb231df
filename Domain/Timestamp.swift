public import Foundation

/// Wire format for instants: ISO-8601, UTC, exactly three fractional digits
/// (`2026-11-25T10:00:00.123Z`). Computed with integer arithmetic so it is identical everywhere.
public enum Timestamp {
    /// Whole milliseconds since 1970-01-01T00:00:00Z, rounded to the nearest millisecond.
    public static func epochMilliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    public static func date(epochMilliseconds millis: Int64) -> Date {
        Date(timeIntervalSince1970: Double(millis) / 1000)
    }

    /// The same instant at millisecond precision — what survives a trip through JSON.
    public static func normalized(_ date: Date) -> Date {
        self.date(epochMilliseconds: epochMilliseconds(date))
    }

    public static func format(_ date: Date) -> String {
        let millis = epochMilliseconds(date)
        let (days, msOfDay) = floorDivision(millis, 86_400_000)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        let hour = msOfDay / 3_600_000
        let minute = msOfDay / 60_000 % 60
        let second = msOfDay / 1000 % 60
        let fraction = msOfDay % 1000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T"
            + "\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(fraction, 3))Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`; digits beyond milliseconds are truncated.
    public static func parse(_ text: String) -> Date? {
        let chars = Array(text.utf8)
        guard chars.count >= 20, chars.last == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for index in range {
                let c = chars[index]
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int64(c - 48)
            }
            return value
        }
        func char(_ index: Int, _ expected: Character) -> Bool { chars[index] == expected.asciiValue! }
        guard char(4, "-"), char(7, "-"), char(10, "T"), char(13, ":"), char(16, ":"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var millis: Int64 = 0
        let tail = 19..<(chars.count - 1)
        if !tail.isEmpty {
            guard char(19, "."), tail.count >= 2, tail.count <= 10,
                let digits = number(20..<(chars.count - 1))
            else { return nil }
            let fractionDigits = tail.count - 1
            var scaled = digits
            if fractionDigits < 3 {
                for _ in fractionDigits..<3 { scaled *= 10 }
            } else {
                for _ in 3..<fractionDigits { scaled /= 10 }
            }
            millis = scaled
        }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
            hour < 24, minute < 60, second < 60
        else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let total = days * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis
        return date(epochMilliseconds: total)
    }

    // MARK: - Civil calendar (proleptic Gregorian, after H. Hinnant's algorithms)

    private static func floorDivision(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a >= 0 ? a / b : -((-a + b - 1) / b)
        return (q, a - q * b)
    }

    private static func civilDate(daysSinceEpoch z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = floorDivision(z, 146_097).0
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func daysSinceEpoch(year y0: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? y0 - 1 : y0
        let era = floorDivision(y, 400).0
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
