/// Reads typed settings out of a process environment, strictly: a variable that is unset or empty
/// keeps its default, and one that is set to something that does not parse, or lies outside its
/// range, is an error naming the variable — never silently ignored. Every process reads its numeric
/// settings through this.
public struct EnvironmentValues: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String]) {
        self.values = values
    }

    /// A malformed or out-of-range setting (``ConfigurationError/setting`` is the variable's name).
    public typealias Invalid = ConfigurationError

    /// The variable's text, or nil when unset or empty.
    public func string(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    /// An integer within `range`.
    public func int(_ name: String, in range: ClosedRange<Int>) throws(Invalid) -> Int? {
        guard let raw = string(name) else { return nil }
        guard let value = Int(raw), range.contains(value) else {
            throw Invalid(
                "\(name) must be an integer in \(range.lowerBound)…\(range.upperBound), got \(raw.debugDescription)",
                setting: name)
        }
        return value
    }

    /// A number within `range`.
    public func double(_ name: String, in range: ClosedRange<Double>) throws(Invalid) -> Double? {
        guard let raw = string(name) else { return nil }
        guard let value = Double(raw), value.isFinite, range.contains(value) else {
            throw Invalid(
                "\(name) must be a number in \(range.lowerBound)…\(range.upperBound), got \(raw.debugDescription)",
                setting: name)
        }
        return value
    }

    /// Whole milliseconds within `range`, as a duration.
    public func milliseconds(_ name: String, in range: ClosedRange<Int>) throws(Invalid) -> Duration? {
        try int(name, in: range).map { .milliseconds($0) }
    }
}
