public import Domain
public import Foundation
public import Infrastructure

/// An order as the worker writes it to MongoDB's `orders` collection (field names are a contract:
/// ARCHITECTURE §4.3): `_id` (order id), `dealId`, `userId`, `quantity`, `status`, `reason`,
/// `createdAt` (when the gateway accepted it), `updatedAt`, plus `idempotencyKey`, `decidedAt` (when its
/// outcome was decided: the `occurredAt` of its outcome events, never changed afterwards), and `paidAt`
/// once a payment is recorded for an order of a deal with a payment window.
public struct OrderDocument: Sendable, Hashable {
    public var orderId: OrderID
    public var dealId: DealID
    public var userId: UserID
    public var quantity: Int
    public var idempotencyKey: IdempotencyKey
    public var status: OrderStatus
    public var reason: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// When the outcome was decided (documents written before the field existed read `updatedAt`).
    public var decidedAt: Date
    public var paidAt: Date?

    public init(
        orderId: OrderID, dealId: DealID, userId: UserID, quantity: Int, idempotencyKey: IdempotencyKey,
        status: OrderStatus, reason: String?, createdAt: Date, updatedAt: Date, decidedAt: Date? = nil
    ) {
        self.orderId = orderId
        self.dealId = dealId
        self.userId = userId
        self.quantity = quantity
        self.idempotencyKey = idempotencyKey
        self.status = status
        self.reason = reason
        self.createdAt = Timestamp.normalized(createdAt)
        self.updatedAt = Timestamp.normalized(updatedAt)
        self.decidedAt = Timestamp.normalized(decidedAt ?? updatedAt)
    }

    /// The document for an order in its current state.
    public init(_ order: Order) {
        let reason: String? =
            switch order.state {
            case .pending, .confirmed: nil
            case .rejected(let r): r.rawValue
            case .failed(let r): r
            case .cancelled(let r): r.rawValue
            }
        self.init(
            orderId: order.id, dealId: order.dealId, userId: order.userId, quantity: order.quantity,
            idempotencyKey: order.idempotencyKey, status: order.status, reason: reason,
            createdAt: order.requestedAt, updatedAt: order.updatedAt)
    }

    public var bson: BSONDocument {
        var d: BSONDocument = [
            "_id": .string(orderId.rawValue), "dealId": .string(dealId.rawValue), "userId": .string(userId.rawValue),
            "quantity": .int64(Int64(quantity)), "idempotencyKey": .string(idempotencyKey.rawValue),
            "status": .string(status.rawValue), "createdAt": .date(createdAt), "updatedAt": .date(updatedAt),
            "decidedAt": .date(decidedAt),
        ]
        if let reason { d["reason"] = .string(reason) }
        return d
    }

    /// Reads a stored document back; nil when a contract field is missing or invalid.
    public init?(bson d: BSONDocument) {
        guard let id = d["_id"]?.stringValue.flatMap({ try? OrderID($0) }),
            let deal = d["dealId"]?.stringValue.flatMap({ try? DealID($0) }),
            let user = d["userId"]?.stringValue.flatMap({ try? UserID($0) }),
            let quantity = d["quantity"]?.intValue,
            let key = d["idempotencyKey"]?.stringValue.flatMap({ try? IdempotencyKey($0) }),
            let status = d["status"]?.stringValue.flatMap(OrderStatus.init(rawValue:)),
            let created = d["createdAt"].flatMap(DealCatalog.instant),
            let updated = d["updatedAt"].flatMap(DealCatalog.instant)
        else { return nil }
        self.init(
            orderId: id, dealId: deal, userId: user, quantity: quantity, idempotencyKey: key, status: status,
            reason: d["reason"]?.stringValue, createdAt: created, updatedAt: updated,
            decidedAt: d["decidedAt"].flatMap(DealCatalog.instant))
        self.paidAt = d["paidAt"].flatMap(DealCatalog.instant)
    }

