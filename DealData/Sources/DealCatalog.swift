public import Domain
public import Foundation
public import Infrastructure

/// The catalog in MongoDB: collections `deals` and `products`. MongoDB is the system of record for
/// deals; Redis holds their hot state (``DealStateStore``).
///
/// Field names are a contract (operators' tools and audits read them):
/// - `deals`: `_id` (deal id), `productId`, `title`, `price` (integer, in the currency's minor unit:
///   1999 with `EUR` is 19.99 €), `currency` (ISO 4217), `totalStock`, `perCustomerLimit`,
///   `startsAt`, `endsAt` (BSON dates), and `paymentWindowMs` when confirmed orders must be paid
///   within that many milliseconds (absent: no payment window);
/// - `products`: `_id` (product id), `name`, `description` (string or null).
///
/// Writes use the client's write concern (majority by default).
public final class DealCatalog: Sendable {
    public static let dealsCollection = "deals"
    public static let productsCollection = "products"

    private let deals: MongoCollection
    private let products: MongoCollection

    public init(mongo: MongoClient) {
        self.deals = mongo.collection(Self.dealsCollection)
        self.products = mongo.collection(Self.productsCollection)
    }

    /// Inserts the deal or replaces its fields. Writing the same deal again changes nothing.
    ///
    /// A deal whose window is unchanged is updated in place (`$set`); a deal whose window moved is
    /// replaced (delete, then insert), so `startsAt` and `endsAt` are always written by an insert.
    /// Some MongoDB-protocol servers (the local stack's) store a date set by `$set` as text.
    public func upsert(_ deal: Deal) async throws {
        let id = BSONValue.string(deal.id.rawValue)
        let fields = Self.document(deal)
        var document: BSONDocument = ["_id": id]
        for (key, value) in fields { document.append(key, value) }
        for _ in 0..<3 {
            if try await deals.insert(document) == .inserted { return }
            guard let stored = try await deals.findOne(id: id) else { continue }  // deleted meanwhile: insert again
            let windowKept = stored["startsAt"] == .date(deal.startsAt) && stored["endsAt"] == .date(deal.endsAt)
            if windowKept {
                if (try? Self.deal(from: stored)) != deal {
                    var rest = fields
                    rest["startsAt"] = nil
                    rest["endsAt"] = nil
                    var update: BSONDocument = ["$set": .document(rest)]
                    if deal.paymentWindow == nil { update["$unset"] = ["paymentWindowMs": ""] }
                    _ = try await deals.updateOne(filter: ["_id": id], update: update)
                }
                return
            }
            try await deals.deleteMany(["_id": id])
        }
        throw DealDataError("deal \(deal.id) changed concurrently three times while it was being written")
    }

    /// Inserts the product or replaces its fields.
    public func upsert(_ product: Product) async throws {
        _ = try await products.updateOne(id: .string(product.id.rawValue), set: Self.document(product), upsert: true)
    }

    public func deal(_ id: DealID) async throws -> Deal? {
        try await deals.findOne(id: .string(id.rawValue)).map(Self.deal(from:))
    }

    /// Up to `limit` deals, latest start first.
    public func deals(limit: Int) async throws -> [Deal] {
        try await deals.find([:], sort: ["startsAt": -1, "_id": 1], limit: max(1, limit)).map(Self.deal(from:))
    }

    /// Every deal whose window ends after `cutoff` (open, or still served: pass now − the close grace).
    public func deals(endingAfter cutoff: Date) async throws -> [Deal] {
        try await deals.find(["endsAt": .document(["$gt": .date(cutoff)])], sort: ["_id": 1], limit: 100_000)
            .map(Self.deal(from:))
    }

    public func product(_ id: ProductID) async throws -> Product? {
        try await products.findOne(id: .string(id.rawValue)).map(Self.product(from:))
    }

    // MARK: Documents

    static func document(_ deal: Deal) -> BSONDocument {
        var document: BSONDocument = [
            "productId": .string(deal.productId.rawValue),
            "title": .string(deal.title),
            "price": .int64(deal.price.amountMinor),
            "currency": .string(deal.price.currency.rawValue),
            "totalStock": .int64(Int64(deal.totalStock)),
            "perCustomerLimit": .int64(Int64(deal.perCustomerLimit)),
            "startsAt": .date(deal.startsAt),
            "endsAt": .date(deal.endsAt),
        ]
        if let window = deal.paymentWindow { document["paymentWindowMs"] = .int64(window.milliseconds) }
        return document
    }

    static func document(_ product: Product) -> BSONDocument {
        ["name": .string(product.name), "description": product.description.map(BSONValue.string) ?? .null]
    }

    static func deal(from document: BSONDocument) throws -> Deal {
        func field<T>(_ name: String, _ read: (BSONValue) -> T?) throws -> T {
            guard let value = document[name], let typed = read(value) else {
                throw DealDataError("deals document \(document["_id"]?.description ?? "?") has no valid \(name)")
            }
            return typed
        }
        return try Deal(
            id: try DealID(try field("_id", \.stringValue)),
            productId: try ProductID(try field("productId", \.stringValue)),
            title: try field("title", \.stringValue),
            price: Money(
                amountMinor: try field("price", \.int64Value),
                currency: try CurrencyCode(try field("currency", \.stringValue))),
            startsAt: try field("startsAt", instant), endsAt: try field("endsAt", instant),
            totalStock: try field("totalStock", \.intValue),
            perCustomerLimit: try field("perCustomerLimit", \.intValue),
            paymentWindow: document["paymentWindowMs"]?.int64Value.map { .milliseconds($0) })
    }

    /// A BSON date; also the text `YYYY-MM-DD HH:MM:SS[.ffffff]` (UTC) that some MongoDB-protocol
    /// servers leave behind after a `$set` of a date.
    public static func instant(_ value: BSONValue) -> Date? {
        if let date = value.dateValue { return date }
        guard let text = value.stringValue, text.count >= 19 else { return nil }
        var iso = text.replacingOccurrences(of: " ", with: "T")
        if iso.hasSuffix("+00:00") { iso.removeLast(6) }
        if let dot = iso.firstIndex(of: ".") {
            iso = String(iso[..<iso.index(dot, offsetBy: min(4, iso.distance(from: dot, to: iso.endIndex)))])
        }
        return Timestamp.parse(iso.hasSuffix("Z") ? iso : iso + "Z")
    }

    static func product(from document: BSONDocument) throws -> Product {
        guard let id = document["_id"]?.stringValue, let name = document["name"]?.stringValue else {
            throw DealDataError("products document \(document["_id"]?.description ?? "?") has no valid _id or name")
        }
        return try Product(id: try ProductID(id), name: name, description: document["description"]?.stringValue)
    }
}
