import Foundation
import TestSupport
import Testing

@Suite("Executor setting")
struct ExecutorSettingTests {
    @Test(arguments: ["flashdeal-gateway", "flashdeal-worker"])
    func anUnknownExecutorStopsTheProcessAtStart(product: String) throws {
        let process = try ChildProcess(
            product: product, environment: ["FLASHDEAL_EXECUTOR": "threads", "PATH": "/usr/bin:/bin"])
        #expect(process.wait() == 2)
        #expect(process.log.contains("FLASHDEAL_EXECUTOR must be nio or dispatch, is threads"), "\(process.log)")
    }
}

@Suite("Malformed settings stop a process at start", .timeLimit(.minutes(1)))
struct MalformedSettingTests {
    /// Each process exits at once with status 2 (a configuration error), naming the variable — where a value that did not parse
    /// used to be ignored (the default stayed) or trap.
    @Test(arguments: [
        ("flashdeal-worker", "FLASHDEAL_TOPIC_PARTITIONS", "twelve"),
        ("flashdeal-worker", "FLASHDEAL_HTTP_PORT", "http"),
        ("flashdeal-gateway", "FLASHDEAL_MAX_IN_FLIGHT", "many"),
        ("flashdeal-gateway", "FLASHDEAL_REDIS_TIMEOUT_MS", "-1"),
    ])
    func aMalformedValueStopsTheProcessWithItsName(product: String, name: String, value: String) throws {
        var environment = [
            "PATH": "/usr/bin:/bin", name: value,
            "FLASHDEAL_JWT_SECRET": "malformed-setting-test-secret-0123456789",
            "FLASHDEAL_PASS_KEYS": "k1:malformed-setting-test-pass-key-0123456789",
        ]
        environment["FLASHDEAL_ENDPOINTS_FILE"] = TestStack.root + "/.stack/endpoints.env"
        let process = try ChildProcess(product: product, environment: environment)
        defer { try? FileManager.default.removeItem(atPath: process.logFile) }
        let status = process.wait()
        #expect(
            status == 2,
            "\(product) with \(name)=\(value) exited \(status.map(String.init) ?? "by a signal"):\n\(process.log)")
        #expect(process.log.contains(name), "\(process.log)")
    }
}
