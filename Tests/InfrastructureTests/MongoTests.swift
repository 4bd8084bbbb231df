import Foundation
import Infrastructure
import TestSupport
import Testing

/// A document with every ``BSONValue`` case, nested documents and arrays, in a deliberate field order.
func everyValueType() -> BSONDocument {
    [
        "zeta": "first field, last alphabetically",
        "string": "héllo wörld ✓",
        "empty": "",
        "int32": .int32(Int32.min),
        "int64": .int64(Int64.max),
        "double": 1.5e300,
        "negative": -0.25,
        "true": true,
        "false": false,
        "date": .date(Date(timeIntervalSince1970: 1_700_000_000.123)),
        "beforeEpoch": .date(Date(timeIntervalSince1970: -86_400.5)),
        "null": nil,
        "nested": ["b": 2, "a": ["deep": [1, "two", .int32(3)]], "list": [], "doc": [:]],
        "array": [1, .int32(2), 3.5, "four", true, nil, ["k": "v"], [[1], []]],
        "alpha": "last field",
    ]
}

/// A collection name no other test uses. nx-27017 accepts only identifiers (letters, digits,
/// underscores; no leading digit) as collection names.
func collectionName(_ prefix: String) -> String {
    TestStack.uniqueName(prefix).replacingOccurrences(of: "-", with: "_")
}

/// `document` with every 64-bit integer that fits 32 bits as an `.int32`: nx-27017 stores documents
/// as JSON and returns such numbers as int32 (real MongoDB keeps the width). Readers use
/// `int64Value`/`intValue`, which accept both.
func narrowingIntegers(_ document: BSONDocument) -> BSONDocument {
    func narrow(_ value: BSONValue) -> BSONValue {
        switch value {
        case .int64(let v) where Int32(exactly: v) != nil: .int32(Int32(v))
        case .document(let d): .document(narrowingIntegers(d))
        case .array(let a): .array(a.map(narrow))
        default: value
        }
    }
    return BSONDocument(document.map { ($0.key, narrow($0.value)) })
}

@Suite("BSON model and its libbson encoding")
struct MongoBSONTests {
    @Test func everyValueTypeRoundTripsThroughLibbsonInOrder() throws {
        let document = everyValueType()
        let decoded = try BSONDocument(bsonBytes: document.bsonBytes())
        #expect(decoded == document)
        #expect(decoded.keys == document.keys)
        #expect(decoded["nested"]?.documentValue?.keys == ["b", "a", "list", "doc"])
        #expect(decoded["array"]?.arrayValue?.count == 8)
        #expect(decoded["date"]?.dateValue == Date(timeIntervalSince1970: 1_700_000_000.123))
        #expect(decoded["int32"] == .int32(Int32.min))  // the width survives
        #expect(decoded["int32"]?.int64Value == Int64(Int32.min))  // and int64Value accepts it
    }

    @Test func encodingIsExactBSON() throws {
        // {"b": int32 1, "a": true}: length, then fields in insertion order, then the terminator.
        let bytes = try (["b": .int32(1), "a": true] as BSONDocument).bsonBytes()
        #expect(bytes == [16, 0, 0, 0, 0x10, 0x62, 0, 1, 0, 0, 0, 0x08, 0x61, 0, 1, 0])
        let date = try (["d": .date(Date(timeIntervalSince1970: 1))] as BSONDocument).bsonBytes()
        #expect(Array(date[4...7]) == [0x09, 0x64, 0, 0xE8])  // type date_time, "d", 1000 ms…
    }

    @Test func fieldOrderMattersAndSubscriptsKeepIt() {
        var document: BSONDocument = ["a": 1, "b": 2]
        #expect(document != ["b": 2, "a": 1])
        document["a"] = "replaced"
        document["c"] = 3
        #expect(document.keys == ["a", "b", "c"])
        document["b"] = nil
        #expect(document == ["a": "replaced", "c": 3])
        #expect(document["a"]?.stringValue == "replaced")
        #expect(document["c"]?.intValue == 3)
        #expect(document["missing"] == nil)
    }

    @Test func malformedBytesAndBadKeysAreInvalidDocuments() throws {
        let bad = #expect(throws: MongoError.self) { try BSONDocument(bsonBytes: [5, 0, 0, 0, 1]) }
        #expect(bad?.code == .invalidDocument)
        #expect(bad?.isRetryable == false)
        var good = try (["k": "v"] as BSONDocument).bsonBytes()
        good[4] = 0x7F  // an unknown element type
        #expect(throws: MongoError.self) { try BSONDocument(bsonBytes: good) }
        let nulKey = #expect(throws: MongoError.self) { try (["a\u{0}b": 1] as BSONDocument).bsonBytes() }
        #expect(nulKey?.code == .invalidDocument)
    }
}

