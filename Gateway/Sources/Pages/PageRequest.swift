import Admission
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// One page being answered: the shopper's call into ``ShopperAPI``, and the page it makes.
struct PageRequest: Sendable {
    let api: ShopperAPI
    let call: CallContext
    let language: PageLanguage
    let zone: TimeZone
    let parameters: Parameters
    let form: [String: String]
    let path: String
    let now: Date

    func text(_ key: PageText, _ values: [String: String] = [:]) -> String { language.text(key, values) }

    func parameter(_ name: String) throws(APIError) -> String {
        guard let value = parameters.get(name) else { throw APIError(.badRequest, "no \(name) in the path") }
        return String(value)
    }

    // MARK: Deal

    func deal() async throws(APIError) -> PageResponse {
        let id = try parameter("deal")
        guard let deal = try await api.deal(id, call) else {
            return page(
                title: text(.siteName), dealId: id, template: "message", ["message": text(.dealNotFound)], .notFound)
        }
        let product = try? await api.product(deal.productId.rawValue, call)
        let state = try await api.stock(id, call)
        let remaining = state?.remaining ?? deal.totalStock
        var view: [String: Any] = [
            "dealId": id, "price": Self.price(deal.price, language: language),
            "stock": text(.stockLeft, ["left": "\(max(0, remaining))", "total": "\(deal.totalStock)"]),
            "limit": text(.perCustomer, ["limit": "\(deal.perCustomerLimit)"]),
        ]
        if let product, product.name != deal.title { view["product"] = product.name }
        let soldOut = state?.isSoldOut ?? false
        if now >= deal.endsAt {
            view["state"] = text(.saleEnded)
        } else if soldOut {
            view["state"] = text(.soldOut)
        } else {
            if now < deal.startsAt {
                view["opens"] = [
                    "iso": Timestamp.format(deal.startsAt),
                    "text": text(
                        .opensAt,
                        [
                            "time": language.absolute(deal.startsAt, zone: zone),
                            "relative": language.relative(deal.startsAt, from: now),
                        ]),
                ]
                view["preQueueRule"] = text(.preQueueRule)
            } else {
                view["state"] = text(.onSaleNow, ["time": language.absolute(deal.endsAt, zone: zone)])
            }
            let lineOpens = deal.startsAt.addingTimeInterval(-api.settings.waitingRoom.preQueueWindow.seconds)
            if now < lineOpens {
                view["lineOpens"] = text(
                    .lineOpensAt,
                    [
                        "time": language.absolute(lineOpens, zone: zone),
                        "relative": language.relative(lineOpens, from: now),
                    ])
            } else if call.userId == nil {
                view["signIn"] = text(.signInToJoin)
            } else {
                view["join"] = text(.joinLine)
            }
        }
        return page(title: deal.title, dealId: id, template: "deal", view)
    }

    // MARK: Line

    func join() async throws(APIError) -> PageResponse {
        let id = try parameter("deal")
        let (ticket, _, _) = try await api.join(id, call)
        return .redirect("/shop/deals/\(id)/line/\(ticket.ticketId.rawValue)")
    }

