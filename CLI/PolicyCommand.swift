import ArgumentParser
import RateLimiting

/// `flashdeal policy`: check and try out rate-limit policy files before they reach the gateway.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Validate rate-limit policy files and replay traces against them.",
        subcommands: [Check.self, Simulate.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate policy files; prints file:line:column errors and exits non-zero if any file is bad.")

        @Argument(help: "Policy files to check.") var files: [String]

        func run() throws {
            let results = PolicyCheck.check(paths: files)
            for result in results { Swift.print(result.rendered) }
            if let summary = PolicyCheck.summary(results) {
                Swift.print(summary)
                throw ExitCode.failure
            }
        }
    }

    struct Simulate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay a JSON-lines trace against a policy file, offline, and report what each policy would do.")

        @Option(help: "The policy file.") var policies: String
        @Option(help: "The trace: one JSON request per line, sorted by t (seconds from the start).") var trace: String
        @Flag(help: "Also print the per-second timeline.") var timeline = false

        func run() throws {
            let set: PolicySet
            do throws(PolicyFileError) { set = try PolicyLoader.load(path: policies) } catch {
                Swift.print(error.description)
                throw ExitCode.failure
            }
            let entries: [TraceEntry]
            do throws(TraceError) { entries = try TraceReader.load(path: trace) } catch {
                Swift.print(error.description)
                throw ExitCode.failure
            }
            let report = PolicySimulator.run(set, trace: entries)
            Swift.print(report.rendered(policySet: set, traceName: trace, timeline: timeline))
        }
    }
}
