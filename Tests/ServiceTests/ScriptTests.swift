import DealAudit
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The scripts around the services: `make demo`'s verdict and report (`scripts/demo_report.py`,
/// from fixture inputs in the formats `scripts/demo` writes: k6's summary export and text output,
/// `flashdeal verify`'s and `flashdeal deal create/show`'s output) and `scripts/stack`'s check that
/// a server's port is free before it starts.
@Suite("Scripts: the demo's verdict and report, the stack's port check")
struct ScriptTests {
    static let root = TestStack.root

    // MARK: - Running a script

    struct Run: CustomStringConvertible {
        /// The exit code; nil when a signal ended it or it ran out of time.
        let status: Int32?
        /// Standard output and error together.
        let output: String
        let timedOut: Bool
        var description: String {
            "exit \(status.map(String.init) ?? "none")\(timedOut ? " (timed out)" : ""):\n\(output)"
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `arguments` (an executable path first) with the test's environment plus `environment`,
    /// output into a file, in a process group of its own that is SIGKILLed after `timeout`.
    /// posix_spawn and waitpid rather than Foundation's `Process`: a server a script daemonizes
    /// would keep the descriptors `Process` watches, and its wait would not return.
    static func run(
        _ arguments: [String], environment: [String: String] = [:],
        timeout: Duration = .seconds(120)
    ) throws -> Run {
        let outputFile = NSTemporaryDirectory() + "script-test-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: outputFile) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard spawned == 0 else { throw Failure(description: "posix_spawn \(arguments[0]) failed: \(spawned)") }
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        var timedOut = false
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped == -1 && errno != EINTR { throw Failure(description: "waitpid failed: errno \(errno)") }
            if ContinuousClock.now >= deadline {
                timedOut = true
                kill(-pid, SIGKILL)
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                break
            }
            usleep(20_000)
        }
        let output = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
        let exited = status & 0x7f == 0
        return Run(status: timedOut || !exited ? nil : (status >> 8) & 0xff, output: output, timedOut: timedOut)
    }

    /// The project venv's Python (as `scripts/demo` runs the report), else python3 on the PATH.
    static var python: String {
        let venv = root + "/.deps/venv/bin/python"
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "/usr/bin/python3"
    }

