public import Domain
import Infrastructure

// The re-sender's bookkeeping in Redis (docs/worker.md, "Re-sending"), and what the oracle reads of
// what the gateway accepted.

/// Which of the re-sender's sets ``ReservationStore/due(_:deal:bound:limit:)`` looks at.
public enum DueKind: String, Sendable {
    /// Orders accepted by the gateway and not decided in time: their requests are sent again.
    case requests
    /// Orders decided and published whose outcome event was not read back in time: re-published.
    case events
}

/// What one ``ReservationStore/due(_:deal:bound:limit:)`` call claimed.
public struct DueOrders: Sendable {
    /// Each claimed order with its payload: the stored request (requests; empty when none is stored)
    /// or the packed reservation record (events).
    public var orders: [(OrderID, String)]
    /// Orders still in that set after the call (claimed ones included).
    public var waiting: Int
    /// The deal's end (epoch ms; 0 when Redis does not know the deal).
    public var endsAtMs: Int64
}

extension ReservationStore {
    /// Claims up to `limit` orders of `deal` that waited longer than `bound` to be decided
    /// (``DueKind/requests``) or to be read back from the log (``DueKind/events``); see
    /// ``ReservationFunctions``. Claimed orders are not handed out again within `bound`.
    public func due(_ kind: DueKind, deal: DealID, bound: Duration, limit: Int) async throws -> DueOrders {
        let value = try await redis.fcall(
            ReservationFunctions.due, keys: OrderKeys(deal).all,
            arguments: [kind.rawValue, String(bound.milliseconds), String(limit)])
        let reply = try FunctionReply(value, from: ReservationFunctions.due)
        guard let rows = value.arrayValue?.first?.arrayValue else { throw reply.invalid("no list of due orders") }
        var orders: [(OrderID, String)] = []
        for row in rows {
            guard let fields = row.arrayValue, fields.count == 2,
                let order = fields[0].stringValue.flatMap({ try? OrderID($0) }),
                let payload = fields[1].stringValue
            else { throw reply.invalid("unreadable due order \(row)") }
            orders.append((order, payload))
        }
        return DueOrders(orders: orders, waiting: try reply.int(1), endsAtMs: Int64(try reply.int(2)))
    }

    /// These orders' outcome events were read back from the log.
    public func seen(_ orders: [OrderID], deal: DealID) async throws {
        guard !orders.isEmpty else { return }
        try await redis.fcall(ReservationFunctions.seen, keys: OrderKeys(deal).all, arguments: orders.map(\.rawValue))
    }

    /// Order ids in a deal's undecided set (accepted, not yet decided), with when each was accepted
    /// or last sent again (epoch ms).
    public func undecided(in deal: DealID) async throws -> [String: Int64] {
        try await scores(OrderKeys(deal).undecided)
    }

    /// Order ids whose outcome is published but not yet read back from the log.
    public func unseen(in deal: DealID) async throws -> [String: Int64] {
        try await scores(OrderKeys(deal).unseen)
    }

    /// Every request the gateway accepted for a deal (order id → the OrderRequested as published).
    public func acceptedRequests(of deal: DealID) async throws -> [String: String] {
        try await hash(OrderKeys(deal).requests)
    }

    /// Every order a pass of the deal was bound to (pass id → `orderId|quantity`), by order id.
    public func boundOrders(of deal: DealID) async throws -> Set<String> {
        let bindings = try await hash(AdmissionKeys(deal).bindings)
        return Set(
            bindings.values.compactMap { binding in
                binding.lastIndex(of: "|").map { String(binding[..<$0]) }
            })
    }
}
