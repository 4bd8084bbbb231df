public import Foundation
public import Infrastructure

/// One operator action as the audit keeps it: who, when, what, why, and what it changed.
public struct OperatorAuditEntry: Sendable, Equatable {
    /// `requested` when written, then `applied`, `refused` or `failed`. An entry left `requested`
    /// means the gateway stopped (or MongoDB failed) between the action and its outcome: check the
    /// deal's controls.
    public enum Outcome: String, Sendable {
        case requested, applied, refused, failed
    }

    public var id: String
    public var at: Date
    /// The operator token's subject.
    public var actor: String
    public var dealId: String
    public var action: String
    public var value: String?
    public var reason: String
    public var outcome: Outcome
    /// The refusal or failure, for outcomes other than `applied`.
    public var detail: String?
    /// The controls before and after (field → value as text), empty when unknown.
    public var before: [String: String]
    public var after: [String: String]
    /// The gateway instance that carried the action out.
    public var gateway: String

    public init(
        id: String, at: Date, actor: String, dealId: String, action: String, value: String?, reason: String,
        outcome: Outcome, detail: String? = nil, before: [String: String] = [:], after: [String: String] = [:],
        gateway: String
    ) {
        self.id = id
        self.at = at
        self.actor = actor
        self.dealId = dealId
        self.action = action
        self.value = value
        self.reason = reason
        self.outcome = outcome
        self.detail = detail
        self.before = before
        self.after = after
        self.gateway = gateway
    }
}

/// The operators' audit in MongoDB (collection `operator_audit`, majority writes): an entry is
/// written before its action is carried out and completed with the outcome after, so no action
/// happens without a durable record of who asked for it.
public final class OperatorAuditLog: Sendable {
    public static let collectionName = "operator_audit"

    private let collection: MongoCollection

    public init(mongo: MongoClient) {
        collection = mongo.collection(Self.collectionName)
    }

    public func prepare() async throws {
        try await collection.createIndex(keys: [("dealId", 1), ("at", -1)], name: "dealId_at")
    }

    public func record(_ entry: OperatorAuditEntry) async throws {
        _ = try await collection.insert(Self.document(entry))
    }

    /// Completes an entry with its outcome and the controls it saw.
    public func complete(
        _ id: String, outcome: OperatorAuditEntry.Outcome, detail: String?, before: [String: String],
        after: [String: String]
    ) async throws {
        var fields: BSONDocument = [
            "outcome": .string(outcome.rawValue), "before": .document(Self.document(before)),
            "after": .document(Self.document(after)),
        ]
        if let detail { fields["detail"] = .string(detail) }
        _ = try await collection.updateOne(id: .string(id), set: fields)
    }

    /// The latest entries, newest first; for one deal when `deal` is given.
    public func entries(deal: String?, limit: Int) async throws -> [OperatorAuditEntry] {
        let filter: BSONDocument = deal.map { ["dealId": .string($0)] } ?? [:]
        return try await collection.find(filter, sort: ["at": -1, "_id": -1], limit: max(1, min(limit, 1_000)))
            .compactMap(Self.entry(from:))
    }

    static func document(_ entry: OperatorAuditEntry) -> BSONDocument {
        var document: BSONDocument = [
            "_id": .string(entry.id), "at": .date(entry.at), "actor": .string(entry.actor),
            "dealId": .string(entry.dealId), "action": .string(entry.action), "reason": .string(entry.reason),
            "outcome": .string(entry.outcome.rawValue), "before": .document(document(entry.before)),
            "after": .document(document(entry.after)), "gateway": .string(entry.gateway),
        ]
        if let value = entry.value { document["value"] = .string(value) }
        if let detail = entry.detail { document["detail"] = .string(detail) }
        return document
    }

    static func document(_ fields: [String: String]) -> BSONDocument {
        var document: BSONDocument = [:]
        for key in fields.keys.sorted() { document.append(key, .string(fields[key]!)) }
        return document
    }

    static func entry(from document: BSONDocument) -> OperatorAuditEntry? {
        func text(_ key: String) -> String? {
            if case .string(let value)? = document[key] { return value }
            return nil
        }
        func fields(_ key: String) -> [String: String] {
            guard case .document(let inner)? = document[key] else { return [:] }
            var out: [String: String] = [:]
            for (name, value) in inner { if case .string(let text) = value { out[name] = text } }
            return out
        }
        guard let id = text("_id"), case .date(let at)? = document["at"], let actor = text("actor"),
            let deal = text("dealId"), let action = text("action"), let reason = text("reason"),
            let outcome = text("outcome").flatMap(OperatorAuditEntry.Outcome.init(rawValue:))
        else { return nil }
        return OperatorAuditEntry(
            id: id, at: at, actor: actor, dealId: deal, action: action, value: text("value"), reason: reason,
            outcome: outcome, detail: text("detail"), before: fields("before"), after: fields("after"),
            gateway: text("gateway") ?? "")
    }
}
