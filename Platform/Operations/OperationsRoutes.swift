import Foundation
public import Hummingbird

extension Router {
    /// `GET /livez` (the process runs) and `GET /readyz` (it should get traffic: 200 or 503 with the
    /// per-dependency report as JSON).
    public func addOperationsRoutes(readiness: Readiness) {
        get("livez") { _, _ in "ok\n" }
        get("readyz") { _, _ -> Response in
            let report = await readiness.evaluate()
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let body = (try? encoder.encode(report)) ?? Data("{}".utf8)
            return Response(
                status: report.ready ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
    }
}