@Suite("Mongo configuration")
struct MongoConfigurationTests {
    @Test func malformedURIIsAnInvalidConfiguration() {
        let error = #expect(throws: MongoError.self) {
            try MongoClient(configuration: MongoConfiguration(uri: "postgres://nope"))
        }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.isRetryable == false)
    }

    @Test func environmentOverridesDefaultsAndAMalformedValueNamesItsVariable() throws {
        let configuration = try MongoConfiguration.default.applying(environment: [
            "FLASHDEAL_MONGO_URI": "mongodb://example:1/", "FLASHDEAL_MONGO_MAX_POOL_SIZE": "3",
            "FLASHDEAL_MONGO_SERVER_SELECTION_TIMEOUT_MS": "750", "FLASHDEAL_MONGO_SOCKET_TIMEOUT_MS": "",
        ])
        #expect(configuration.uri == "mongodb://example:1/")
        #expect(configuration.maxPoolSize == 3)
        #expect(configuration.serverSelectionTimeout == .milliseconds(750))
        #expect(configuration.socketTimeout == MongoConfiguration.defaultSocketTimeout, "empty keeps the default")
        #expect(configuration.writeConcern == .majority)
        for (name, value) in [("FLASHDEAL_MONGO_SOCKET_TIMEOUT_MS", "bad"), ("FLASHDEAL_MONGO_MAX_POOL_SIZE", "0")] {
            #expect {
                _ = try MongoConfiguration.default.applying(environment: [name: value])
            } throws: { error in
                (error as? ConfigurationError)?.setting == name && "\(error)".contains(value)
            }
        }
    }
}

extension StackTests {
    @Suite("Mongo adapter against the real server")
    struct MongoTests {
        static func startMongo(within budget: Duration) async throws {
            try TestStack.run("start", "mongo")
        }

        /// The same for cleanup paths, which cannot throw.
        static func startMongo() {
            try? TestStack.run("start", "mongo")
        }

        func client(_ adjust: (inout MongoConfiguration) -> Void = { _ in }) throws -> MongoClient {
            var configuration = MongoConfiguration(endpoints: try TestStack.endpoints())
            adjust(&configuration)
            return try MongoClient(configuration: configuration)
        }

        @Test func insertThenFindOneRoundTripsEveryTypeInOrder() async throws {
            let mongo = try client()
            defer { mongo.shutdown() }
            try await mongo.ping()
            let orders = mongo.collection(collectionName("orders"))
            var document: BSONDocument = ["_id": "order-1"]
            for (key, value) in everyValueType() { document.append(key, value) }
            #expect(try await orders.insert(document) == .inserted)
            let found = try #require(try await orders.findOne(id: "order-1"))
            #expect(narrowingIntegers(found) == narrowingIntegers(document))
            #expect(found.keys == document.keys)
            #expect(found["int32"] == .int32(Int32.min))
            #expect(found["int64"] == .int64(Int64.max))
            #expect(found["nested"]?.documentValue?["b"]?.int64Value == 2)
            #expect(try await orders.findOne(id: "order-2") == nil)
            try await orders.drop()
        }

        @Test func generatedObjectIdReadsBackAsItsHexString() async throws {
            let mongo = try client()
            defer { mongo.shutdown() }
            let events = mongo.collection(collectionName("events"))
            #expect(try await events.insert(["kind": "no-id"]) == .inserted)
            let found = try #require(try await events.findOne(["kind": "no-id"]))
            let id = try #require(found["_id"]?.stringValue)
            #expect(id.count == 24 && id.allSatisfy(\.isHexDigit))
            try await events.drop()
        }

        @Test func duplicateIdIsATypedOutcome() async throws {
            let mongo = try client()
            defer { mongo.shutdown() }
            let orders = mongo.collection(collectionName("orders"))
            #expect(try await orders.insert(["_id": "o-1", "v": 1]) == .inserted)
            #expect(try await orders.insert(["_id": "o-1", "v": 2]) == .duplicateKey)
            #expect(try await orders.findOne(id: "o-1")?["v"]?.intValue == 1)  // the first write stays
            #expect(try await orders.count() == 1)
            try await orders.drop()
        }

        @Test func findAllReadsEveryMatchInIdPagesWithoutDuplicates() async throws {
            let mongo = try client()
            defer { mongo.shutdown() }
            let orders = mongo.collection(collectionName("paged"))
            // 2,345 matching documents (inserted out of order) among 500 others; pages of 1,000.
            let matching: [BSONDocument] = (0..<2_345).shuffled().map {
                ["_id": .string(String(format: "m-%05d", $0)), "deal": "d1"]
            }
            let others: [BSONDocument] = (0..<500).map { ["_id": .string(String(format: "x-%05d", $0)), "deal": "d2"] }
            _ = try await orders.insertMany(matching + others)
            let all = try await orders.findAll(["deal": "d1"], pageSize: 1_000)
            let ids = all.compactMap { $0["_id"]?.stringValue }
            #expect(ids.count == 2_345)
            #expect(Set(ids).count == 2_345, "no document twice")
            #expect(ids == ids.sorted(), "in _id order")
            #expect(try await orders.findAll(["deal": "d1"], pageSize: 2_345).count == 2_345, "an exact last page")
            #expect(try await orders.findAll(["deal": "none"]).isEmpty)
        }