    /// This document again as a JSON object (the outbox's storage form).
    public var json: String {
        var fields: [String: String] = [
            "orderId": orderId.rawValue, "dealId": dealId.rawValue, "userId": userId.rawValue,
            "quantity": String(quantity), "idempotencyKey": idempotencyKey.rawValue, "status": status.rawValue,
            "createdAt": Timestamp.format(createdAt), "updatedAt": Timestamp.format(updatedAt),
            "decidedAt": Timestamp.format(decidedAt),
        ]
        if let reason { fields["reason"] = reason }
        let data = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    public init?(json: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String],
            let id = object["orderId"].flatMap({ try? OrderID($0) }),
            let deal = object["dealId"].flatMap({ try? DealID($0) }),
            let user = object["userId"].flatMap({ try? UserID($0) }),
            let quantity = object["quantity"].flatMap({ Int($0) }),
            let key = object["idempotencyKey"].flatMap({ try? IdempotencyKey($0) }),
            let status = object["status"].flatMap(OrderStatus.init(rawValue:)),
            let created = object["createdAt"].flatMap(Timestamp.parse),
            let updated = object["updatedAt"].flatMap(Timestamp.parse)
        else { return nil }
        self.init(
            orderId: id, dealId: deal, userId: user, quantity: quantity, idempotencyKey: key, status: status,
            reason: object["reason"], createdAt: created, updatedAt: updated,
            decidedAt: object["decidedAt"].flatMap(Timestamp.parse))
    }

    /// The events that announce this document's outcome, exactly as first published: built from the
    /// stored decision alone (its `decidedAt` is their `occurredAt`), so a re-publication is identical
    /// byte for byte. CONFIRMED (and later CANCELLED): OrderConfirmed; REJECTED: OrderRejected; FAILED:
    /// OrderFailed, then StockReleased(FAILED) when stock had been reserved. PENDING: none.
    public func outcomeEvents(stockWasReserved: Bool) -> [DomainEvent] {
        // Rehydrating from the document's own fields cannot fail: the id was checked on arrival.
        guard
            var order = try? Order(
                id: orderId, dealId: dealId, userId: userId, quantity: quantity,
                idempotencyKey: idempotencyKey, requestedAt: createdAt, state: .pending,
                updatedAt: createdAt, version: 1)
        else { return [] }
        let at = decidedAt
        switch status {
        case .pending: return []
        case .confirmed, .cancelled: return (try? order.confirm(at: at)) ?? []
        case .rejected:
            let reason = reason.flatMap(RejectionReason.init(rawValue:)) ?? .dealClosed
            return (try? order.reject(reason, at: at)) ?? []
        case .failed:
            return (try? order.fail(reason: reason ?? "", stockWasReserved: stockWasReserved, at: at)) ?? []
        }
    }
}

/// The `orders` collection: the system of record for orders.
public struct OrderStore: Sendable {
    public static let collectionName = "orders"
    public let orders: MongoCollection
    /// Told about every write once it is answered: the operation (`insert_orders`, `put_order`,
    /// `cancel_order`, `mark_paid`), how long it took and whether it succeeded (for metrics).
    private let onWrite: (@Sendable (_ operation: String, _ duration: Duration, _ ok: Bool) -> Void)?

    public init(
        mongo: MongoClient,
        onWrite: (@Sendable (_ operation: String, _ duration: Duration, _ ok: Bool) -> Void)? = nil
    ) {
        self.orders = mongo.collection(Self.collectionName)
        self.onWrite = onWrite
    }

    /// Runs one write and reports it to `onWrite`.
    private func timed<T>(_ operation: String, _ write: () async throws(MongoError) -> T) async throws(MongoError) -> T
    {
        guard let onWrite else { return try await write() }
        let started = ContinuousClock.now
        do {
            let value = try await write()
            onWrite(operation, ContinuousClock.now - started, true)
            return value
        } catch {
            onWrite(operation, ContinuousClock.now - started, false)
            throw error
        }
    }

