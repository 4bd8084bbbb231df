public import DealData
public import Domain
public import Foundation
public import Infrastructure

// What the worker's stages need from the world, as protocols. The live adapters (Redis, MongoDB,
// Kafka) conform below; in-memory twins in the test support library conform too and pass the same
// contract tests, so the stages are tested in-process without a server.

/// Stock reservations, atomic and idempotent by order id (``ReservationStore`` in Redis).
public protocol StockReservations: Sendable {
    func reserve(_ requests: [ReservationRequest], grace: Duration) async throws -> [ReservationReply]
    func release(order: OrderID, deal: DealID, user: UserID?, reason: StockReleaseReason) async throws -> ReleaseReply
    func markPublished(_ orders: [OrderID], deal: DealID) async throws
    func expire(deal: DealID, limit: Int, endGrace: Duration) async throws -> ExpirySweep
    func expiredDone(_ orders: [OrderID], deal: DealID) async throws
    /// Deals that may hold reservations due for payment (the set named `key`).
    func addExpiringDeals(_ deals: [DealID], key: String) async throws
    /// Every member of that set, as stored (a name that is not a deal id is the caller's to remove).
    func expiringDeals(key: String) async throws -> [String]
    func removeExpiringDeal(_ name: String, key: String) async throws
}

/// The system of record for orders (``OrderStore`` in MongoDB).
/// Rebuilds the stock after Redis started (docs/worker.md, "When Redis restarts").
public protocol StockRebuild: Sendable {
    /// Rebuilds every open deal's stock from MongoDB and lets reservations go on; with several workers
    /// one rebuilds and the others return at once (their reservations keep answering UNVERIFIED
    /// until it is done, and they call again).
    func rebuildAfterRestart() async throws
}

public protocol OrderRepository: Sendable {
    /// Inserts documents whose id is new; an existing id is left as it is.
    func insertNew(_ documents: [OrderDocument]) async throws -> InsertManyResult
    /// Writes the document whatever is stored (the recorded outcome wins).
    func put(_ document: OrderDocument) async throws
    /// CONFIRMED → CANCELLED; `false` when nothing changed (any other status, or no such order).
    func cancel(_ order: OrderID, reason: CancellationReason, at now: Date) async throws -> Bool
    func find(_ order: OrderID) async throws -> OrderDocument?
    func find(_ ids: [OrderID]) async throws -> [OrderID: OrderDocument]
}

/// Decided documents waiting for MongoDB (``Outbox`` in Redis).
public protocol OutcomeOutbox: Sendable {
    func add(_ documents: [OrderDocument]) async throws
    func documents(_ ids: [OrderID]) async throws -> [OrderDocument]
}

/// The catalog's answer to "does this deal exist" (``DealCatalog`` in MongoDB).
public protocol DealLookup: Sendable {
    func deal(_ id: DealID) async throws -> Deal?
}

/// The event log: returns once the message is acknowledged (``KafkaProducer``).
public protocol EventLog: Sendable {
    func append(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader]) async throws
}

// MARK: The live adapters

extension ReservationStore: StockReservations {}
extension OrderStore: OrderRepository {}
extension Outbox: OutcomeOutbox {}
extension DealCatalog: DealLookup {}

extension KafkaProducer: EventLog {
    public func append(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader]) async throws {
        _ = try await send(topic: topic, key: key, value: value, headers: headers)
    }
}
