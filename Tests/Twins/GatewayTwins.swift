public import Admission
public import DealData
public import Domain
public import Foundation
public import Gateway
public import RateLimiting
import Synchronization

// In-memory implementations of the gateway's ports (see `Gateway/Sources/Ports/ShopperPorts.swift`).
// Each keeps its state behind a lock and can be told to fail, so the API's answers to a dependency
// that is down are tested as well as the happy path.

/// A dependency failure as the twins raise it (what a live adapter's retryable error stands for).
public struct TwinUnavailable: Error, CustomStringConvertible {
    public let what: String
    public init(_ what: String) { self.what = what }
    public var description: String { "\(what) is down (in-memory twin told to fail)" }
}

/// A clock the test moves.
public final class ManualClock: WallClock, Sendable {
    private let current: Mutex<Date>
    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = Mutex(start) }
    public var now: Date { current.withLock { $0 } }
    public func advance(_ duration: Duration) { current.withLock { $0 = $0.addingTimeInterval(duration.seconds) } }
    public func set(_ date: Date) { current.withLock { $0 = date } }
}

/// Rate decisions the test chooses per operation (allowed unless told otherwise); records every request.
public final class ScriptedRateDecider: RateDeciding, Sendable {
    private let state = Mutex<(decisions: [String: RateLimitDecision], requests: [RateLimitRequest])>(([:], []))
    public init() {}

    public func decide(_ request: RateLimitRequest) async -> RateLimitDecision {
        state.withLock { state in
            state.requests.append(request)
            return state.decisions[request.operation] ?? .noPolicy
        }
    }

    /// Every later request for `operation` gets `outcome` from policy `policy`.
    public func answer(
        _ operation: String, _ outcome: RateLimitDecision.Outcome, policy: String = "test-policy",
        retryAfter: Duration? = .seconds(2)
    ) {
        let result: RateLimitDecision.Verdict.Result =
            switch outcome {
            case .allowed: .allowed
            case .limited: .limited
            case .queued: .queued
            case .unavailable: .failedClosed
            }
        let verdict = RateLimitDecision.Verdict(
            policy: policy, result: result, capacity: 10, refillPerSecond: 1,
            remaining: 0, retryAfter: retryAfter, fromCache: false)
        state.withLock {
            $0.decisions[operation] = RateLimitDecision(
                outcome: outcome, verdicts: [verdict],
                retryAfter: retryAfter)
        }
    }

    public var operations: [String] { state.withLock { $0.requests.map(\.operation) } }
}

/// The catalog and every deal's hot state, in memory.
public final class InMemoryDeals: DealStateSource, CatalogSource, Sendable {
    private struct State {
        var deals: [DealID: Deal] = [:]
        var products: [ProductID: Product] = [:]
        var states: [DealID: DealState] = [:]
        var down = false
    }
    private let state = Mutex(State())
    public init() {}

    /// Adds the deal to the catalog and seeds its state with the whole stock.
    public func add(_ deal: Deal, product: Product? = nil) {
        state.withLock { state in
            state.deals[deal.id] = deal
            if let product { state.products[product.id] = product }
            state.states[deal.id] = DealState(
                dealId: deal.id, startsAt: deal.startsAt, endsAt: deal.endsAt,
                totalStock: deal.totalStock, remaining: deal.totalStock,
                perCustomerLimit: deal.perCustomerLimit, soldOutFlag: false)
        }
    }

    public func setRemaining(_ deal: DealID, _ remaining: Int) {
        state.withLock { $0.states[deal]?.remaining = remaining }
    }

    /// While `down`, every read throws ``TwinUnavailable``.
    public func setDown(_ down: Bool) { state.withLock { $0.down = down } }

    private func read<T>(_ body: (State) -> T) throws -> T {
        try state.withLock { state in
            if state.down { throw TwinUnavailable("the deal store") }
            return body(state)
        }
    }

