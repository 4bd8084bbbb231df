public import Domain
import Foundation
public import Infrastructure

/// Orders whose outcome is decided but could not reach MongoDB (it stayed down past the retry
/// budget): kept in Redis (hash `flashdeal:orders:outbox`, order id → the document as JSON) and
/// written to MongoDB by ``OutboxWriter`` once it answers again. The recorded outcome always wins
/// over what an ambiguous earlier write may have left.
public struct Outbox: Sendable {
    public static let key = "flashdeal:orders:outbox"
    public let redis: RedisClient

    public init(redis: RedisClient) {
        self.redis = redis
    }

    public func add(_ documents: [OrderDocument]) async throws {
        guard !documents.isEmpty else { return }
        var command = ["HSET", Self.key]
        for d in documents { command += [d.orderId.rawValue, d.json] }
        try await redis.send(command)
    }

    /// Up to `limit` pending documents; entries that do not parse are returned by id apart.
    public func pending(limit: Int = 500) async throws -> (documents: [OrderDocument], unreadable: [String]) {
        let reply = try await redis.send(["HSCAN", Self.key, "0", "COUNT", String(limit)])
        guard let parts = reply.arrayValue, parts.count == 2, let items = parts[1].arrayValue else {
            throw RedisError(.invalidReply, "HSCAN replied \(reply)")
        }
        var documents: [OrderDocument] = []
        var unreadable: [String] = []
        var i = 0
        while i + 1 < items.count {
            let id = items[i].stringValue ?? ""
            if let json = items[i + 1].stringValue, let d = OrderDocument(json: json) {
                documents.append(d)
            } else {
                unreadable.append(id)
            }
            i += 2
        }
        return (documents, unreadable)
    }

    /// The documents waiting for these orders (absent or unreadable ones are left out).
    public func documents(_ ids: [OrderID]) async throws -> [OrderDocument] {
        guard !ids.isEmpty else { return [] }
        let reply = try await redis.send(["HMGET", Self.key] + ids.map(\.rawValue))
        return (reply.arrayValue ?? []).compactMap { $0.stringValue.flatMap(OrderDocument.init(json:)) }
    }

    public func count() async throws -> Int {
        Int(try await redis.send("HLEN", Self.key).integerValue ?? 0)
    }

    public func remove(_ ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        try await redis.send(["HDEL", Self.key] + ids)
    }
}
