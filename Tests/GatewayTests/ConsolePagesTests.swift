import Admission
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import Twins

@testable import Gateway

/// The SRE console over the in-process gateway: who may see it, what it shows, and an action
/// previewed then applied from its form.
@Suite struct ConsolePagesTests {
    struct Answer: Sendable {
        let status: Int
        let headers: HTTPFields
        let body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    static func get(
        _ g: InProcessGateway, _ path: String, token: String?, method: HTTPRequest.Method = .get, form: String? = nil
    ) async throws -> Answer {
        var headers: HTTPFields = [:]
        if let token { headers[.cookie] = "\(ConsolePages.tokenCookie)=\(token)" }
        if form != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        return try await g.client.execute(
            uri: path, method: method, headers: headers, body: form.map { ByteBuffer(string: $0) }
        ) { response in
            Answer(
                status: Int(response.status.code), headers: response.headers,
                body: String(decoding: response.body.readableBytesView, as: UTF8.self))
        }
    }

    @Test func everyConsoleRouteRefusesAShopperAndAskedWithoutATokenSaysSo() async throws {
        try await InProcessGateway.with { g in
            let deal = try g.deal()
            let shopper = try await InProcessGateway.token(for: "console-shopper")
            for (path, method) in [
                ("/ops/deals/\(deal)", HTTPRequest.Method.get), ("/ops/deals/\(deal)/snapshot", .get),
                ("/ops/deals/\(deal)/events", .get), ("/ops/deals/\(deal)/actions", .post),
            ] {
                let form = method == .post ? "action=PAUSE&reason=x&step=apply" : nil
                #expect(
                    try await Self.get(g, path, token: shopper, method: method, form: form).status == 403, "\(path)")
                #expect(try await Self.get(g, path, token: nil, method: method, form: form).status == 401, "\(path)")
            }
            #expect(try await g.room.control(of: deal)?.paused == false)
        }
    }

    @Test func theSignInKeepsAnOperatorsTokenInAnHttpOnlyCookieAndRefusesAShoppers() async throws {
        try await InProcessGateway.with { g in
            let deal = try g.deal()
            let sre = try await InProcessGateway.token(for: "sre-sign-in", role: "operator")
            let signedIn = try await Self.get(
                g, "/ops/sign-in", token: nil, method: .post, form: "token=\(sre)&deal=\(deal)")
            #expect(signedIn.status == 303)
            #expect(signedIn.headers[.location] == "/ops/deals/\(deal)")
            let cookie = try #require(signedIn.headers[.setCookie])
            #expect(cookie.hasPrefix("\(ConsolePages.tokenCookie)=\(sre);") && cookie.contains("HttpOnly"))
            let shopper = try await InProcessGateway.token(for: "not-an-sre")
            let refused = try await Self.get(
                g, "/ops/sign-in", token: nil, method: .post, form: "token=\(shopper)&deal=\(deal)")
            #expect(refused.status == 403 && refused.headers[.setCookie] == nil)
        }
    }

    @Test func theConsoleShowsTheRoomAndStreamsSnapshots() async throws {
        try await InProcessGateway.with { g in
            let deal = try g.deal(stock: 40)
            for i in 0..<3 {
                _ = try await g.post(
                    InProcessGateway.join, ["d": deal.rawValue], token: try await InProcessGateway.token(for: "c-\(i)"))
            }
            let sre = try await InProcessGateway.token(for: "sre-console", role: "operator")
            let page = try await Self.get(g, "/ops/deals/\(deal)", token: sre)
            #expect(page.status == 200)
            #expect(page.body.contains("Waiting room") && page.body.contains(">3<") && page.body.contains("OPEN"))
            let snapshot = try await Self.get(g, "/ops/deals/\(deal)/snapshot", token: sre).json
            #expect((snapshot["room"] as? [String: Any])?["waiting"] as? Int == 3)
            #expect((snapshot["stock"] as? [String: Any])?["remaining"] as? Int == 40)
            #expect((snapshot["controls"] as? [String: Any])?["paused"] as? Bool == false)

            let events = try await Self.get(g, "/ops/deals/\(deal)/events", token: sre)
            #expect(events.headers[.contentType] == "text/event-stream")
            let data = events.body.split(separator: "\n").filter { $0.hasPrefix("data: ") }
            #expect(data.count >= 2, "a snapshot a second for the stream's two seconds: \(events.body)")
            let first = try JSONSerialization.jsonObject(with: Data(data[0].dropFirst(6).utf8)) as? [String: Any]
            #expect(first?["deal"] as? String == deal.rawValue)
        }
    }

    @Test func anActionIsPreviewedBeforeItIsAppliedAndTheAuditShowsIt() async throws {
        try await InProcessGateway.with { g in
            let deal = try g.deal()
            let sre = try await InProcessGateway.token(for: "sre-form", role: "operator")
            let preview = try await Self.get(
                g, "/ops/deals/\(deal)/actions", token: sre, method: .post,
                form: "step=preview&action=SET_ADMISSION_RATE&value=75&reason=slow+payments")
            #expect(preview.status == 200)
            #expect(preview.body.contains("admissionRateOverride") && preview.body.contains("75.0"))
            #expect(preview.body.contains("name=\"step\" value=\"apply\""))
            #expect(try await g.room.control(of: deal)?.admissionRateOverride == nil, "a preview changes nothing")

            let applied = try await Self.get(
                g, "/ops/deals/\(deal)/actions", token: sre, method: .post,
                form: "step=apply&action=SET_ADMISSION_RATE&value=75&reason=slow+payments")
            #expect(applied.status == 303)
            #expect(applied.headers[.location]?.hasPrefix("/ops/deals/\(deal)?applied=aud_") == true)
            #expect(try await g.room.control(of: deal)?.admissionRateOverride == 75)
            let page = try await Self.get(g, "/ops/deals/\(deal)", token: sre)
            #expect(page.body.contains("75 /s (operator)") && page.body.contains("slow payments"))

            let refused = try await Self.get(
                g, "/ops/deals/\(deal)/actions", token: sre, method: .post,
                form: "step=apply&action=SET_ADMISSION_RATE&value=0&reason=stop")
            #expect(refused.status == 422)
            #expect(try await Self.get(g, "/ops/deals/no-such-deal", token: sre).status == 404)
        }
    }
}
