import Admission
import Domain
import Foundation
import GraphQL
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The SRE console: `/ops/deals/{deal}` shows a deal's sale as ``ConsoleData`` sees it, updated once
/// a second over Server-Sent Events (`/events`, with `/snapshot` for polling when a proxy breaks
/// the stream), and takes the operators' actions: a form previews the action (before → after) and
/// a second post applies it through ``OperatorAPI`` — the same role check, guardrails and audit as
/// `operateSale`. The operator is the token in the `flashdeal_ops_token` cookie (or the
/// `Authorization` header); a shopper's token gets 403 on every route.
struct ConsolePages: Sendable {
    let data: ConsoleData
    let authenticator: ShopperAuthenticator
    let logger: Logger

    /// An event stream ends after this long; the browser's EventSource reconnects at once. Short
    /// streams never hold up a gateway's graceful shutdown for long.
    var streamLifetime: Duration = .seconds(15)

    static let tokenCookie = "flashdeal_ops_token"

    func register(on router: Router<GatewayRequestContext>) {
        router.get("ops/deals/:deal") { request, context in await self.console(request, context) }
        router.get("ops/deals/:deal/snapshot") { request, context in await self.snapshot(request, context) }
        router.get("ops/deals/:deal/events") { request, context in await self.events(request, context) }
        router.post("ops/deals/:deal/actions") { request, context in await self.action(request, context) }
        router.get("ops/sign-in") { request, _ in
            let deal = request.uri.queryParameters["deal"].map(String.init) ?? ""
            return Self.html(.ok, ConsoleTemplates.render("signIn", title: "Console sign-in", ["deal": deal]))
        }
        router.post("ops/sign-in") { request, _ in await self.signIn(request) }
        router.get("ops/assets/console.js") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "no-cache"],
                body: .init(byteBuffer: ByteBuffer(string: ConsoleTemplates.script)))
        }
    }

    // MARK: Routes

    func console(_ request: Request, _ context: GatewayRequestContext) async -> Response {
        await page(request, context) { (call, deal) throws(APIError) -> Answer in
            let snapshot = try await data.snapshot(deal: deal, call)
            var view = ConsoleTemplates.view(snapshot)
            if let applied = request.uri.queryParameters["applied"] {
                view["notice"] = "Applied; audit entry \(applied)."
            }
            return .ok(ConsoleTemplates.render("console", title: "Console · \(deal)", view))
        }
    }

    func snapshot(_ request: Request, _ context: GatewayRequestContext) async -> Response {
        do {
            let call = try await caller(request)
            let deal = context.parameters.get("deal") ?? ""
            return Self.json(try await data.snapshot(deal: deal, call))
        } catch {
            return Self.json(["error": error.description, "code": error.code.rawValue], status: error.httpStatus)
        }
    }

    func events(_ request: Request, _ context: GatewayRequestContext) async -> Response {
        let call: CallContext
        do { call = try await caller(request) } catch {
            return Self.json(["error": error.description, "code": error.code.rawValue], status: error.httpStatus)
        }
        let deal = context.parameters.get("deal") ?? ""
        let data = self.data
        let lifetime = streamLifetime
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
            body: ResponseBody { writer in
                try await Self.stream(&writer, data: data, deal: deal, call: call, lifetime: lifetime)
            })
    }

    /// The event stream: a snapshot a second until `lifetime` is over.
    static func stream(
        _ writer: inout any ResponseBodyWriter, data: ConsoleData, deal: String, call: CallContext, lifetime: Duration
    ) async throws {
        try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
        let end = ContinuousClock.now + lifetime
        while ContinuousClock.now < end, !Task.isCancelled {
            let started = ContinuousClock.now
            var event = ""
            do {
                let snapshot = try await data.snapshot(deal: deal, call)
                let body = (try? JSONSerialization.data(withJSONObject: snapshot, options: [.sortedKeys])) ?? Data()
                event = "data: " + String(decoding: body, as: UTF8.self) + "\n\n"
            } catch {
                event = "event: failure\ndata: \(error.code.rawValue)\n\n"
            }
            try await writer.write(ByteBuffer(string: event))
            try await Task.sleep(until: started + .seconds(1), clock: .continuous)
        }
        try await writer.finish(nil)
    }

    func action(_ request: Request, _ context: GatewayRequestContext) async -> Response {
        await page(request, context) { (call, deal) throws(APIError) -> Answer in
            guard ShopperPages.sameOrigin(request) else {
                throw APIError(.badRequest, "this form was posted from another site")
            }
            let buffer = try? await request.body.collect(upTo: 8_192)
            let form = ShopperPages.form(buffer.map { String(buffer: $0) } ?? "")
            let name = form["action"] ?? ""
            let value = form["value"].flatMap { $0.isEmpty ? nil : $0 }
            let reason = form["reason"] ?? ""
            let apply = form["step"] == "apply"
            let outcome = try await data.operatorAPI.operate(
                deal: deal, action: name, value: value, reason: reason, dryRun: !apply, call)
            if apply {
                return .redirect("/ops/deals/\(deal)?applied=\(outcome.auditId ?? "")")
            }
            return .ok(
                ConsoleTemplates.render(
                    "confirm", title: "Confirm \(name) · \(deal)",
                    ConsoleTemplates.confirmation(
                        outcome.change, deal: deal, action: name, value: value, reason: reason)
                ))
        }
    }

    /// Takes an operator token from the sign-in form and keeps it in an `HttpOnly` cookie for the
    /// console's routes.
    func signIn(_ request: Request) async -> Response {
        let buffer = try? await request.body.collect(upTo: 8_192)
        let form = ShopperPages.form(buffer.map { String(buffer: $0) } ?? "")
        let token = (form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        do throws(APIError) {
            guard ShopperPages.sameOrigin(request) else {
                throw APIError(.badRequest, "this form was posted from another site")
            }
            _ = try await caller(token: token)
        } catch {
            return Self.html(
                HTTPResponse.Status(code: Self.status(error)),
                ConsoleTemplates.render(
                    "message", title: "Console", ["message": error.message, "code": error.code.rawValue]))
        }
        let deal = form["deal"].flatMap { $0.isEmpty ? nil : $0 }
        return Response(
            status: .seeOther,
            headers: [
                .location: deal.map { "/ops/deals/\($0)" } ?? "/ops/sign-in",
                .setCookie: "\(Self.tokenCookie)=\(token); Path=/ops; HttpOnly; SameSite=Strict",
                .cacheControl: "no-store",
            ])
    }

    // MARK: Plumbing

    /// A refusal as a page's status: the API's own where it has one, 404 for an unknown deal, 422
    /// for an action refused, 400 for the rest of what the API answers with 200 and an error.
    static func status(_ error: APIError) -> Int {
        switch error.code {
        case .notFound: 404
        case .actionRefused: 422
        default: max(400, error.httpStatus)
        }
    }

    static func html(_ status: HTTPResponse.Status, _ html: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    enum Answer {
        case ok(String)
        case redirect(String)
    }

    /// An HTML route: the operator, then `body`; a refusal is a page with its status.
    func page(
        _ request: Request, _ context: GatewayRequestContext,
        _ body: (CallContext, String) async throws(APIError) -> Answer
    ) async -> Response {
        let headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"]
        do {
            let call = try await caller(request)
            switch try await body(call, context.parameters.get("deal") ?? "") {
            case .ok(let html):
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
            case .redirect(let location):
                return Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
            }
        } catch {
            let html = ConsoleTemplates.render(
                "message", title: "Console", ["message": error.message, "code": error.code.rawValue])
            return Response(
                status: HTTPResponse.Status(code: Self.status(error)),
                headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
        }
    }

    /// The operator behind the request; shoppers get FORBIDDEN, nobody UNAUTHENTICATED.
    func caller(_ request: Request) async throws(APIError) -> CallContext {
        try await caller(
            token: request.headers[.authorization].map { String($0.drop { $0 != " " }.dropFirst()) }
                ?? ShopperPages.cookies(request.headers[.cookie])[Self.tokenCookie])
    }

    func caller(token: String?) async throws(APIError) -> CallContext {
        guard let token, !token.isEmpty else {
            throw APIError(.unauthenticated, "the console needs an operator token (cookie \(Self.tokenCookie))")
        }
        let verified: ShopperAuthenticator.Verified?
        do { verified = try await authenticator.caller(authorization: "Bearer \(token)") } catch {
            throw APIError(.unauthenticated, error.errors.first?.message ?? "the token is not valid")
        }
        let call = CallContext(
            userId: verified?.user, isOperator: verified?.isOperator ?? false, clientIP: "", headers: [:],
            traceparent: TraceContext.traceparent(from: nil))
        _ = try call.requireOperator()
        return call
    }

    static func json(_ object: [String: Any], status: Int = 200) -> Response {
        let body = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
