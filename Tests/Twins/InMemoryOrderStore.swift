public import DealData
public import Domain
public import Foundation
public import Gateway
public import Infrastructure
public import OrderWorker
import Synchronization

/// The `orders` collection in memory, as ``OrderStore`` is for both processes: the worker's
/// repository and the gateway's lookup. `storeUnreadable` keeps a document that does not read (the
/// lookup throws, the repository's reads leave it out, as MongoDB's do); while `down`, every call
/// throws ``TwinUnavailable``.
public final class InMemoryOrderStore: OrderRepository, OrderLookup, Sendable {
    private struct State {
        var documents: [OrderID: OrderDocument] = [:]
        var unreadable: Set<OrderID> = []
        var down = false
    }
    private let state = Mutex(State())
    public init() {}

    public func setDown(_ down: Bool) { state.withLock { $0.down = down } }
    public var documents: [OrderID: OrderDocument] { state.withLock { $0.documents } }
    /// A document as the worker would have written it.
    public func store(_ document: OrderDocument) { state.withLock { $0.documents[document.orderId] = document } }
    public func storeUnreadable(_ id: OrderID) { _ = state.withLock { $0.unreadable.insert(id) } }

    private func locked<T>(_ body: (inout [OrderID: OrderDocument]) -> T) throws -> T {
        try state.withLock { state in
            if state.down { throw TwinUnavailable("the order store") }
            return body(&state.documents)
        }
    }

    // MARK: OrderLookup

    public func order(_ id: OrderID) async throws -> OrderDocument? {
        try state.withLock { state in
            if state.down { throw TwinUnavailable("the order store") }
            if state.unreadable.contains(id) {
                throw DealDataError("the stored document of order \(id) lacks a contract field or holds an invalid one")
            }
            return state.documents[id]
        }
    }

    // MARK: OrderRepository

    public func insertNew(_ documents: [OrderDocument]) async throws -> InsertManyResult {
        try locked { stored in
            var duplicates: [Int] = []
            for (index, document) in documents.enumerated() {
                if stored[document.orderId] != nil {
                    duplicates.append(index)
                } else {
                    stored[document.orderId] = document
                }
            }
            return InsertManyResult(insertedCount: documents.count - duplicates.count, duplicateKeyIndexes: duplicates)
        }
    }

    public func put(_ document: OrderDocument) async throws {
        try locked { stored in
            var copy = document
            copy.paidAt = copy.paidAt ?? stored[document.orderId]?.paidAt
            stored[document.orderId] = copy
        }
    }

    public func cancel(_ order: OrderID, reason: CancellationReason, at now: Date) async throws -> Bool {
        try locked { stored in
            guard var document = stored[order], document.status == .confirmed else { return false }
            document.status = .cancelled
            document.reason = reason.rawValue
            document.updatedAt = Timestamp.normalized(now)
            stored[order] = document
            return true
        }
    }

    public func find(_ order: OrderID) async throws -> OrderDocument? { try locked { $0[order] } }

    public func find(_ ids: [OrderID]) async throws -> [OrderID: OrderDocument] {
        try locked { stored in ids.reduce(into: [:]) { found, id in found[id] = stored[id] } }
    }
}
