import Admission
import Domain
import Foundation
import GraphQL

/// The resolvers of the hot root fields, shared by the general executor (the schema's `resolve`
/// closures) and the compiled operations (``CompiledOperation``): both paths run the same code
/// from the arguments on.
extension GatewaySchema {
    static func resolveAdmission(_ api: ShopperAPI, _ args: Map, _ context: CallContext) async throws -> Object {
        let ticket = args["ticket"].string ?? ""
        let deal = args["dealId"].string ?? ""
        let status = try await api.admission(ticket: ticket, deal: deal, context)
        return admissionObject(status, ticket: ticket, deal: deal, alreadyJoined: false, now: api.clock.now)
    }

    static func resolveJoinWaitingRoom(_ api: ShopperAPI, _ args: Map, _ context: CallContext) async throws -> Object {
        let (ticket, status, again) = try await api.join(args["dealId"].string ?? "", context)
        return admissionObject(
            status, ticket: ticket.ticketId.rawValue, deal: ticket.dealId.rawValue, alreadyJoined: again,
            now: api.clock.now)
    }

    static func resolveCreateOrder(_ api: ShopperAPI, _ args: Map, _ context: CallContext) async throws -> Object {
        let input = args["input"]
        let receipt = try await api.createOrder(
            dealId: input["dealId"].string ?? "", quantity: input["quantity"].int ?? 1,
            idempotencyKey: input["idempotencyKey"].string ?? "", pass: input["pass"].string, context)
        return [
            "id": receipt.orderId.rawValue, "dealId": receipt.dealId.rawValue, "quantity": receipt.quantity,
            "status": "PENDING", "replayed": receipt.replayed,
        ]
    }

    static func resolveOrder(_ api: ShopperAPI, _ args: Map, _ context: CallContext) async throws -> Object? {
        try await api.order(args["id"].string ?? "", context).map(orderObject)
    }

    static func orderObject(_ order: ShopperAPI.OrderView) -> Object {
        [
            "id": order.orderId, "dealId": order.dealId, "quantity": order.quantity, "status": order.status,
            "reason": order.reason, "createdAt": order.createdAt, "updatedAt": order.updatedAt,
        ]
    }

    static func admissionObject(
        _ status: AdmissionStatus, ticket: String, deal: String, alreadyJoined: Bool, now: Date
    ) -> Object {
        var object: Object = ["ticket": ticket, "dealId": deal, "alreadyJoined": alreadyJoined]
        switch status {
        case .preQueue(let drawAt, let entrants):
            object["state"] = "PRE_QUEUE"
            object["drawAt"] = drawAt
            object["entrants"] = entrants
            object["pollAfterMs"] = Int(min(5_000, max(500, drawAt.timeIntervalSince(now) * 250)))
        case .waiting(let position, let rate, let eta):
            object["state"] = "WAITING"
            object["position"] = position
            object["admissionRatePerSecond"] = rate
            if let eta { object["etaSeconds"] = eta.seconds }
            // Near the head of the line, poll often; far back, rarely. With no admission measured
            // (the room paused, or just opened) the place itself stands in for the ETA, as if one
            // shopper a second were admitted: a long line that stalls backs off to 10 s instead of
            // every shopper polling twice a second.
            object["pollAfterMs"] = Int(min(10_000, max(250, (eta?.seconds ?? Double(position)) * 250)))
        case .paused(let position):
            // Admission is paused: the place is kept while the shopper keeps polling (well inside
            // the abandonment time); nothing moves until an operator resumes.
            object["state"] = "PAUSED"
            object["position"] = position
            object["pollAfterMs"] = 5_000
        case .admitted(let issued):
            object["state"] = "ADMITTED"
            object["pass"] =
                [
                    "token": issued.token, "expiresAt": issued.pass.expiresAt,
                    "keyId": issued.pass.keyId.rawValue,
                ] as Object
            object["pollAfterMs"] = 1_000
        case .passUsed(let orderId):
            object["state"] = "PASS_USED"
            object["orderId"] = orderId.rawValue
            object["pollAfterMs"] = 10_000
        case .expired:
            object["state"] = "EXPIRED"
            object["pollAfterMs"] = 10_000
        case .soldOut:
            object["state"] = "SOLD_OUT"
            object["pollAfterMs"] = 5_000
        case .ended:
            object["state"] = "ENDED"
            object["pollAfterMs"] = 60_000
        case .unknownTicket:
            object["state"] = "EXPIRED"
            object["pollAfterMs"] = 10_000
        }
        return object
    }
}