    func line() async throws(APIError) -> PageResponse {
        let id = try parameter("deal")
        let ticket = try parameter("ticket")
        let status: AdmissionStatus
        do { status = try await api.admission(ticket: ticket, deal: id, call) } catch  where error.code == .soldOut {
            status = .soldOut
        }
        var view: [String: Any] = ["dealId": id, "refresh": ["href": path, "text": text(.refresh)]]
        var title = text(.lineTitle)
        switch status {
        case .waiting(let position, _, let eta):
            var waiting: [String: Any] = [
                "position": text(.position, ["position": "\(position)"]),
                "ahead": text(.ahead, ["ahead": "\(max(0, position - 1))"]),
            ]
            if let eta {
                // A range, never a countdown: the rate moves.
                let low = language.duration(eta.seconds * 0.8)
                let high = language.duration(eta.seconds * 1.3 + 5)
                waiting["eta"] =
                    text(.etaRange, ["low": low, "high": high]) + " ("
                    + text(.asOf, ["time": language.clock(now, zone: zone)]) + ")"
            } else {
                waiting["eta"] = text(.estimating)
            }
            waiting["progressLabel"] = text(.progressLabel)
            view["waiting"] = waiting
        case .paused(let position):
            title = text(.pausedTitle)
            view["waiting"] = [
                "position": text(.position, ["position": "\(position)"]),
                "ahead": text(.ahead, ["ahead": "\(max(0, position - 1))"]), "eta": text(.paused),
                "progressLabel": text(.progressLabel),
            ]
        case .preQueue(let drawAt, let entrants):
            title = text(.preQueueTitle)
            view["preQueue"] = [
                "draw": text(
                    entrants == 1 ? .preQueueDrawAlone : .preQueueDraw,
                    [
                        "time": language.absolute(drawAt, zone: zone), "relative": language.relative(drawAt, from: now),
                        "entrants": "\(entrants)",
                    ]),
                "rule": text(.preQueueRule), "seed": text(.drawSeed),
            ]
        case .admitted(let issued):
            title = text(.yourTurn)
            view["admitted"] = [
                "title": text(.yourTurn), "pass": issued.token, "key": UUID().uuidString.lowercased(),
                "iso": Timestamp.format(issued.pass.expiresAt),
                "until": text(
                    .passValidUntil,
                    [
                        "time": language.clock(issued.pass.expiresAt, zone: zone),
                        "relative": language.relative(issued.pass.expiresAt, from: now),
                    ]),
                "quantityLabel": text(.quantity), "placeOrder": text(.placeOrder),
                "max": api.settings.orders.maxQuantity,
            ]
            view["refresh"] = nil
        case .passUsed(let orderId):
            view["outcome"] = text(.passUsed)
            view["orderLink"] = ["href": "/shop/orders/\(orderId.rawValue)", "text": text(.viewOrder)]
            view["refresh"] = nil
        case .expired, .unknownTicket:
            view["outcome"] = text(.expired)
            view["joinAgain"] = text(.joinAgain)
            view["refresh"] = nil
        case .soldOut:
            view["outcome"] = text(.soldOutNotCharged)
            view["refresh"] = nil
        case .ended:
            view["outcome"] = text(.ended)
            view["refresh"] = nil
        }
        let state = Self.stateName(status)
        if state == "WAITING" || state == "PRE_QUEUE" || state == "PAUSED" {
            view["poll"] = [
                "ticket": ticket, "state": state, "tPosition": text(.position), "tAhead": text(.ahead),
                "tEta": text(.etaRange), "tAsOf": text(.asOf), "tEstimating": text(.estimating),
                "tSeconds": language.secondsTemplate, "tMinutes": language.minutesTemplate,
            ]
        }
        return page(title: title, dealId: id, template: "line", view)
    }

    /// The state as the GraphQL `admission` query names it.
    static func stateName(_ status: AdmissionStatus) -> String {
        switch status {
        case .preQueue: "PRE_QUEUE"
        case .waiting: "WAITING"
        case .paused: "PAUSED"
        case .admitted: "ADMITTED"
        case .passUsed: "PASS_USED"
        case .expired, .unknownTicket: "EXPIRED"
        case .soldOut: "SOLD_OUT"
        case .ended: "ENDED"
        }
    }

    // MARK: Orders

    func placeOrder() async throws(APIError) -> PageResponse {
        let id = try parameter("deal")
        guard let quantity = form["quantity"].flatMap(Int.init), quantity >= 1 else {
            throw APIError(.badRequest, "the quantity must be a whole number of at least 1")
        }
        let receipt = try await api.createOrder(
            dealId: id, quantity: quantity, idempotencyKey: form["key"] ?? UUID().uuidString.lowercased(),
            pass: form["pass"], call)
        return .redirect("/shop/orders/\(receipt.orderId.rawValue)")
    }

