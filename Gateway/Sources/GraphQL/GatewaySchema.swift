import Admission
import Domain
import Foundation
import GraphQL
import OrderedCollections

/// The public GraphQL schema and its resolvers. `schemas/flashdeal.graphql` is this schema printed;
/// a test keeps the two equal.
///
/// Resolvers return `[String: any Sendable]` objects (read by the default field resolver) and
/// fail with ``APIError``; the HTTP layer turns those into `extensions`.
enum GatewaySchema {
    typealias Object = [String: any Sendable]

    static func make(api maybeAPI: ShopperAPI?, operatorAPI: OperatorAPI? = nil) throws -> GraphQLSchema {
        // Without an API (printing the schema) every resolver fails.
        let api = APIHandle(maybeAPI)
        let dateTime = try GraphQLScalarType(
            name: "DateTime",
            description: "An instant as an RFC 3339 UTC string with milliseconds, e.g. `2026-11-25T10:00:00.000Z`.",
            serialize: { value in
                if let date = value as? Date { return .string(Timestamp.format(date)) }
                if let text = value as? String { return .string(text) }
                throw GraphQLError(message: "DateTime cannot represent \(type(of: value))")
            },
            parseValue: { value in
                guard case .string(let text) = value, Timestamp.parse(text) != nil else {
                    throw GraphQLError(message: "DateTime must be an RFC 3339 UTC string")
                }
                return value
            },
            parseLiteral: { ast in
                guard let string = ast as? StringValue, Timestamp.parse(string.value) != nil else {
                    throw GraphQLError(message: "DateTime must be an RFC 3339 UTC string")
                }
                return .string(string.value)
            })

        let dealPhase = try enumType(
            "DealPhase", "Where a deal is in its life.",
            [
                ("SCHEDULED", "Announced; the pre-queue is not open yet."),
                ("PRE_QUEUE", "Shoppers may join the pre-queue; places are drawn at the opening."),
                ("OPEN", "On sale."),
                ("SOLD_OUT", "No stock left now; stock released by cancellations returns to sale."),
                ("ENDED", "The sale window is over."),
            ])
        let orderStatus = try enumType(
            "OrderStatus", "Life of an order.",
            [
                ("PENDING", "Accepted by the gateway and queued; the order worker has not decided yet."),
                ("CONFIRMED", "Stock reserved and the order recorded."),
                (
                    "REJECTED",
                    "Refused by the worker (sold out, over the per-shopper limit, deal closed); see `reason`."
                ),
                ("FAILED", "Could not be completed; its stock was released."),
                ("CANCELLED", "Cancelled by the shopper or expired; its stock was released."),
            ])
        let admissionState = try enumType(
            "AdmissionState", "A ticket holder's situation in the waiting room.",
            [
                ("PRE_QUEUE", "Joined before the opening; the draw at `drawAt` decides the place."),
                ("WAITING", "In line; see `position` and `etaSeconds`."),
                ("PAUSED", "In line while operators have paused admission; the place is kept, keep polling."),
                ("ADMITTED", "Your turn: `pass` lets you place one order before it expires."),
                ("PASS_USED", "The pass was used for `orderId`."),
                ("EXPIRED", "The pass or the place expired unused; join again for a new place."),
                ("SOLD_OUT", "No stock left; nobody else is being admitted."),
                ("ENDED", "The sale is over."),
            ])

        let money = try GraphQLObjectType(
            name: "Money", description: "An amount in the currency's minor unit.",
            fields: [
                "amountMinor": GraphQLField(type: GraphQLNonNull(GraphQLInt), description: "E.g. 1999 for 19.99 EUR."),
                "currency": GraphQLField(type: GraphQLNonNull(GraphQLString), description: "ISO 4217 code."),
            ])
        let product = try GraphQLObjectType(
            name: "Product",
            fields: [
                "id": GraphQLField(type: GraphQLNonNull(GraphQLID)),
                "name": GraphQLField(type: GraphQLNonNull(GraphQLString)),
                "description": GraphQLField(type: GraphQLString),
            ])
        let stock = try GraphQLObjectType(
            name: "Stock", description: "A deal's live state, at most a fraction of a second old.",
            fields: [
                "dealId": GraphQLField(type: GraphQLNonNull(GraphQLID)),
                "remaining": GraphQLField(type: GraphQLNonNull(GraphQLInt), description: "Units not yet reserved."),
                "total": GraphQLField(type: GraphQLNonNull(GraphQLInt)),
                "soldOut": GraphQLField(type: GraphQLNonNull(GraphQLBoolean)),
                "phase": GraphQLField(type: GraphQLNonNull(dealPhase)),
            ])
        let deal = try GraphQLObjectType(
            name: "Deal", description: "A limited-stock sale of one product.",
            fields: [
                "id": GraphQLField(type: GraphQLNonNull(GraphQLID)),
                "title": GraphQLField(type: GraphQLNonNull(GraphQLString)),
                "price": GraphQLField(type: GraphQLNonNull(money)),
                "startsAt": GraphQLField(type: GraphQLNonNull(dateTime)),
                "endsAt": GraphQLField(type: GraphQLNonNull(dateTime)),
                "totalStock": GraphQLField(type: GraphQLNonNull(GraphQLInt)),
                "perCustomerLimit": GraphQLField(
                    type: GraphQLNonNull(GraphQLInt), description: "Most units one shopper may hold."),
                "product": GraphQLField(
                    type: product,
                    resolve: { source, _, _, _ in
                        guard let id = (source as? Object)?["productId"] as? ProductID else { return nil }
                        do { return try await api.api.catalog.product(id).map(productObject) } catch {
                            throw try api.api.unavailable("the catalog", error)
                        }
                    }),
                "stock": GraphQLField(
                    type: stock, description: "Live stock, from the hot store.",
                    resolve: { source, _, _, _ in
                        guard let id = (source as? Object)?["dealRef"] as? DealID else { return nil }
                        return try await api.api.dealState(id).map { stockObject($0, try api.api) }
                    }),
            ])
        let order = try GraphQLObjectType(
            name: "Order",
            fields: [
                "id": GraphQLField(type: GraphQLNonNull(GraphQLID)),
                "dealId": GraphQLField(type: GraphQLNonNull(GraphQLID)),
                "quantity": GraphQLField(type: GraphQLNonNull(GraphQLInt)),
                "status": GraphQLField(type: GraphQLNonNull(orderStatus)),
                "reason": GraphQLField(type: GraphQLString, description: "Why it was rejected, failed or cancelled."),
                "createdAt": GraphQLField(type: dateTime),
                "updatedAt": GraphQLField(type: dateTime),
            ])
        let receipt = try GraphQLObjectType(
            name: "OrderReceipt",
            description:
                "createOrder's answer: the order is queued for the worker (status PENDING); follow it with `order(id)`.",
            fields: [
                "id": GraphQLField(
                    type: GraphQLNonNull(GraphQLID),
                    description: "Derived from (shopper, deal, idempotencyKey): a retry gets the same id."),
                "dealId": GraphQLField(type: GraphQLNonNull(GraphQLID)),
                "quantity": GraphQLField(type: GraphQLNonNull(GraphQLInt)),
                "status": GraphQLField(type: GraphQLNonNull(orderStatus)),
                "replayed": GraphQLField(
                    type: GraphQLNonNull(GraphQLBoolean),
                    description: "True when this repeated an earlier call with the same idempotency key."),
            ])
        let pass = try GraphQLObjectType(
            name: "AdmissionPass", description: "Signed, single-use permission to place one order for one deal.",
            fields: [
                "token": GraphQLField(
                    type: GraphQLNonNull(GraphQLString), description: "Send it as `pass` in createOrder."),
                "expiresAt": GraphQLField(type: GraphQLNonNull(dateTime)),
                "keyId": GraphQLField(type: GraphQLNonNull(GraphQLString)),
            ])
        let admission = try GraphQLObjectType(
            name: "Admission", description: "A ticket holder's view of the waiting room.",
            fields: [
                "ticket": GraphQLField(type: GraphQLNonNull(GraphQLID)),
                "dealId": GraphQLField(type: GraphQLNonNull(GraphQLID)),
                "state": GraphQLField(type: GraphQLNonNull(admissionState)),
                "alreadyJoined": GraphQLField(
                    type: GraphQLNonNull(GraphQLBoolean),
                    description: "joinWaitingRoom only: you already had this place (one place per shopper)."),
                "position": GraphQLField(type: GraphQLInt, description: "1 = next to be admitted."),
                "etaSeconds": GraphQLField(type: GraphQLFloat, description: "position ÷ the measured admission rate."),
                "admissionRatePerSecond": GraphQLField(type: GraphQLFloat),
                "pass": GraphQLField(type: pass),
                "orderId": GraphQLField(type: GraphQLID),
                "drawAt": GraphQLField(type: dateTime),
                "entrants": GraphQLField(type: GraphQLInt, description: "Pre-queue size so far."),
                "pollAfterMs": GraphQLField(type: GraphQLNonNull(GraphQLInt), description: "When to ask again."),
            ])
        let waitingRoom = try GraphQLObjectType(
            name: "WaitingRoom",
            description: "The pre-queue draw, auditable: the seed is committed before and revealed after.",
            fields: [
                "dealId": GraphQLField(type: GraphQLNonNull(GraphQLID)),
                "seedCommitment": GraphQLField(
                    type: GraphQLNonNull(GraphQLString), description: "Hex SHA-256 of the seed."),
                "seed": GraphQLField(type: GraphQLString, description: "Revealed once the draw is done."),
                "entrants": GraphQLField(type: GraphQLNonNull(GraphQLInt)),
                "drawnAt": GraphQLField(type: dateTime),
            ])
        let createOrderInput = try GraphQLInputObjectType(
            name: "CreateOrderInput",
            fields: [
                "dealId": InputObjectField(type: GraphQLNonNull(GraphQLID)),
                "quantity": InputObjectField(type: GraphQLNonNull(GraphQLInt), defaultValue: .number(1)),
                "idempotencyKey": InputObjectField(
                    type: GraphQLNonNull(GraphQLString),
                    description: "One key per purchase intent (e.g. a UUID); retry with the same key after an error."),
                "pass": InputObjectField(
                    type: GraphQLString, description: "The admission pass token from the waiting room."),
            ])

        let operators = try operatorFields(operatorAPI, dateTime: dateTime)
        let query = try GraphQLObjectType(
            name: "Query",
            fields: withOperatorFields(
                operators.query,
                [
                    "deals": GraphQLField(
                        type: GraphQLNonNull(GraphQLList(GraphQLNonNull(deal))), description: "Deals, soonest first.",
                        args: ["first": GraphQLArgument(type: GraphQLInt, defaultValue: .number(20))],
                        resolve: { _, args, context, _ in
                            try await api.api.dealList(limit: args["first"].int ?? 20, ctx(context)).map(dealObject)
                        }),
                    "deal": GraphQLField(
                        type: deal, args: ["id": GraphQLArgument(type: GraphQLNonNull(GraphQLID))],
                        resolve: { _, args, context, _ in
                            try await api.api.deal(args["id"].string ?? "", ctx(context)).map(dealObject)
                        }),
                    "product": GraphQLField(
                        type: product, args: ["id": GraphQLArgument(type: GraphQLNonNull(GraphQLID))],
                        resolve: { _, args, context, _ in
                            try await api.api.product(args["id"].string ?? "", ctx(context)).map(productObject)
                        }),
                    "stock": GraphQLField(
                        type: stock, args: ["dealId": GraphQLArgument(type: GraphQLNonNull(GraphQLID))],
                        resolve: { _, args, context, _ in
                            try await api.api.stock(args["dealId"].string ?? "", ctx(context)).map {
                                stockObject($0, try api.api)
                            }
                        }),
                    "order": GraphQLField(
                        type: order, description: "One of your orders (null if it is not yours or not recorded yet).",
                        args: ["id": GraphQLArgument(type: GraphQLNonNull(GraphQLID))],
                        resolve: { _, args, context, _ in try await resolveOrder(try api.api, args, ctx(context)) }),
                    "admission": GraphQLField(
                        type: GraphQLNonNull(admission), description: "Poll your place in a deal's waiting room.",
                        args: [
                            "dealId": GraphQLArgument(type: GraphQLNonNull(GraphQLID)),
                            "ticket": GraphQLArgument(type: GraphQLNonNull(GraphQLID)),
                        ],
                        resolve: { _, args, context, _ in try await resolveAdmission(try api.api, args, ctx(context)) }),
                    "waitingRoom": GraphQLField(
                        type: waitingRoom, args: ["dealId": GraphQLArgument(type: GraphQLNonNull(GraphQLID))],
                        resolve: { _, args, context, _ in
                            let deal = args["dealId"].string ?? ""
                            return try await api.api.draw(deal, ctx(context)).map { drawObject($0, deal: deal) }
                        }),
                ]))

        let mutation = try GraphQLObjectType(
            name: "Mutation",
            fields: withOperatorFields(
                operators.mutation,
                [
                    "joinWaitingRoom": GraphQLField(
                        type: GraphQLNonNull(admission),
                        description: "Take a place in a deal's waiting room (one per shopper).",
                        args: ["dealId": GraphQLArgument(type: GraphQLNonNull(GraphQLID))],
                        resolve: { _, args, context, _ in
                            try await resolveJoinWaitingRoom(try api.api, args, ctx(context))
                        }),
                    "createOrder": GraphQLField(
                        type: GraphQLNonNull(receipt),
                        description:
                            "Place an order with an admission pass. Answered once the order is durably queued.",
                        args: ["input": GraphQLArgument(type: GraphQLNonNull(createOrderInput))],
                        resolve: { _, args, context, _ in try await resolveCreateOrder(try api.api, args, ctx(context))
                        }),
                    "cancelOrder": GraphQLField(
                        type: GraphQLNonNull(order),
                        description:
                            "Ask to cancel one of your orders; its stock returns to sale once the worker releases it.",
                        args: ["orderId": GraphQLArgument(type: GraphQLNonNull(GraphQLID))],
                        resolve: { _, args, context, _ in
                            orderObject(try await api.api.cancelOrder(args["orderId"].string ?? "", ctx(context)))
                        }),
                ]))
        return try GraphQLSchema(query: query, mutation: mutation)
    }

