public import Admission
public import DealData
public import Domain
public import Foundation

/// A deal's operator controls (``SaleControlStore`` in Redis).
public protocol SaleControlling: Sendable {
    /// `nil` for a deal the hot store does not know.
    func control(of deal: DealID) async throws -> SaleControl?
    /// Applies the action atomically; throws ``SaleControlRefusal`` when refused (nothing changed).
    func apply(_ action: OperatorAction, to deal: DealID, now: Date, guardrails: OperatorGuardrails) async throws
        -> SaleControlChange
}

/// The durable record of operator actions (``OperatorAuditLog`` in MongoDB).
public protocol OperatorAuditing: Sendable {
    func record(_ entry: OperatorAuditEntry) async throws
    func complete(
        _ id: String, outcome: OperatorAuditEntry.Outcome, detail: String?, before: [String: String],
        after: [String: String]) async throws
    func entries(deal: String?, limit: Int) async throws -> [OperatorAuditEntry]
}

/// A room's counters (``DealStateStore/counters(of:)``, one Redis round trip).
public protocol RoomCounting: Sendable {
    func counters(of deal: DealID) async throws -> WaitingRoomCounters
}

/// Writes to the catalog, the system of record of a deal's window (``DealCatalog``).
public protocol CatalogWriting: Sendable {
    func deal(_ id: DealID) async throws -> Deal?
    func upsert(_ deal: Deal) async throws
}

extension SaleControlStore: SaleControlling {}
extension OperatorAuditLog: OperatorAuditing {}
extension DealCatalog: CatalogWriting {}
extension DealStateStore: RoomCounting {}

/// Everything ``OperatorAPI`` works with, live or in memory.
public struct OperatorPorts: Sendable {
    public var control: any SaleControlling
    public var audit: any OperatorAuditing
    public var catalog: any CatalogWriting
    /// This gateway's name in the audit (the pod's name on Kubernetes).
    public var instance: String

    public init(
        control: any SaleControlling, audit: any OperatorAuditing, catalog: any CatalogWriting, instance: String
    ) {
        self.control = control
        self.audit = audit
        self.catalog = catalog
        self.instance = instance
    }
}