    func order() async throws(APIError) -> PageResponse {
        let id = try parameter("order")
        guard let order = try await api.order(id, call) else {
            // Orders are recorded when the worker decides them; another shopper's reads as absent.
            let view: [String: Any] = [
                "orderId": id, "status": text(.orderNotFound), "poll": ["code": "UNRECORDED"],
                "refresh": ["href": path, "text": text(.refresh)],
            ]
            return page(title: text(.orderTitle), dealId: "", template: "order", view, .notFound)
        }
        let status: PageText =
            switch order.status {
            case "CONFIRMED": .orderConfirmed
            case "REJECTED": .orderRejected
            case "FAILED": .orderFailed
            case "CANCELLED": .orderCancelled
            default: .orderPending
            }
        var view: [String: Any] = [
            "orderId": order.orderId, "status": text(status), "quantity": "\(text(.quantity)) \(order.quantity)",
        ]
        if let reason = order.reason {
            let known: [String: PageText] = [
                "SOLD_OUT": .reasonSoldOut, "LIMIT_EXCEEDED": .reasonLimit, "DEAL_CLOSED": .reasonClosed,
            ]
            view["reason"] = text(.reason, ["reason": known[reason].map { text($0) } ?? reason])
        }
        if order.status == "PENDING" || order.status == "CONFIRMED" { view["cancel"] = text(.cancelOrder) }
        if order.status == "PENDING" {
            view["refresh"] = ["href": path, "text": text(.refresh)]
            view["poll"] = ["code": order.status]
        }
        return page(title: text(.orderTitle), dealId: order.dealId, template: "order", view)
    }

    func cancel() async throws(APIError) -> PageResponse {
        let id = try parameter("order")
        _ = try await api.cancelOrder(id, call)
        return .redirect("/shop/orders/\(id)")
    }

    // MARK: Rendering

    func page(
        title: String, dealId: String, template: String, _ view: [String: Any], _ status: HTTPResponse.Status = .ok
    ) -> PageResponse {
        PageResponse(
            status: status,
            html: Self.render(title: title, dealId: dealId, template: template, view, language: language, path: path))
    }

    static func render(
        title: String, dealId: String, template: String, _ view: [String: Any], language: PageLanguage, path: String
    ) -> String {
        let content = PageTemplates.library.render(view, withTemplate: template) ?? ""
        let layout: [String: Any] = [
            "lang": language.rawValue, "title": title, "site": language.text(.siteName), "dealId": dealId,
            "otherLang": language.other.rawValue, "switchHref": "\(path)?lang=\(language.other.rawValue)",
            "switchText": language.text(.switchLanguage), "content": content,
            "offline": language.text(.connectionLost),
        ]
        return PageTemplates.library.render(layout, withTemplate: "layout") ?? content
    }

    /// Any failure as a page: its message, the status the API's error maps to, `Retry-After` kept.
    static func failure(_ error: APIError, language: PageLanguage, path: String) -> PageResponse {
        var view: [String: Any] = ["message": error.message]
        if let retry = error.retryAfter {
            view["retry"] = language.text(.retryIn, ["seconds": "\(Int(retry.seconds.rounded(.up)))"])
        }
        let status: HTTPResponse.Status =
            switch error.code {
            case .notFound: .notFound
            case .unauthenticated: .unauthorized
            case .rateLimited, .queued: .tooManyRequests
            case .unavailable: .serviceUnavailable
            case .internalError: .internalServerError
            case .badRequest: .badRequest
            default: .conflict
            }
        var response = PageResponse(
            status: status,
            html: render(
                title: language.text(.errorTitle), dealId: "", template: "message", view, language: language, path: path
            ))
        response.retryAfter = error.retryAfter
        return response
    }

    static func price(_ money: Money, language: PageLanguage) -> String {
        let f = NumberFormatter()
        f.numberStyle = .currency
        f.locale = language.locale
        f.currencyCode = money.currency.rawValue
        let digits = f.maximumFractionDigits
        let scale = (0..<digits).reduce(1.0) { r, _ in r * 10 }
        return f.string(from: NSNumber(value: Double(money.amountMinor) / scale))
            ?? "\(money.amountMinor) \(money.currency)"
    }
}
