import Foundation

/// Reads JSON-lines traces (one request per line, sorted by `t`). The whole trace is read and
/// checked before anything is simulated, so a bad line never leaves a half-printed report.
public enum TraceReader {
    /// How many bad lines one error lists.
    public static let maximumProblems = 20

    public static func load(path: String) throws(TraceError) -> [TraceEntry] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TraceError(problems: [
                .init(file: path, line: 1, message: "cannot read the trace: \(error.localizedDescription)")
            ])
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw TraceError(problems: [.init(file: path, line: 1, message: "the trace is not UTF-8 text")])
        }
        return try parse(text, file: path)
    }

    /// Parses trace text; blank lines are skipped.
    public static func parse(_ text: String, file: String = "<memory>") throws(TraceError) -> [TraceEntry] {
        let decoder = JSONDecoder()
        var entries: [TraceEntry] = []
        var problems: [TraceError.Problem] = []
        var extra = 0
        var previous: (time: Double, line: Int)?
        func report(_ line: Int, _ message: String) {
            if problems.count < maximumProblems {
                problems.append(.init(file: file, line: line, message: message))
            } else {
                extra += 1
            }
        }
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            if line.allSatisfy(\.isWhitespace) { continue }
            do {
                let parsed = try decoder.decode(TraceLine.self, from: Data(line.utf8))
                if let previous, parsed.time < previous.time {
                    report(
                        number,
                        "t is \(parsed.time), earlier than \(previous.time) on line \(previous.line); sort the trace by t"
                    )
                    continue
                }
                previous = (parsed.time, number)
                entries.append(TraceEntry(time: parsed.time, request: parsed.request, line: number))
            } catch let problem as TraceLine.Problem {
                report(number, problem.message)
            } catch {
                report(number, "not valid JSON")
            }
        }
        guard problems.isEmpty else { throw TraceError(problems: problems, moreProblems: extra) }
        return entries
    }
}