    // MARK: Building blocks

    /// The shopper fields followed by the operator fields.
    static func withOperatorFields(_ extra: GraphQLFieldMap, _ fields: GraphQLFieldMap) -> GraphQLFieldMap {
        fields.merging(extra) { shopper, _ in shopper }
    }

    static func enumType(_ name: String, _ description: String, _ values: [(String, String)]) throws -> GraphQLEnumType
    {
        var map: GraphQLEnumValueMap = [:]
        for (value, text) in values { map[value] = GraphQLEnumValue(value: .string(value), description: text) }
        return try GraphQLEnumType(name: name, description: description, values: map)
    }

    struct APIHandle: Sendable {
        let wrapped: ShopperAPI?
        init(_ wrapped: ShopperAPI?) { self.wrapped = wrapped }
        var api: ShopperAPI {
            get throws {
                guard let wrapped else { throw APIError(.internalError, "schema built without an API") }
                return wrapped
            }
        }
    }

    static func ctx(_ context: any Sendable) throws -> CallContext {
        guard let context = context as? CallContext else { throw APIError(.internalError, "missing request context") }
        return context
    }

    static func dealObject(_ deal: Deal) -> Object {
        [
            "id": deal.id.rawValue, "dealRef": deal.id, "title": deal.title,
            "price": ["amountMinor": Int(deal.price.amountMinor), "currency": deal.price.currency.rawValue] as Object,
            "startsAt": deal.startsAt, "endsAt": deal.endsAt, "totalStock": deal.totalStock,
            "perCustomerLimit": deal.perCustomerLimit, "productId": deal.productId,
        ]
    }

    static func productObject(_ product: Product) -> Object {
        ["id": product.id.rawValue, "name": product.name, "description": product.description]
    }

    static func stockObject(_ state: DealState, _ api: ShopperAPI) -> Object {
        [
            "dealId": state.dealId.rawValue, "remaining": max(0, state.remaining), "total": state.totalStock,
            "soldOut": state.isSoldOut,
            "phase": state.phase(at: api.clock.now, preQueueWindow: api.settings.waitingRoom.preQueueWindow).rawValue,
        ]
    }

    static func drawObject(_ draw: DrawRecord, deal: String) -> Object {
        [
            "dealId": deal, "seedCommitment": draw.seedCommitment, "seed": draw.seed, "entrants": draw.entrants,
            "drawnAt": draw.drawnAt,
        ]
    }
}
