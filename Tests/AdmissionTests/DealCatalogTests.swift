import Admission
import DealData
import Domain
import Foundation
import Infrastructure
import TestSupport
import Testing

@Suite("Deal catalog on the real MongoDB", .timeLimit(.minutes(2)))
struct DealCatalogTests {
    @Test func dealsAndProductsRoundTripWithTheContractsFieldNames() async throws {
        let e = try TestStack.endpoints()
        let mongo = try MongoClient(configuration: MongoConfiguration(endpoints: e))
        defer { mongo.shutdown() }
        let catalog = DealCatalog(mongo: mongo)
        let name = TestStack.uniqueName("catalog")
        // These deals start in 2100, ahead of every other deal in a listing: remove them afterwards.
        do {
            try await roundTrip(mongo, catalog, name)
        } catch {
            try await removeDocuments(mongo, name)
            throw error
        }
        try await removeDocuments(mongo, name)
    }

    func removeDocuments(_ mongo: MongoClient, _ name: String) async throws {
        try await mongo.collection("deals").deleteMany(["_id": .string("deal-\(name)")])
        try await mongo.collection("products").deleteMany([
            "_id": ["$in": [.string("prod-\(name)"), .string("prod-bare-\(name)")]]
        ])
        try await mongo.collection("deals").deleteMany(["_id": .string("deal-text-\(name)")])
    }

    func roundTrip(_ mongo: MongoClient, _ catalog: DealCatalog, _ name: String) async throws {

        let product = try Product(id: try ProductID("prod-\(name)"), name: "Espresso machine", description: "15 bar")
        let bare = try Product(id: try ProductID("prod-bare-\(name)"), name: "Grinder")
        // Far in the future, so it is among the latest-starting deals whatever else the database holds.
        let startsAt = Date(timeIntervalSince1970: 4_102_444_800 + Double(UInt16.random(in: 0...UInt16.max)))
        let deal = try Deal(
            id: try DealID("deal-\(name)"), productId: product.id, title: "Espresso at half price",
            price: Money(amountMinor: 19_999, currency: try CurrencyCode("EUR")),
            startsAt: startsAt.addingTimeInterval(0.123), endsAt: startsAt.addingTimeInterval(1_800),
            totalStock: 1_000, perCustomerLimit: 2)
        try await catalog.upsert(product)
        try await catalog.upsert(bare)
        try await catalog.upsert(deal)

        #expect(try await catalog.product(product.id) == product)
        #expect(try await catalog.product(bare.id) == bare)
        #expect(try await catalog.deal(deal.id) == deal)
        #expect(try await catalog.deal(try DealID("deal-missing-\(name)")) == nil)
        #expect(try await catalog.product(try ProductID("prod-missing-\(name)")) == nil)

        // The stored document, as operators' tools read it.
        let stored = try #require(try await mongo.collection("deals").findOne(id: .string(deal.id.rawValue)))
        #expect(
            Set(stored.keys) == [
                "_id", "productId", "title", "price", "currency", "totalStock", "perCustomerLimit",
                "startsAt", "endsAt",
            ])
        #expect(stored["price"]?.int64Value == 19_999)
        #expect(stored["currency"]?.stringValue == "EUR")
        #expect(stored["productId"]?.stringValue == product.id.rawValue)
        #expect(stored["totalStock"]?.intValue == 1_000)
        #expect(stored["perCustomerLimit"]?.intValue == 2)
        #expect(stored["startsAt"]?.dateValue == deal.startsAt)
        #expect(stored["endsAt"]?.dateValue == deal.endsAt)
        let storedProduct = try #require(
            try await mongo.collection("products").findOne(id: .string(product.id.rawValue)))
        #expect(storedProduct["name"]?.stringValue == "Espresso machine")

        // Upserting again replaces the fields; there is still one document.
        let changed = try Deal(
            id: deal.id, productId: product.id, title: "Espresso, last units", price: deal.price,
            startsAt: deal.startsAt, endsAt: deal.endsAt, totalStock: 1_000, perCustomerLimit: 1)
        try await catalog.upsert(changed)
        #expect(try await catalog.deal(deal.id) == changed)
        #expect(try await mongo.collection("deals").count(["_id": .string(deal.id.rawValue)]) == 1)

        let storedAgain = try #require(try await mongo.collection("deals").findOne(id: .string(deal.id.rawValue)))
        #expect(storedAgain["startsAt"] == .date(deal.startsAt), "an update keeps the dates as BSON dates")

        // The window moves: the deal is replaced, its dates still BSON dates.
        let moved = try Deal(
            id: deal.id, productId: product.id, title: changed.title, price: deal.price,
            startsAt: deal.startsAt.addingTimeInterval(60), endsAt: deal.endsAt.addingTimeInterval(120),
            totalStock: 1_000, perCustomerLimit: 1)
        try await catalog.upsert(moved)
        try await catalog.upsert(moved)
        #expect(try await catalog.deal(deal.id) == moved)
        let replaced = try #require(try await mongo.collection("deals").findOne(id: .string(deal.id.rawValue)))
        #expect(replaced["startsAt"] == .date(moved.startsAt) && replaced["endsAt"] == .date(moved.endsAt))

        // A payment window is stored as `paymentWindowMs`, and goes away when the deal drops it.
        let paying = try Deal(
            id: deal.id, productId: product.id, title: moved.title, price: deal.price,
            startsAt: moved.startsAt, endsAt: moved.endsAt, totalStock: 1_000, perCustomerLimit: 1,
            paymentWindow: .seconds(900))
        try await catalog.upsert(paying)
        #expect(try await catalog.deal(deal.id) == paying)
        let withWindow = try #require(try await mongo.collection("deals").findOne(id: .string(deal.id.rawValue)))
        #expect(withWindow["paymentWindowMs"]?.int64Value == 900_000)
        try await catalog.upsert(moved)
        #expect(try await catalog.deal(deal.id) == moved)
        let without = try #require(try await mongo.collection("deals").findOne(id: .string(deal.id.rawValue)))
        #expect(without["paymentWindowMs"] == nil)

        let listed = try await catalog.deals(limit: 100)
        #expect(listed.contains(moved))
        #expect(listed.count <= 100)
        #expect(zip(listed, listed.dropFirst()).allSatisfy { $0.startsAt >= $1.startsAt }, "latest start first")

        // A date some MongoDB-protocol servers store as text after a `$set` still reads back.
        let text = try DealID("deal-text-\(name)")
        #expect(
            try await mongo.collection("deals").insert([
                "_id": .string(text.rawValue), "productId": .string(product.id.rawValue), "title": "Text dates",
                "price": 100, "currency": "KRW", "totalStock": 5, "perCustomerLimit": 1,
                "startsAt": "2030-01-01 09:34:06.123000", "endsAt": "2030-01-01 10:00:00",
            ]) == .inserted)
        let fromText = try #require(try await catalog.deal(text))
        #expect(Timestamp.format(fromText.startsAt) == "2030-01-01T09:34:06.123Z")
        #expect(Timestamp.format(fromText.endsAt) == "2030-01-01T10:00:00.000Z")
    }
}