    /// The contract's indexes: `dealId + status` and `userId + dealId`. Creating them again is a no-op.
    public func prepare() async throws {
        try await orders.createIndex(keys: [("dealId", 1), ("status", 1)], name: "dealId_status")
        try await orders.createIndex(keys: [("userId", 1), ("dealId", 1)], name: "userId_dealId")
    }

    /// Inserts new orders in one unordered round trip; orders already stored (duplicate `_id`) count as
    /// done. Throws on anything else; retrying the same documents is always safe.
    public func insertNew(_ documents: [OrderDocument]) async throws(MongoError) -> InsertManyResult {
        try await timed("insert_orders") { () async throws(MongoError) in
            try await orders.insertMany(documents.map(\.bson), ordered: false)
        }
    }

    /// Writes a document whole (insert or replace every field): the outbox's write, where the
    /// recorded outcome must win over whatever an ambiguous earlier write left.
    public func put(_ document: OrderDocument) async throws(MongoError) {
        var fields = document.bson
        fields["_id"] = nil
        try await timed("put_order") { () async throws(MongoError) in
            if document.reason == nil {
                _ = try await orders.updateOne(
                    filter: ["_id": .string(document.orderId.rawValue)],
                    update: ["$set": .document(fields), "$unset": ["reason": ""]], upsert: true)
            } else {
                _ = try await orders.updateOne(id: .string(document.orderId.rawValue), set: fields, upsert: true)
            }
        }
    }

    /// Moves a confirmed order to CANCELLED (no-op for any other status). Returns whether it changed.
    @discardableResult
    public func cancel(_ order: OrderID, reason: CancellationReason, at now: Date) async throws(MongoError) -> Bool {
        let result = try await timed("cancel_order") { () async throws(MongoError) in
            try await orders.updateOne(
                filter: ["_id": .string(order.rawValue), "status": .string(OrderStatus.confirmed.rawValue)],
                update: [
                    "$set": [
                        "status": .string(OrderStatus.cancelled.rawValue), "reason": .string(reason.rawValue),
                        "updatedAt": .date(Timestamp.normalized(now)),
                    ]
                ])
        }
        return result.modified > 0
    }

    /// Records the payment of a confirmed order (`paidAt`). Returns whether a CONFIRMED order matched.
    @discardableResult
    public func markPaid(_ order: OrderID, at now: Date) async throws(MongoError) -> Bool {
        let result = try await timed("mark_paid") { () async throws(MongoError) in
            try await orders.updateOne(
                filter: ["_id": .string(order.rawValue), "status": .string(OrderStatus.confirmed.rawValue)],
                update: ["$set": ["paidAt": .date(Timestamp.normalized(now))]])
        }
        return result.matched > 0
    }

    /// The stored document of `id`, `nil` when there is none.
    /// - Throws: ``DealDataError`` when a document is stored but a contract field is missing or invalid.
    public func order(_ id: OrderID) async throws -> OrderDocument? {
        guard let raw = try await orders.findOne(id: .string(id.rawValue)) else { return nil }
        guard let document = OrderDocument(bson: raw) else {
            throw DealDataError("the stored document of order \(id) lacks a contract field or holds an invalid one")
        }
        return document
    }

    public func find(_ order: OrderID) async throws(MongoError) -> OrderDocument? {
        try await orders.findOne(id: .string(order.rawValue)).flatMap(OrderDocument.init(bson:))
    }

    /// The stored documents of these orders (one query; absent or unreadable ones are left out).
    public func find(_ ids: [OrderID]) async throws(MongoError) -> [OrderID: OrderDocument] {
        guard !ids.isEmpty else { return [:] }
        let raw = try await orders.findAll(["_id": ["$in": .array(ids.map { .string($0.rawValue) })]])
        var found: [OrderID: OrderDocument] = [:]
        for document in raw {
            if let d = OrderDocument(bson: document) { found[d.orderId] = d }
        }
        return found
    }

    /// Every order of a deal (raw documents, for the oracle).
    public func documents(of deal: DealID) async throws(MongoError) -> [BSONDocument] {
        try await orders.findAll(["dealId": .string(deal.rawValue)])
    }
}
