public import Domain
import Infrastructure

/// Payment windows: paying for a reservation, releasing those whose deadline passed, and the set of
/// deals that may have reservations due.
extension ReservationStore {
    /// Records an order's payment: it keeps its units for good. See ``PaymentResult``.
    public func pay(order: OrderID, deal: DealID, user: UserID?) async throws -> PaymentReply {
        let value = try await redis.fcall(
            ReservationFunctions.pay, keys: OrderKeys(deal).all,
            arguments: [order.rawValue, user?.rawValue ?? ""])
        return try Self.parsePayment(value)
    }

    static func parsePayment(_ value: RedisValue) throws -> PaymentReply {
        let reply = try FunctionReply(value, from: ReservationFunctions.pay)
        guard let result = PaymentResult(rawValue: try reply.string(0)) else { throw reply.invalid("unknown result") }
        let released = try reply.string(1)
        return PaymentReply(result: result, released: released.isEmpty ? nil : StockReleaseReason(rawValue: released))
    }

    /// Releases up to `limit` reservations of `deal` whose payment deadline passed, and returns
    /// every released one whose cancellation is not recorded yet (see ``ReservationFunctions``).
    public func expire(deal: DealID, limit: Int, endGrace: Duration) async throws -> ExpirySweep {
        let value = try await redis.fcall(
            ReservationFunctions.expire, keys: OrderKeys(deal).all,
            arguments: [String(limit), String(endGrace.milliseconds)])
        return try Self.parseExpiry(value, deal: deal)
    }

    static func parseExpiry(_ value: RedisValue, deal: DealID) throws -> ExpirySweep {
        let reply = try FunctionReply(value, from: ReservationFunctions.expire)
        guard let rows = value.arrayValue?.first?.arrayValue else { throw reply.invalid("no list of expired orders") }
        var expired: [ExpiredReservation] = []
        for row in rows {
            guard let fields = row.arrayValue, fields.count == 3, let order = fields[0].stringValue,
                let quantity = fields[1].integerValue, let user = fields[2].stringValue,
                let orderId = try? OrderID(order), let userId = try? UserID(user)
            else { throw reply.invalid("unreadable expired order \(row)") }
            expired.append(ExpiredReservation(orderId: orderId, dealId: deal, userId: userId, quantity: Int(quantity)))
        }
        return ExpirySweep(expired: expired, unpaid: try reply.int(1), finished: try reply.int(2) == 1)
    }

    /// The cancellations of these expired orders are recorded: they leave the expired set.
    public func expiredDone(_ orders: [OrderID], deal: DealID) async throws {
        guard !orders.isEmpty else { return }
        try await redis.fcall(
            ReservationFunctions.expiredDone, keys: OrderKeys(deal).all, arguments: orders.map(\.rawValue))
    }

    /// Payment deadlines of a deal's unpaid reservations (order id → epoch ms).
    public func unpaid(in deal: DealID) async throws -> [String: Int64] {
        try await scores(OrderKeys(deal).unpaid)
    }

    /// Adds deals to the set of deals that may hold reservations due for payment (named `key`).
    public func addExpiringDeals(_ deals: [DealID], key: String) async throws {
        guard !deals.isEmpty else { return }
        try await redis.send(["SADD", key] + deals.map(\.rawValue).sorted())
    }

    /// The set's members as stored (a name that is not a deal id is the caller's to remove).
    public func expiringDeals(key: String) async throws -> [String] {
        try await redis.send(["SMEMBERS", key]).arrayValue?.compactMap(\.stringValue) ?? []
    }

    public func removeExpiringDeal(_ name: String, key: String) async throws {
        try await redis.send(["SREM", key, name])
    }
}
