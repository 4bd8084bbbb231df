import TestSupport
import Testing

@Suite("Executor setting")
struct ExecutorSettingTests {
    @Test(arguments: ["flashdeal-gateway", "flashdeal-worker"])
    func anUnknownExecutorStopsTheProcessAtStart(product: String) throws {
        let process = try ChildProcess(product: product, environment: ["FLASHDEAL_EXECUTOR": "threads", "PATH": "/usr/bin:/bin"])
        #expect(process.wait() == 2)
        #expect(process.log.contains("FLASHDEAL_EXECUTOR must be nio or dispatch, is threads"), "\(process.log)")
    }
}
