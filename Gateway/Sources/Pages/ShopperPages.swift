import Admission
import Credentials
import Domain
import Foundation
import GraphQL
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The shopper's pages, rendered on the server over the same ``ShopperAPI`` the GraphQL endpoint
/// uses (the same rate policies, waiting room and order path): a deal, the shopper's place in its
/// line, an order. The shopper is the subject of the token in the `flashdeal_token` cookie (the
/// shop's sign-in sets it; `HttpOnly`, `SameSite=Lax`). Forms post back here and are answered with
/// a redirect to the page that shows the result, so a reload never repeats an action.
struct ShopperPages: Sendable {
    let api: ShopperAPI
    let authenticator: ShopperAuthenticator
    let addresses: ClientAddressResolver
    /// The zone absolute times are shown in.
    let zone: TimeZone
    let logger: Logger

    static let tokenCookie = "flashdeal_token"

    enum Action: Sendable { case deal, join, line, placeOrder, order, cancel }

    func register(on router: Router<GatewayRequestContext>) {
        router.get("shop/deals/:deal") { request, context in await self.page(request, context, .deal) }
        router.post("shop/deals/:deal/line") { request, context in await self.page(request, context, .join) }
        router.get("shop/deals/:deal/line/:ticket") { request, context in await self.page(request, context, .line) }
        router.post("shop/deals/:deal/orders") { request, context in await self.page(request, context, .placeOrder) }
        router.get("shop/orders/:order") { request, context in await self.page(request, context, .order) }
        router.post("shop/orders/:order/cancel") { request, context in await self.page(request, context, .cancel) }
        PageScripts.register(on: router)
    }

    /// One page request: language, shopper, the action, and every failure as a page.
    func page(_ request: Request, _ context: GatewayRequestContext, _ action: Action) async -> Response {
        let cookies = Self.cookies(request.headers[.cookie])
        let query = request.uri.queryParameters
        let language = PageLanguage.negotiate(
            query: query["lang"].map(String.init), cookie: cookies["lang"],
            acceptLanguage: request.headers[.acceptLanguage])
        var response: PageResponse
        do {
            if request.method == .post, !Self.sameOrigin(request) {
                throw APIError(.badRequest, "this form was posted from another site")
            }
            let user = try await shopper(cookies[Self.tokenCookie])
            let clientIP = addresses.resolve(
                socketAddress: context.remoteAddress?.ipAddress ?? "", forwardedFor: request.headers[.xForwardedFor])
            let call = CallContext(
                userId: user, clientIP: clientIP, headers: [:],
                traceparent: TraceContext.traceparent(from: request.headers[.traceparent]))
            var form: [String: String] = [:]
            if request.method == .post {
                let buffer = try? await request.body.collect(upTo: 4_096)
                form = Self.form(buffer.map { String(buffer: $0) } ?? "")
            }
            let pageRequest = PageRequest(
                api: api, call: call, language: language, zone: zone, parameters: context.parameters, form: form,
                path: request.uri.path, now: api.clock.now)
            switch action {
            case .deal: response = try await pageRequest.deal()
            case .join: response = try await pageRequest.join()
            case .line: response = try await pageRequest.line()
            case .placeOrder: response = try await pageRequest.placeOrder()
            case .order: response = try await pageRequest.order()
            case .cancel: response = try await pageRequest.cancel()
            }
        } catch let error as APIError {
            response = PageRequest.failure(error, language: language, path: request.uri.path)
        } catch {
            response = PageRequest.failure(
                APIError(.internalError, "the page could not be made"), language: language, path: request.uri.path)
        }
        return response.http(
            language: language, setLanguage: query["lang"].flatMap { PageLanguage(rawValue: String($0)) })
    }

    func shopper(_ token: String?) async throws(APIError) -> UserID? {
        guard let token, !token.isEmpty else { return nil }
        do { return try await authenticator.user(authorization: "Bearer \(token)") } catch {
            throw APIError(.unauthenticated, error.errors.first?.message ?? "the sign-in token is not valid")
        }
    }

    /// A form posted from a page of this host (the `Origin` a browser sends with every POST).
    static func sameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard let host = request.head.authority else { return false }
        guard let url = URL(string: origin), let originHost = url.host else { return false }
        return originHost + (url.port.map { ":\($0)" } ?? "") == host || originHost == host
    }

    static func cookies(_ header: String?) -> [String: String] {
        var cookies: [String: String] = [:]
        for pair in (header ?? "").split(separator: ";") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2 { cookies[kv[0]] = kv[1] }
        }
        return cookies
    }

    /// `application/x-www-form-urlencoded`.
    static func form(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if let name = kv.first, !name.isEmpty { fields[name] = kv.count > 1 ? kv[1] : "" }
        }
        return fields
    }
}

/// What a page handler returns: a rendered page with its status, or a redirect.
struct PageResponse: Sendable {
    var status: HTTPResponse.Status = .ok
    var html: String?
    var location: String?
    var retryAfter: Duration?

    static func redirect(_ location: String) -> PageResponse { PageResponse(status: .seeOther, location: location) }

    func http(language: PageLanguage, setLanguage: PageLanguage?) -> Response {
        var headers: HTTPFields = [.cacheControl: "no-store", .contentLanguage: language.rawValue]
        if let location { headers[.location] = location }
        if let retryAfter { headers[.retryAfter] = String(Int(retryAfter.seconds.rounded(.up))) }
        if let setLanguage {
            headers[.setCookie] = "lang=\(setLanguage.rawValue); Path=/shop; Max-Age=31536000; SameSite=Lax"
        }
        guard let html else { return Response(status: status, headers: headers) }
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
