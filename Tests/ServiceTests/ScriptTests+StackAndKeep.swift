import DealAudit
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// scripts/stack's port check, scripts/demo --keep and the report's availability read-back.
extension ScriptTests {
    // MARK: - scripts/stack's port check

    /// A listening TCP socket of the test's own on 127.0.0.1, on a port the kernel picks.
    final class Listener {
        let fd: Int32
        let port: Int

        init() throws {
            let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard socketFD >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0, listen(socketFD, 8) == 0 else {
                let failure = errno
                close(socketFD)
                throw Failure(description: "bind/listen on 127.0.0.1 failed: errno \(failure)")
            }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
            }
            guard named == 0 else {
                let failure = errno
                close(socketFD)
                throw Failure(description: "getsockname failed: errno \(failure)")
            }
            fd = socketFD
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        deinit { close(fd) }
    }

    @Test(
        "scripts/stack up refuses a port something else listens on: exit non-zero, names it and its variable, starts nothing"
    )
    func stackRefusesATakenPort() throws {
        let listener = try Listener()
        let stackDirectory = try Self.scratchDirectory("stack-port-test")
        defer { try? FileManager.default.removeItem(atPath: stackDirectory) }
        let result = try Self.run(
            [Self.root + "/scripts/stack", "up", "redis"],
            environment: [
                "FLASHDEAL_STACK_DIR": stackDirectory,
                "FLASHDEAL_REDIS_PORT": String(listener.port),
            ],
            timeout: .seconds(120))
        #expect(!result.timedOut, "\(result)")
        #expect(result.status != nil && result.status != 0, "\(result)")
        #expect(result.output.contains("port \(listener.port)"), "\(result)")
        #expect(result.output.contains("in use"), "\(result)")
        #expect(result.output.contains("FLASHDEAL_REDIS_PORT"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: stackDirectory + "/redis/redis.pid"), "\(result)")
        withExtendedLifetime(listener) {}
    }
    // MARK: - scripts/demo --keep

    @Test(
        "scripts/demo --keep prints the topic prefix, the verify command and a working way to mint tokens, never the secret"
    )
    func keepSummaryTellsWhatComesNext() throws {
        let out = try Self.scratchDirectory("demo-keep")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let bin = Self.root + "/.build/debug"
        let secret = "kept-secret-\(UUID().uuidString)"
        let environment = [
            "FLASHDEAL_JWT_SECRET": secret, "FLASHDEAL_TOPIC_PREFIX": "demo-k.",
            "FLASHDEAL_WORKER_GROUP": "demo-k-workers",
        ]
        let summary = try Self.run(
            [
                "/bin/bash", "-c", ". \"$0/scripts/lib.sh\" && demo_keep_summary \"$@\"", Self.root,
                out, bin, "demo-k", "18280", "18281", "18289", "0", "101", "102", "103",
            ],
            environment: environment, timeout: .seconds(30))
        #expect(summary.status == 0, "\(summary)")
        let text = summary.output
        #expect(text.contains("FLASHDEAL_TOPIC_PREFIX=demo-k."), "\(text)")
        #expect(text.contains("FLASHDEAL_WORKER_GROUP=demo-k-workers"), "\(text)")
        #expect(text.contains("verify --deal demo-k --topic-prefix demo-k."), "\(text)")
        #expect(text.contains("kill 101 102 103"), "\(text)")
        #expect(!text.contains(secret), "the secret itself is never printed")
        let secretFile = out + "/jwt-secret"
        #expect(try String(contentsOfFile: secretFile, encoding: .utf8) == secret)
        let mode = try FileManager.default.attributesOfItem(atPath: secretFile)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        // The printed command mints tokens signed with the kept gateway's secret.
        let mint = try #require(text.split(separator: "\n").first { $0.contains("token --count") })
            .trimmingCharacters(in: .whitespaces)
        let minted = try Self.run(["/bin/bash", "-c", mint], timeout: .seconds(60))
        #expect(minted.status == 0, "\(minted)")
        let lines = minted.output.split(separator: "\n").filter { $0.hasPrefix("kept-shopper-") }
        #expect(lines.count == 10, "\(minted)")
        let token = try #require(lines.first?.split(separator: "\t").last.map(String.init))
        let parts = token.split(separator: ".").map(String.init)
        try #require(parts.count == 3, "not a JWT: \(token)")
        let check = try Self.run(
            [
                Self.python, "-c",
                """
                import base64, hashlib, hmac, sys
                h, p, s = sys.argv[1].split(".")
                mac = hmac.new(sys.argv[2].encode(), (h + "." + p).encode(), hashlib.sha256).digest()
                sys.exit(0 if base64.urlsafe_b64encode(mac).rstrip(b"=").decode() == s else 1)
                """, token, secret,
            ], timeout: .seconds(30))
        #expect(check.status == 0, "the minted token is not signed with the kept gateway's secret: \(check)")
    }

    // MARK: - The report's availability read-back

    /// The gateway creates an outcome's series when it first counts one, so a series of errors starts
    /// with its errors already counted: a rate over it (the SLO rule the report used to read) misses
    /// them all. The report now reads the counters themselves; promtool evaluates both on such a run.
    @Test(
        "the report's availability figures count errors whose series first appeared with them (the 5-minute SLO rate read 0)"
    )
    func availabilityReadBackCountsTheRunsErrors() throws {
        let queries = try Self.run(
            [
                Self.python, "-c",
                """
                import sys; sys.path.insert(0, sys.argv[1]); import demo_report as d
                for label, query, scale, unit in d.PROMETHEUS_FIGURES:
                    if label.startswith(("shopper-path errors over the run", "availability errors over the run")):
                        print(query.format(w="5m"))
                """, Self.root + "/scripts",
            ], timeout: .seconds(30))
        let expressions = queries.output.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        try #require(queries.status == 0 && expressions.count == 2, "\(queries)")
        let directory = try Self.scratchDirectory("readback")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
        // 380 good answers and 20 UNAVAILABLE over four minutes; the error series starts at 20.
        let test = """
            rule_files:
              - \(Self.root)/prometheus/rules/flashdeal-recording.yml
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
                  - series: 'flashdeal_gateway_operations_total{operation="admission",outcome="ok"}'
                    values: '0 100 200 300 380'
                  - series: 'flashdeal_gateway_operations_total{operation="admission",outcome="UNAVAILABLE"}'
                    values: '_ _ 20 20 20'
                promql_expr_test:
                  - expr: \(quoted(expressions[0]))
                    eval_time: 4m
                    exp_samples: [{labels: '{}', value: 20}]
                  - expr: \(quoted(expressions[1]))
                    eval_time: 4m
                    exp_samples: [{labels: '{}', value: 0.05}]
                  - expr: 'max(slo:flashdeal_availability_errors:ratio_rate5m)'
                    eval_time: 4m
                    exp_samples: [{labels: '{}', value: 0}]
            """
        let file = directory + "/readback.test.yml"
        try test.write(toFile: file, atomically: true, encoding: .utf8)
        let promtool = try Promtool.find()
        let result = try promtool.run(["test", "rules", file])
        #expect(result.status == 0, "promtool test rules:\n\(result.output)")
    }
}
