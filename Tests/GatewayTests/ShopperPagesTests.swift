import DealData
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import RateLimiting
import Testing
import Twins

@testable import Gateway

/// The shopper pages over the in-process gateway: every state rendered on the server, in English
/// and Korean, and the forms doing what the GraphQL operations do.
@Suite struct ShopperPagesTests {
    struct Page: Sendable {
        let status: Int
        let headers: HTTPFields
        let html: String
    }

    static func page(
        _ g: InProcessGateway, _ path: String, method: HTTPRequest.Method = .get, token: String? = nil,
        language: String? = nil, form: String? = nil, origin: String? = nil
    ) async throws -> Page {
        var headers: HTTPFields = [:]
        if let token { headers[.cookie] = "\(ShopperPages.tokenCookie)=\(token)" }
        if let language { headers[.acceptLanguage] = language }
        if let origin { headers[.origin] = origin }
        if form != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        return try await g.client.execute(
            uri: path, method: method, headers: headers, body: form.map { ByteBuffer(string: $0) }
        ) { response in
            Page(
                status: Int(response.status.code), headers: response.headers,
                html: String(decoding: response.body.readableBytesView, as: UTF8.self))
        }
    }

    @Test func theDealPageShowsTheDealInTheShoppersLanguage() async throws {
        try await InProcessGateway.with { g in
            let deal = try g.deal(stock: 7, limit: 2, opensIn: .seconds(300))
            let en = try await Self.page(g, "/shop/deals/\(deal.rawValue)", language: "en-US,en;q=0.9")
            #expect(en.status == 200)
            #expect(en.html.contains("<html lang=\"en\">"))
            #expect(en.html.contains("7 of 7 left") && en.html.contains("Up to 2 per customer"))
            #expect(en.html.contains("Opens ") && en.html.contains("(in 5 min)"))
            #expect(en.html.contains("random place"), "the pre-queue rule")
            #expect(en.html.contains("Sign in to join the line."), "no token: no join button")
            #expect(en.headers[.contentLanguage] == "en")

            let ko = try await Self.page(g, "/shop/deals/\(deal.rawValue)", language: "ko-KR,ko;q=0.9,en;q=0.5")
            #expect(ko.html.contains("<html lang=\"ko\">"))
            #expect(ko.html.contains("7개 중 7개 남음") && ko.html.contains("5분 후"))
            #expect(ko.html.contains("KST") || ko.html.contains("GMT+9"), "times in the configured zone")

            // Before the pre-queue window the line is not open yet: its opening, no join button.
            let later = try g.deal(opensIn: .seconds(3_600))
            let token = try await InProcessGateway.token(for: "page-shopper-early")
            let early = try await Self.page(g, "/shop/deals/\(later.rawValue)", token: token)
            #expect(early.html.contains("The line opens ") && !early.html.contains("/line\""))

            let switched = try await Self.page(g, "/shop/deals/\(deal.rawValue)?lang=ko", language: "en")
            #expect(switched.html.contains("<html lang=\"ko\">"))
            #expect(switched.headers[.setCookie]?.hasPrefix("lang=ko;") == true)
        }
    }

    @Test func aShopperJoinsWaitsIsAdmittedOrdersAndSeesTheOrder() async throws {
        try await InProcessGateway.with { g in
            let deal = try g.deal(stock: 5, limit: 2)
            let token = try await InProcessGateway.token(for: "page-shopper-1")
            let dealPage = try await Self.page(g, "/shop/deals/\(deal.rawValue)", token: token)
            #expect(dealPage.html.contains("action=\"/shop/deals/\(deal.rawValue)/line\""))

            let joined = try await Self.page(
                g, "/shop/deals/\(deal.rawValue)/line", method: .post, token: token, form: "")
            #expect(joined.status == 303)
            let linePath = try #require(joined.headers[.location])
            #expect(linePath.hasPrefix("/shop/deals/\(deal.rawValue)/line/"))

            let waiting = try await Self.page(g, linePath, token: token)
            #expect(waiting.status == 200)
            #expect(waiting.html.contains("You are number 1 in line.") && waiting.html.contains("0 people ahead"))
            #expect(waiting.html.contains("Estimating your wait") || waiting.html.contains("Estimated wait"))

            try g.room.advance(deal: deal)
            let turn = try await Self.page(g, linePath, token: token)
            #expect(turn.html.contains("your turn") && turn.html.contains("name=\"pass\""))
            let pass = try #require(Self.field("pass", in: turn.html))
            let key = try #require(Self.field("key", in: turn.html))

            let form = "pass=\(pass)&key=\(key)&quantity=2"
            let placed = try await Self.page(
                g, "/shop/deals/\(deal.rawValue)/orders", method: .post, token: token, form: form)
            #expect(placed.status == 303)
            let orderPath = try #require(placed.headers[.location])
            // The same form again (a double click, a resubmit): the same order, not a second one.
            let again = try await Self.page(
                g, "/shop/deals/\(deal.rawValue)/orders", method: .post, token: token, form: form)
            #expect(again.headers[.location] == orderPath)
            let sent = g.sink.sent
            #expect(sent.count == 2 && sent[0].bytes == sent[1].bytes, "a replay sends the first request again")

            // Recorded once the worker decides; until then the page says so.
            let undecided = try await Self.page(g, orderPath, token: token)
            #expect(undecided.status == 404 && undecided.html.contains("once it is decided"))
            let orderId = try OrderID(String(orderPath.split(separator: "/").last ?? ""))
            g.orders.store(
                OrderDocument(
                    orderId: orderId, dealId: deal, userId: try UserID("page-shopper-1"), quantity: 2,
                    idempotencyKey: try IdempotencyKey(key), status: .pending, reason: nil, createdAt: g.clock.now,
                    updatedAt: g.clock.now))

            let order = try await Self.page(g, orderPath, token: token, language: "ko")
            #expect(order.html.contains("접수되었습니다"), "PENDING until the worker decides")
            #expect(order.html.contains("주문 취소하기"))
            // Another shopper cannot see it.
            let other = try await InProcessGateway.token(for: "page-shopper-2")
            #expect(try await Self.page(g, orderPath, token: other).status == 404)
        }
    }