    public func state(of deal: DealID) async throws -> DealState? { try read { $0.states[deal] } }
    public func deals(limit: Int) async throws -> [Deal] {
        try read { Array($0.deals.values.sorted { $0.startsAt < $1.startsAt }.prefix(limit)) }
    }
    public func deal(_ id: DealID) async throws -> Deal? { try read { $0.deals[id] } }
    public func product(_ id: ProductID) async throws -> Product? { try read { $0.products[id] } }

    /// The catalog's write (operators moving an opening); the deal's state keeps its stock.
    public func upsert(_ deal: Deal) async throws {
        try state.withLock { state in
            if state.down { throw TwinUnavailable("the deal store") }
            state.deals[deal.id] = deal
            state.states[deal.id]?.startsAt = deal.startsAt
            state.states[deal.id]?.endsAt = deal.endsAt
        }
    }
}

extension InMemoryDeals: CatalogWriting {}

/// The operators' audit in memory; can be told to fail.
public final class InMemoryOperatorAudit: OperatorAuditing, Sendable {
    private let state = Mutex<(entries: [OperatorAuditEntry], down: Bool)>(([], false))
    public init() {}

    public func setDown(_ down: Bool) { state.withLock { $0.down = down } }
    public var all: [OperatorAuditEntry] { state.withLock { $0.entries } }

    public func record(_ entry: OperatorAuditEntry) async throws {
        try state.withLock { state in
            if state.down { throw TwinUnavailable("the audit") }
            state.entries.append(entry)
        }
    }

    public func complete(
        _ id: String, outcome: OperatorAuditEntry.Outcome, detail: String?, before: [String: String],
        after: [String: String]
    ) async throws {
        try state.withLock { state in
            if state.down { throw TwinUnavailable("the audit") }
            guard let index = state.entries.firstIndex(where: { $0.id == id }) else { return }
            state.entries[index].outcome = outcome
            state.entries[index].detail = detail
            state.entries[index].before = before
            state.entries[index].after = after
        }
    }

    public func entries(deal: String?, limit: Int) async throws -> [OperatorAuditEntry] {
        try state.withLock { state in
            if state.down { throw TwinUnavailable("the audit") }
            return Array(state.entries.filter { deal == nil || $0.dealId == deal }.reversed().prefix(limit))
        }
    }
}

/// The order-request log, in memory: every accepted request in order; can refuse or shed.
public final class RecordingOrderSink: OrderRequestSink, Sendable {
    public struct Sent: Sendable {
        public var event: DomainEvent
        public var bytes: [UInt8]
        public var traceparent: String?
    }
    private let state = Mutex<(sent: [Sent], overload: OrderRequestRefusal?, failure: OrderRequestRefusal?)>(
        ([], nil, nil))
    public init() {}

    public func overloaded() -> OrderRequestRefusal? { state.withLock { $0.overload } }

    public func publish(_ event: DomainEvent, encoded: [UInt8]?, traceparent: String?) async throws(OrderRequestRefusal)
    {
        let failure: OrderRequestRefusal? = state.withLock { state in
            if let refusal = state.overload ?? state.failure { return refusal }
            state.sent.append(Sent(event: event, bytes: encoded ?? [UInt8](event.jsonData()), traceparent: traceparent))
            return nil
        }
        if let failure { throw failure }
    }

    /// While set, `overloaded()` answers it and every publish throws it.
    public func setOverloaded(_ refusal: OrderRequestRefusal?) { state.withLock { $0.overload = refusal } }
    /// While set, every publish throws it (the pre-check still passes).
    public func setFailure(_ refusal: OrderRequestRefusal?) { state.withLock { $0.failure = refusal } }
    public var sent: [Sent] { state.withLock { $0.sent } }
}

/// Deals with accepted orders, in memory.
public final class InMemoryAcceptedDeals: AcceptedDealsRegistry, Sendable {
    private let deals = Mutex<Set<DealID>>([])
    public init() {}
    public func register(_ deal: DealID) async { _ = deals.withLock { $0.insert(deal) } }
    public var members: Set<DealID> { deals.withLock { $0 } }
}