        @Test func insertManyUnorderedInsertsTheRestAndNamesTheDuplicates() async throws {
            let mongo = try client()
            defer { mongo.shutdown() }
            let orders = mongo.collection(collectionName("orders"))
            #expect(try await orders.insert(["_id": "o-1"]) == .inserted)
            #expect(try await orders.insert(["_id": "o-4"]) == .inserted)
            let batch: [BSONDocument] = (0..<6).map { ["_id": .string("o-\($0)"), "n": .int64(Int64($0))] }
            let result = try await orders.insertMany(batch)
            #expect(result.insertedCount == 4)
            #expect(result.duplicateKeyIndexes == [1, 4])
            #expect(result.unattemptedIndexes.isEmpty)
            #expect(try await orders.count() == 6)
            #expect(try await orders.findOne(id: "o-5")?["n"]?.int64Value == 5)

            // Retrying the whole batch is safe: everything is now a duplicate.
            let again = try await orders.insertMany(batch)
            #expect(again.insertedCount == 0)
            #expect(again.duplicateKeyIndexes == Array(0..<6))

            // Ordered, the insert stops at the first duplicate.
            let ordered = try await orders.insertMany([["_id": "p-0"], ["_id": "o-0"], ["_id": "p-2"]], ordered: true)
            #expect(ordered.insertedCount == 1)
            #expect(ordered.duplicateKeyIndexes == [1])
            #expect(ordered.unattemptedIndexes == 2..<3)
            #expect(try await orders.findOne(id: "p-2") == nil)
            #expect(try await orders.insertMany([]).insertedCount == 0)
            try await orders.drop()
        }

        @Test func findWithFilterSortLimitAndProjection() async throws {
            let mongo = try client()
            defer { mongo.shutdown() }
            let items = mongo.collection(collectionName("items"))
            // More than one cursor batch (101 documents) to exercise getMore.
            let documents: [BSONDocument] = (0..<150).map {
                [
                    "_id": .int64(Int64($0)), "parity": .string($0.isMultiple(of: 2) ? "even" : "odd"),
                    "n": .int64(Int64($0)), "extra": "x",
                ]
            }
            #expect(try await items.insertMany(documents).insertedCount == 150)
            #expect(try await items.find().count == 150)
            #expect(try await items.count(["parity": "odd"]) == 75)

            let top = try await items.find(["parity": "even"], sort: ["n": -1], limit: 3, projection: ["n": 1])
            #expect(top.map { $0["n"]?.intValue } == [148, 146, 144])
            #expect(top.allSatisfy { $0["parity"] == nil && $0["extra"] == nil })

            let range = try await items.find(["n": ["$gte": 10, "$lt": 13]], sort: ["n": 1])
            #expect(range.map { $0["_id"]?.intValue } == [10, 11, 12])
            try await items.drop()
        }

        @Test func updateOneByIdReportsMatchedModifiedAndUpserts() async throws {
            let mongo = try client()
            defer { mongo.shutdown() }
            let orders = mongo.collection(collectionName("orders"))
            #expect(try await orders.insert(["_id": "o-1", "status": "PENDING", "quantity": 2]) == .inserted)

            let confirmed = try await orders.updateOne(id: "o-1", set: ["status": "CONFIRMED"])
            #expect(confirmed == UpdateResult(matched: 1, modified: 1, upsertedId: nil))
            let unchanged = try await orders.updateOne(id: "o-1", set: ["status": "CONFIRMED"])
            #expect(unchanged.matched == 1)
            #expect(unchanged.modified == 0)
            let missing = try await orders.updateOne(id: "o-9", set: ["status": "CONFIRMED"])
            #expect(missing == UpdateResult(matched: 0, modified: 0, upsertedId: nil))
            #expect(try await orders.findOne(id: "o-9") == nil)

            let upserted = try await orders.updateOne(id: "o-2", set: ["status": "REJECTED"], upsert: true)
            #expect(upserted.matched == 0)
            #expect(upserted.upsertedId == "o-2")
            #expect(try await orders.findOne(id: "o-2") == ["_id": "o-2", "status": "REJECTED"])
            let o1 = try #require(try await orders.findOne(id: "o-1"))
            #expect(narrowingIntegers(o1) == narrowingIntegers(["_id": "o-1", "status": "CONFIRMED", "quantity": 2]))

            let incremented = try await orders.updateOne(filter: ["_id": "o-1"], update: ["$inc": ["quantity": 3]])
            #expect(incremented.modified == 1)
            #expect(try await orders.findOne(id: "o-1")?["quantity"]?.int64Value == 5)

            let many = try await orders.updateMany(filter: [:], update: ["$set": ["archived": true]])
            #expect(many.matched == 2)
            #expect(try await orders.count(["archived": true]) == 2)

            let replacement = await #expect(throws: MongoError.self) {
                try await orders.updateOne(filter: ["_id": "o-1"], update: ["status": "X"])
            }
            #expect(replacement?.code == .invalidDocument)
            #expect(replacement?.isRetryable == false)
            try await orders.drop()
        }
    }
}
