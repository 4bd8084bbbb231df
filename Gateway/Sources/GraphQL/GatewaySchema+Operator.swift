import Admission
import DealData
import Domain
import Foundation
import GraphQL
import OrderedCollections

/// The operators' part of the schema: a deal's controls, the audit, and `operateSale`. Every field
/// needs a token with the operator role (FORBIDDEN, HTTP 403, for a shopper's).
extension GatewaySchema {
    struct OperatorFields {
        let query: GraphQLFieldMap
        let mutation: GraphQLFieldMap
    }

    struct OperatorHandle: Sendable {
        let wrapped: OperatorAPI?
        var api: OperatorAPI {
            get throws {
                guard let wrapped else { throw APIError(.internalError, "schema built without the operator API") }
                return wrapped
            }
        }
    }

    static func operatorFields(_ operatorAPI: OperatorAPI?, dateTime: GraphQLScalarType) throws -> OperatorFields {
        let api = OperatorHandle(wrapped: operatorAPI)
        let action = try enumType(
            "SaleAction", "What an operator can do to a running sale (`value` where noted).",
            [
                ("PAUSE", "Stop admitting; every place is kept. Pending ADMIT grants still go in."),
                ("RESUME", "Admit again at the admission rate."),
                (
                    "SET_ADMISSION_RATE",
                    "`value`: shoppers per second (guardrailed), or `default` for the configured rate."
                ),
                ("ADMIT", "`value`: admit this many at the head of the line now, on top of pacing."),
                ("CLOSE_QUEUE", "No newcomers; shoppers in line keep their places."),
                ("MARK_SOLD_OUT", "Everyone hears sold out; accepted orders are still decided."),
                ("REOPEN", "Undo CLOSE_QUEUE or MARK_SOLD_OUT."),
                (
                    "MOVE_OPENING",
                    "`value`: the new opening (RFC 3339); the end moves as much. Only before the opening."
                ),
            ])
        let closure = try enumType(
            "SaleClosure", "How operators closed a room.",
            [("QUEUE", "No newcomers."), ("SOLD_OUT", "Marked sold out.")])
        let control = try GraphQLObjectType(
            name: "SaleControl", description: "What operators have set on a deal's sale.",
            fields: [
                "dealId": GraphQLField(type: GraphQLNonNull(GraphQLID)),
                "paused": GraphQLField(type: GraphQLNonNull(GraphQLBoolean)),
                "admissionRateOverride": GraphQLField(
                    type: GraphQLFloat,
                    description: "Shoppers per second set by an operator; null: the configured rate."),
                "pendingAdmissions": GraphQLField(
                    type: GraphQLNonNull(GraphQLInt), description: "ADMIT grants not made yet."),
                "closure": GraphQLField(type: closure),
                "startsAt": GraphQLField(type: GraphQLNonNull(dateTime)),
                "endsAt": GraphQLField(type: GraphQLNonNull(dateTime)),
                "opened": GraphQLField(
                    type: GraphQLNonNull(GraphQLBoolean), description: "The draw has run: the opening cannot move."),
            ])
        let change = try GraphQLObjectType(
            name: "SaleControlChange", description: "An action's effect: before → after.",
            fields: [
                "before": GraphQLField(type: GraphQLNonNull(control)),
                "after": GraphQLField(type: GraphQLNonNull(control)),
                "applied": GraphQLField(type: GraphQLNonNull(GraphQLBoolean), description: "False for a dry run."),
                "auditId": GraphQLField(type: GraphQLID, description: "The audit entry (null for a dry run)."),
            ])
        let field = try GraphQLObjectType(
            name: "AuditField",
            fields: [
                "name": GraphQLField(type: GraphQLNonNull(GraphQLString)),
                "value": GraphQLField(type: GraphQLNonNull(GraphQLString)),
            ])
        let entry = try GraphQLObjectType(
            name: "OperatorAuditEntry", description: "One operator action: who, when, what, why, and its effect.",
            fields: [
                "id": GraphQLField(type: GraphQLNonNull(GraphQLID)),
                "at": GraphQLField(type: GraphQLNonNull(dateTime)),
                "actor": GraphQLField(
                    type: GraphQLNonNull(GraphQLString), description: "The operator token's subject."),
                "dealId": GraphQLField(type: GraphQLNonNull(GraphQLID)),
                "action": GraphQLField(type: GraphQLNonNull(GraphQLString)),
                "value": GraphQLField(type: GraphQLString),
                "reason": GraphQLField(type: GraphQLNonNull(GraphQLString)),
                "outcome": GraphQLField(
                    type: GraphQLNonNull(GraphQLString),
                    description: "`applied`, `refused`, `failed`, or `requested` (outcome unknown: check the controls)."
                ),
                "detail": GraphQLField(type: GraphQLString),
                "before": GraphQLField(type: GraphQLNonNull(GraphQLList(GraphQLNonNull(field)))),
                "after": GraphQLField(type: GraphQLNonNull(GraphQLList(GraphQLNonNull(field)))),
                "gateway": GraphQLField(type: GraphQLNonNull(GraphQLString)),
            ])
        let input = try GraphQLInputObjectType(
            name: "OperateSaleInput",
            fields: [
                "dealId": InputObjectField(type: GraphQLNonNull(GraphQLID)),
                "action": InputObjectField(type: GraphQLNonNull(action)),
                "value": InputObjectField(type: GraphQLString),
                "reason": InputObjectField(
                    type: GraphQLNonNull(GraphQLString), description: "Why (1 to 500 characters); kept in the audit."),
                // Nullable: the GraphQL library does not fill an omitted non-null field's default
                // inside an input object given as a variable.
                "dryRun": InputObjectField(
                    type: GraphQLBoolean, defaultValue: .bool(false),
                    description: "Only show before → after; nothing is written."),
            ])
        let query: GraphQLFieldMap = [
            "saleControl": GraphQLField(
                type: GraphQLNonNull(control), description: "Operators only: a deal's controls.",
                args: ["dealId": GraphQLArgument(type: GraphQLNonNull(GraphQLID))],
                resolve: { _, args, context, _ in
                    let deal = args["dealId"].string ?? ""
                    return controlObject(try await api.api.saleControl(deal: deal, ctx(context)), deal: deal)
                }),
            "operatorAudit": GraphQLField(
                type: GraphQLNonNull(GraphQLList(GraphQLNonNull(entry))),
                description: "Operators only: the latest actions, newest first.",
                args: [
                    "dealId": GraphQLArgument(type: GraphQLID),
                    "first": GraphQLArgument(type: GraphQLInt, defaultValue: .number(50)),
                ],
                resolve: { _, args, context, _ in
                    try await api.api.auditEntries(
                        deal: args["dealId"].string, limit: args["first"].int ?? 50, ctx(context)
                    )
                    .map(auditObject)
                }),
        ]
        let mutation: GraphQLFieldMap = [
            "operateSale": GraphQLField(
                type: GraphQLNonNull(change),
                description: "Operators only: preview (dryRun) or carry out an action on a deal's sale; audited.",
                args: ["input": GraphQLArgument(type: GraphQLNonNull(input))],
                resolve: { _, args, context, _ in
                    let input = args["input"]
                    let deal = input["dealId"].string ?? ""
                    let outcome = try await api.api.operate(
                        deal: deal, action: input["action"].string ?? "", value: input["value"].string,
                        reason: input["reason"].string ?? "", dryRun: input["dryRun"].bool ?? false, ctx(context))
                    return [
                        "before": controlObject(outcome.change.before, deal: deal),
                        "after": controlObject(outcome.change.after, deal: deal), "applied": outcome.applied,
                        "auditId": outcome.auditId,
                    ] as Object
                })
        ]
        return OperatorFields(query: query, mutation: mutation)
    }

    static func controlObject(_ control: SaleControl, deal: String) -> Object {
        [
            "dealId": deal, "paused": control.paused, "admissionRateOverride": control.admissionRateOverride,
            "pendingAdmissions": control.pendingAdmissions,
            "closure": control.closure.map { $0 == .queue ? "QUEUE" : "SOLD_OUT" }, "startsAt": control.startsAt,
            "endsAt": control.endsAt, "opened": control.opened,
        ]
    }

    static func auditObject(_ entry: OperatorAuditEntry) -> Object {
        func pairs(_ fields: [String: String]) -> [Object] {
            fields.keys.sorted().map { ["name": $0, "value": fields[$0]!] as Object }
        }
        return [
            "id": entry.id, "at": entry.at, "actor": entry.actor, "dealId": entry.dealId, "action": entry.action,
            "value": entry.value, "reason": entry.reason, "outcome": entry.outcome.rawValue, "detail": entry.detail,
            "before": pairs(entry.before), "after": pairs(entry.after), "gateway": entry.gateway,
        ]
    }
}
