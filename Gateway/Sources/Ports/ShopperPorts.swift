public import Admission
public import DealData
public import Domain
import Foundation
public import RateLimiting

// What ``ShopperAPI`` needs from the world, as protocols. The live adapters (Redis, Kafka, MongoDB)
// conform below; in-memory twins in the test support library conform too and pass the same
// contract tests, so the API's logic is tested in-process without a server.

/// The rate policies' decision for one request (``RateLimiter`` over Redis).
public protocol RateDeciding: Sendable {
    func decide(_ request: RateLimitRequest) async -> RateLimitDecision
}

/// A deal's hot state: window, stock, sold-out flag (``DealStateCache``, a local copy of Redis).
public protocol DealStateSource: Sendable {
    /// `nil` for a deal that has no state. Throws when the state cannot be read now.
    func state(of deal: DealID) async throws -> DealState?
}

/// The catalog's reads (``DealCatalog`` in MongoDB).
public protocol CatalogSource: Sendable {
    func deals(limit: Int) async throws -> [Deal]
    func deal(_ id: DealID) async throws -> Deal?
    func product(_ id: ProductID) async throws -> Product?
}

/// The waiting room as the shopper meets it (``WaitingRoom`` in Redis): one place per shopper,
/// statuses, single-use passes bound to one order, the pre-queue draw's public record.
public protocol AdmissionGate: Sendable {
    func join(deal: DealID, user: UserID) async throws -> JoinOutcome
    func status(ticket: TicketID, deal: DealID, user: UserID) async throws -> AdmissionStatus
    /// Binds `pass` to `order` atomically, keeping `request` (the OrderRequested bytes) beside it.
    func consume(pass: AdmissionPass, order: OrderID, quantity: Int, request: [UInt8], budget: Duration?)
        async throws -> PassConsumption
    func draw(deal: DealID) async throws -> DrawRecord?
}

/// Told which deals shoppers are waiting for, so their rooms are paced (``WaitingRoomPacer``).
public protocol AdmissionPacing: Sendable {
    func track(_ deal: DealID)
}

/// Where accepted order requests and cancellation requests go (``OrderRequestPublisher``, Kafka).
public protocol OrderRequestSink: Sendable {
    /// Whether a new order would be refused now (checked before a pass is bound).
    func overloaded() -> OrderRequestRefusal?
    /// Returns once the request is durably accepted; `encoded` is the exact bytes to send when given.
    func publish(_ event: DomainEvent, encoded: [UInt8]?, traceparent: String?) async throws(OrderRequestRefusal)
}

extension OrderRequestSink {
    public func publish(_ event: DomainEvent, traceparent: String?) async throws(OrderRequestRefusal) {
        try await publish(event, encoded: nil, traceparent: traceparent)
    }
}

/// Requests kept (pass bound, request stored) that the broker did not acknowledge: sent again until it
/// does (``KeptRequestRedelivery``).
public protocol KeptOrderRequests: Sendable {
    func keep(_ event: DomainEvent, encoded: [UInt8], traceparent: String?)
    /// The broker acknowledged `order`'s request (a shopper's retry sent it): nothing left to send.
    func acknowledged(_ order: OrderID)
}

/// Remembers which deals have accepted orders (``AcceptingDeals``), for the worker's re-sender.
public protocol AcceptedDealsRegistry: Sendable {
    func register(_ deal: DealID) async
}

/// The order documents the worker records (``OrderStore`` in MongoDB).
public protocol OrderLookup: Sendable {
    /// `nil` when the order has no document; throws when it cannot be read.
    func order(_ id: OrderID) async throws -> OrderDocument?
}

// MARK: The live adapters

extension RateLimiter: RateDeciding {}
extension DealStateCache: DealStateSource {}
extension DealCatalog: CatalogSource {}
extension WaitingRoom: AdmissionGate {}
extension WaitingRoomPacer: AdmissionPacing {}
extension OrderRequestPublisher: OrderRequestSink {}
extension AcceptingDeals: AcceptedDealsRegistry {}
extension OrderStore: OrderLookup {}

/// Everything ``ShopperAPI`` works with, live or in memory.
public struct ShopperPorts: Sendable {
    public var limiter: any RateDeciding
    public var deals: any DealStateSource
    public var catalog: any CatalogSource
    public var room: any AdmissionGate
    public var pacer: any AdmissionPacing
    public var publisher: any OrderRequestSink
    public var kept: any KeptOrderRequests
    public var acceptingDeals: any AcceptedDealsRegistry
    public var orders: any OrderLookup
    public var clock: any WallClock

    public init(
        limiter: any RateDeciding, deals: any DealStateSource, catalog: any CatalogSource,
        room: any AdmissionGate, pacer: any AdmissionPacing, publisher: any OrderRequestSink,
        kept: any KeptOrderRequests, acceptingDeals: any AcceptedDealsRegistry, orders: any OrderLookup,
        clock: any WallClock = SystemClock()
    ) {
        self.limiter = limiter
        self.deals = deals
        self.catalog = catalog
        self.room = room
        self.pacer = pacer
        self.publisher = publisher
        self.kept = kept
        self.acceptingDeals = acceptingDeals
        self.orders = orders
        self.clock = clock
    }
}