    static func scratchDirectory(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    // MARK: - Fixtures, in the formats scripts/demo writes

    /// k6's `--summary-export` (k6.json): `"thresholds": {expression: crossed}` per metric.
    static let k6ThresholdsMet = """
        {"metrics": {
          "http_req_duration": {"avg": 21.3, "med": 9.5, "p(95)": 58.2, "max": 410, "thresholds": {"p(95)<200": false}},
          "http_req_duration{name:createOrder}": {"count": 435, "med": 41.2, "p(95)": 120.4, "p(99)": 180.2, "max": 410, "thresholds": {"max>=0": false}},
          "failures": {"count": 0, "rate": 0, "thresholds": {"count<1": false}},
          "failures{code:UNAVAILABLE}": {"count": 0, "rate": 0, "thresholds": {"count>=0": false}},
          "iterations": {"count": 4680, "rate": 97.5},
          "http_reqs": {"count": 9890, "rate": 206}
        }}
        """
    static let k6ThresholdsMissed = """
        {"metrics": {
          "http_req_duration": {"avg": 120.1, "med": 9.5, "p(95)": 312.4, "max": 3012, "thresholds": {"p(95)<200": true}},
          "http_req_duration{name:createOrder}": {"count": 435, "med": 412.3, "p(95)": 1152.5, "p(99)": 1348.4, "max": 3012, "thresholds": {"max>=0": false}},
          "failures": {"count": 20, "rate": 0.4, "thresholds": {"count<1": true}},
          "failures{code:UNAVAILABLE}": {"count": 20, "rate": 0.4, "thresholds": {"count>=0": false}},
          "iterations": {"count": 4680, "rate": 97.5},
          "http_reqs": {"count": 9890, "rate": 206}
        }}
        """
    /// Errors that no threshold counts (k6 exits 0): still not a clean run.
    static let k6ErrorsWithoutThreshold = """
        {"metrics": {
          "http_req_duration": {"avg": 21.3, "med": 9.5, "p(95)": 58.2, "max": 410, "thresholds": {"p(95)<200": false}},
          "failures": {"count": 3, "rate": 0.1},
          "failures{code:HTTP_0}": {"count": 3, "rate": 0.1, "thresholds": {"count>=0": false}}
        }}
        """
    /// k6's text output (k6.txt) of a run whose thresholds failed.
    static let k6TextMissed = """
          █ THRESHOLDS

            failures
            ✗ 'count<1' count=20

              {code:UNAVAILABLE}
              ✓ 'count>=0' count=20

            http_req_duration
            ✗ 'p(95)<200' p(95)=312.4ms


          █ TOTAL RESULTS

            CUSTOM
            failures...........................................: 20   0.4/s

        time="2026-12-06T10:01:02Z" level=error msg="thresholds on metrics 'failures, http_req_duration' have been crossed"
        """
    static let k6TextMet = """
          █ THRESHOLDS

            failures
            ✓ 'count<1' count=0

            http_req_duration
            ✓ 'p(95)<200' p(95)=58.2ms
        """
    /// `flashdeal verify`'s report (DealAudit.text).
    static let verifyPass = """
        deal demo-fixture: total stock 300, per-customer limit 1
          requested orders : 435 (accepted by the gateway per Redis: 435, still undecided: 0)
          in MongoDB       : PENDING 0, CONFIRMED 300, REJECTED 135, FAILED 0, CANCELLED 0
          sold (confirmed) : 300 units
          Redis stock      : 0 (sold-out flag set)
          outbox pending   : 0
          duplicate event deliveries (same event id, deduplicated by consumers): 0
        invariants: PASS
        """
    static let verifyFail = """
        deal demo-fixture: total stock 300, per-customer limit 1
          requested orders : 435 (accepted by the gateway per Redis: 435, still undecided: 0)
          in MongoDB       : PENDING 0, CONFIRMED 301, REJECTED 134, FAILED 0, CANCELLED 0
          sold (confirmed) : 301 units
          Redis stock      : 0 (sold-out flag set)
          outbox pending   : 0
          duplicate event deliveries (same event id, deduplicated by consumers): 0
        invariants: FAIL — 1 violation:
          - oversold: 301 units confirmed, stock was 300
        """
    /// `flashdeal deal create` (before the opening) and `flashdeal deal show` (after the sale).
    static let dealCreated = """
        deal         demo-fixture  "Flash deal demo-fixture"
        product      demo-product  "Flash deal demo-fixture"
        price        19.99 EUR
        window       2026-12-06T10:00:15.000Z – 2026-12-06T10:10:15.000Z
        stock        300 units, at most 1 per shopper
        payment      no payment window
        remaining    300 of 300 (new)
        commitment   9f2c
        """
    static let dealAfterSale = """
        deal         demo-fixture  "Flash deal demo-fixture"
        product      demo-product  "Flash deal demo-fixture"
        price        19.99 EUR
        window       2026-12-06T10:00:15.000Z – 2026-12-06T10:10:15.000Z
        stock        300 units, at most 1 per shopper
        payment      no payment window
        phase        OPEN
        remaining    0 of 300, sold-out flag set
        """

    struct Outcome {
        var k6: String? = ScriptTests.k6ThresholdsMet
        var k6Text = ScriptTests.k6TextMet
        var k6Status = 0
        var verify = ScriptTests.verifyPass
        var verifyStatus = 0
    }

    /// Writes the run's outputs as scripts/demo leaves them; returns the directory.
    static func writeFixtures(_ outcome: Outcome) throws -> String {
        let directory = try scratchDirectory("demo-fixture")
        if let k6 = outcome.k6 { try k6.write(toFile: directory + "/k6.json", atomically: true, encoding: .utf8) }
        try outcome.k6Text.write(toFile: directory + "/k6.txt", atomically: true, encoding: .utf8)
        try outcome.verify.write(toFile: directory + "/verify.txt", atomically: true, encoding: .utf8)
        try dealCreated.write(toFile: directory + "/deal.txt", atomically: true, encoding: .utf8)
        try dealAfterSale.write(toFile: directory + "/deal-final.txt", atomically: true, encoding: .utf8)
        return directory
    }

    /// `demo_report.py verdict …`: the verdict line and the exit code scripts/demo exits with.
    static func verdict(_ outcome: Outcome, relaxed: Bool = false) throws -> Run {
        let directory = try writeFixtures(outcome)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try run(
            [
                python, root + "/scripts/demo_report.py", "verdict",
                "--k6", directory + "/k6.json", "--k6-text", directory + "/k6.txt",
                "--k6-status", String(outcome.k6Status),
                "--verify", directory + "/verify.txt", "--verify-status", String(outcome.verifyStatus),
            ]
                + (relaxed ? ["--allow-threshold-miss"] : []), timeout: .seconds(60))
    }

    /// The whole report (report.md and report.html) from the fixtures, without time series or Prometheus.
    /// `dealAfterSale`: pass `flashdeal deal show`'s output after the sale (--deal-final).
    static func report(
        _ outcome: Outcome, relaxed: Bool = false,
        dealAfterSale: Bool = false
    ) throws -> (run: Run, markdown: String, html: String) {
        let directory = try writeFixtures(outcome)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try run(
            [
                python, root + "/scripts/demo_report.py",
                "--k6", directory + "/k6.json", "--k6-text", directory + "/k6.txt",
                "--verify", directory + "/verify.txt", "--deal", directory + "/deal.txt",
                "--k6-status", String(outcome.k6Status), "--verify-status", String(outcome.verifyStatus),
                "--markdown", directory + "/report.md", "--html", directory + "/report.html",
            ]
                + (dealAfterSale ? ["--deal-final", directory + "/deal-final.txt"] : [])
                + (relaxed ? ["--allow-threshold-miss"] : []), timeout: .seconds(60))
        let markdown = (try? String(contentsOfFile: directory + "/report.md", encoding: .utf8)) ?? ""
        let html = (try? String(contentsOfFile: directory + "/report.html", encoding: .utf8)) ?? ""
        return (result, markdown, html)
    }

    static func verdictLine(_ run: Run) -> String {
        run.output.split(separator: "\n").last { $0.hasPrefix("VERDICT:") }.map(String.init) ?? ""
    }

    // MARK: - The verdict

    @Test("invariants PASS, thresholds met, no error: PASS, exit 0")
    func everythingPassed() throws {
        let result = try Self.verdict(Outcome())
        #expect(result.status == 0, "\(result)")
        #expect(Self.verdictLine(result).hasPrefix("VERDICT: PASS"), "\(result)")
        #expect(Self.verdictLine(result).contains("invariants PASS"), "\(result)")
        #expect(Self.verdictLine(result).contains("0 errors"), "\(result)")
    }

    @Test("invariants PASS, thresholds missed: FAIL naming the missed thresholds and the errors, non-zero exit")
    func thresholdsMissed() throws {
        let result = try Self.verdict(Outcome(k6: Self.k6ThresholdsMissed, k6Text: Self.k6TextMissed, k6Status: 99))
        let line = Self.verdictLine(result)
        #expect(result.status != nil && result.status != 0, "\(result)")
        #expect(line.hasPrefix("VERDICT: FAIL"), "\(result)")
        #expect(line.contains("invariants PASS"), "\(result)")
        #expect(line.contains("thresholds missed"), "\(result)")
        #expect(line.contains("http_req_duration p(95)<200"), "\(result)")
        #expect(line.contains("failures count<1"), "\(result)")
        #expect(line.contains("20 errors"), "\(result)")
    }

    @Test("thresholds missed with --allow-threshold-miss: exit 0, but the verdict still says what was missed")
    func thresholdsMissedAllowed() throws {
        let result = try Self.verdict(
            Outcome(k6: Self.k6ThresholdsMissed, k6Text: Self.k6TextMissed, k6Status: 99),
            relaxed: true)
        let line = Self.verdictLine(result)
        #expect(result.status == 0, "\(result)")
        #expect(!line.hasPrefix("VERDICT: PASS"), "\(result)")
        #expect(line.contains("thresholds missed"), "\(result)")
        #expect(line.contains("http_req_duration p(95)<200"), "\(result)")
        #expect(line.contains("20 errors"), "\(result)")
    }

    @Test("invariants FAIL: non-zero exit, even with --allow-threshold-miss")
    func invariantsFailed() throws {
        for relaxed in [false, true] {
            let result = try Self.verdict(Outcome(verify: Self.verifyFail, verifyStatus: 1), relaxed: relaxed)
            #expect(result.status != nil && result.status != 0, "relaxed \(relaxed): \(result)")
            #expect(Self.verdictLine(result).hasPrefix("VERDICT: FAIL"), "relaxed \(relaxed): \(result)")
            #expect(Self.verdictLine(result).contains("invariants FAIL"), "relaxed \(relaxed): \(result)")
        }
    }

    @Test("errors that no threshold counted are not a clean PASS")
    func errorsAreNotAPass() throws {
        let strict = try Self.verdict(Outcome(k6: Self.k6ErrorsWithoutThreshold))
        #expect(strict.status != nil && strict.status != 0, "\(strict)")
        #expect(!Self.verdictLine(strict).hasPrefix("VERDICT: PASS"), "\(strict)")
        #expect(Self.verdictLine(strict).contains("3 errors"), "\(strict)")
        let relaxed = try Self.verdict(Outcome(k6: Self.k6ErrorsWithoutThreshold), relaxed: true)
        #expect(!Self.verdictLine(relaxed).hasPrefix("VERDICT: PASS"), "\(relaxed)")
        #expect(Self.verdictLine(relaxed).contains("3 errors"), "\(relaxed)")
    }

    @Test("without k6's summary the missed thresholds come from its text output")
    func thresholdsFromText() throws {
        let result = try Self.verdict(Outcome(k6: nil, k6Text: Self.k6TextMissed, k6Status: 99))
        let line = Self.verdictLine(result)
        #expect(result.status != nil && result.status != 0, "\(result)")
        #expect(line.contains("http_req_duration p(95)<200"), "\(result)")
        #expect(line.contains("failures count<1"), "\(result)")
        #expect(line.contains("20 errors"), "\(result)")
    }

    // MARK: - The report

    @Test("report.html's banner is green only when everything passed, and names what failed otherwise")
    func reportBanner() throws {
        let clean = try Self.report(Outcome())
        #expect(clean.run.status == 0, "\(clean.run)")
        #expect(clean.html.contains(#"class="verdict pass""#), "\(clean.run)")

        let missed = try Self.report(Outcome(k6: Self.k6ThresholdsMissed, k6Text: Self.k6TextMissed, k6Status: 99))
        #expect(missed.run.status == 0, "\(missed.run)")
        #expect(!missed.html.contains(#"class="verdict pass""#), "\(missed.html.prefix(3000))")
        #expect(missed.html.contains(#"class="verdict fail""#), "\(missed.html.prefix(3000))")
        #expect(missed.html.contains("http_req_duration p(95)&lt;200"), "\(missed.html.prefix(3000))")
        #expect(missed.html.contains("20 errors"), "\(missed.html.prefix(3000))")
        #expect(missed.markdown.contains("**VERDICT: FAIL"), "\(missed.markdown.prefix(2000))")

        let allowed = try Self.report(
            Outcome(k6: Self.k6ThresholdsMissed, k6Text: Self.k6TextMissed, k6Status: 99),
            relaxed: true)
        #expect(!allowed.html.contains(#"class="verdict pass""#), "\(allowed.html.prefix(3000))")
        #expect(allowed.html.contains("http_req_duration p(95)&lt;200"), "\(allowed.html.prefix(3000))")
    }

    @Test("the report's Deal section shows the deal after the sale, labelled, before its state at creation")
    func reportDealAfterTheSale() throws {
        let result = try Self.report(Outcome(), dealAfterSale: true)
        #expect(result.run.status == 0, "\(result.run)")
        let markdown = result.markdown
        guard let deal = markdown.range(of: "## Deal") else {
            Issue.record("no Deal section:\n\(markdown)")
            return
        }
        let section = markdown[deal.upperBound...]
        let heading = section.range(of: "After the sale")
        let soldOut = section.range(of: "remaining    0 of 300")
        let atCreation = section.range(of: "remaining    300 of 300")
        #expect(heading != nil && soldOut != nil && atCreation != nil, "\(section)")
        if let heading, let soldOut, let atCreation {
            #expect(heading.lowerBound < soldOut.lowerBound && soldOut.lowerBound < atCreation.lowerBound, "\(section)")
        }
        #expect(section.contains("read at"), "\(section)")
        // Without `deal show`'s output the section says so and gives verify's Redis stock instead.
        let unread = try Self.report(Outcome())
        #expect(unread.markdown.contains("flashdeal verify read the Redis stock: 0"), "\(unread.markdown.suffix(2500))")
        #expect(result.html.contains("remaining    0 of 300"), "\(result.html.suffix(2000))")
    }
}