    @Test func failuresArePagesWithTheirStatusAndRetryAfter() async throws {
        try await InProcessGateway.with { g in
            let deal = try g.deal()
            #expect(try await Self.page(g, "/shop/deals/no-such-deal").status == 404)
            // Joining needs a shopper.
            let anonymous = try await Self.page(g, "/shop/deals/\(deal.rawValue)/line", method: .post, form: "")
            #expect(anonymous.status == 401)
            // A form posted from another site is refused before anything is done.
            let token = try await InProcessGateway.token(for: "page-shopper-3")
            let forged = try await Self.page(
                g, "/shop/deals/\(deal.rawValue)/line", method: .post, token: token, form: "",
                origin: "https://evil.example")
            #expect(forged.status == 400)
            // Nothing was joined: the shopper's own join is the first in line.
            let joined = try await Self.page(
                g, "/shop/deals/\(deal.rawValue)/line", method: .post, token: token, form: "")
            let line = try await Self.page(g, try #require(joined.headers[.location]), token: token)
            #expect(line.html.contains("You are number 1 in line."))
            // A rate limit answers 429 with Retry-After, as a page.
            g.limiter.answer("deal", .limited, retryAfter: .seconds(3))
            let limited = try await Self.page(g, "/shop/deals/\(deal.rawValue)", token: token)
            #expect(limited.status == 429)
            #expect(limited.headers[.retryAfter] == "3")
            #expect(limited.html.contains("try again in 3 s"))
        }
    }

    /// The value of the hidden input `name` in a rendered form.
    static func field(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        let rest = html[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}

extension ShopperPagesTests {
    @Test func thePagesScriptPollsAGraphQLGetAuthenticatedByTheSignInCookie() async throws {
        try await InProcessGateway.with { g in
            let deal = try g.deal()
            let token = try await InProcessGateway.token(for: "page-poller")
            let joined = try await Self.page(
                g, "/shop/deals/\(deal.rawValue)/line", method: .post, token: token, form: "")
            let linePath = try #require(joined.headers[.location])
            let line = try await Self.page(g, linePath, token: token)
            #expect(line.html.contains("id=\"poll\"") && line.html.contains("data-state=\"WAITING\""))
            #expect(line.html.contains("data-t-position=\"You are number {position} in line.\""))
            #expect(line.html.contains("src=\"/shop/assets/line.js\""))

            let script = try await Self.page(g, "/shop/assets/line.js")
            #expect(script.status == 200 && script.headers[.contentType]?.hasPrefix("text/javascript") == true)
            #expect(script.html.contains("retry-after") && script.html.contains("visibilitychange"))

            // The query the script sends, with the cookie and no Authorization header.
            let ticket = String(linePath.split(separator: "/").last ?? "")
            let query = "query A($d: ID!, $t: ID!) { admission(dealId: $d, ticket: $t) { state position pollAfterMs } }"
            let variables = "{\"d\":\"\(deal.rawValue)\",\"t\":\"\(ticket)\"}"
            let uri =
                "/graphql?query=\(query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
                + "&variables=\(variables.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
            let polled = try await Self.page(g, uri, token: token)
            #expect(polled.html.contains("\"state\":\"WAITING\""), "\(polled.html)")
            // A mutation never rides on the cookie: POST needs the Authorization header.
            let body =
                "{\"query\":\"mutation J($d: ID!) { joinWaitingRoom(dealId: $d) { ticket } }\",\"variables\":{\"d\":\"\(deal.rawValue)\"}}"
            let posted = try await g.client.execute(
                uri: "/graphql", method: .post,
                headers: [.contentType: "application/json", .cookie: "\(ShopperPages.tokenCookie)=\(token)"],
                body: ByteBuffer(string: body)
            ) { String(decoding: $0.body.readableBytesView, as: UTF8.self) }
            #expect(posted.contains("UNAUTHENTICATED"), "\(posted)")
        }
    }
}

extension ShopperPagesTests {
    /// Each page with its script and styles stays under 30 KB before compression, so a shopper on
    /// a slow phone network gets it in one round trip or two.
    @Test func everyPageWithItsScriptWeighsUnder30KB() async throws {
        try await InProcessGateway.with { g in
            let deal = try g.deal()
            let token = try await InProcessGateway.token(for: "page-weight")
            let joined = try await Self.page(
                g, "/shop/deals/\(deal.rawValue)/line", method: .post, token: token, form: "")
            let linePath = try #require(joined.headers[.location])
            let script = try await Self.page(g, "/shop/assets/line.js").html.utf8.count
            let orderScript = try await Self.page(g, "/shop/assets/order.js").html.utf8.count
            for (path, extra) in [
                ("/shop/deals/\(deal.rawValue)", 0), ("/shop/deals/\(deal.rawValue)?lang=ko", 0), (linePath, script),
                ("/shop/orders/no-such-order", orderScript),
            ] {
                let html = try await Self.page(g, path, token: token).html.utf8.count
                #expect(html + extra < 30 * 1_024, "\(path): \(html) + \(extra) bytes")
            }
        }
    }
}
