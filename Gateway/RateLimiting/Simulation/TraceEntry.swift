import Domain

/// One request of a trace: when it arrived (seconds from the start of the trace) and what it was.
public struct TraceEntry: Sendable, Hashable {
    /// Seconds since the start of the trace. Traces are sorted by it.
    public let time: Double
    public let request: RateLimitRequest
    /// 1-based line of the trace file.
    public let line: Int

    public init(time: Double, request: RateLimitRequest, line: Int = 0) {
        self.time = time
        self.request = request
        self.line = line
    }
}

/// A trace file that cannot be replayed, with every bad line (the first `TraceReader.maximumProblems`).
public struct TraceError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public let file: String
        /// 1-based line number.
        public let line: Int
        public let message: String

        public init(file: String, line: Int, message: String) {
            self.file = file
            self.line = line
            self.message = message
        }

        public var description: String { "\(file):\(line): error: \(message)" }
    }

    public let problems: [Problem]
    /// Bad lines found beyond those listed.
    public let moreProblems: Int

    public init(problems: [Problem], moreProblems: Int = 0) {
        self.problems = problems
        self.moreProblems = moreProblems
    }

    public var description: String {
        let lines = problems.map(\.description)
        return (moreProblems > 0 ? lines + ["… and \(moreProblems) more bad lines"] : lines).joined(separator: "\n")
    }
}
