import Foundation
import Infrastructure
import TestSupport
import Testing

/// Indexes, aggregation, write concern, the pool and failures, against the real server.
extension StackTests.MongoTests {
    @Test func uniqueIndexTurnsAConflictingInsertIntoADuplicate() async throws {
        let mongo = try client()
        defer { mongo.shutdown() }
        let users = mongo.collection(collectionName("users"))
        try await users.createIndex(keys: [("email", 1)], name: "email_unique", unique: true)
        try await users.createIndex(keys: [("email", 1)], name: "email_unique", unique: true)  // idempotent
        #expect(try await users.insert(["_id": "u-1", "email": "a@example.com"]) == .inserted)
        #expect(try await users.insert(["_id": "u-2", "email": "a@example.com"]) == .duplicateKey)
        #expect(try await users.insert(["_id": "u-3", "email": "b@example.com"]) == .inserted)

        // An update running into the index is a write error that says so.
        let clash = await #expect(throws: MongoError.self) {
            try await users.updateOne(id: "u-3", set: ["email": "a@example.com"])
        }
        #expect(clash?.code == .writeFailed)
        #expect(clash?.isDuplicateKey == true)
        #expect(clash?.isRetryable == false)
        #expect(try await users.count() == 2)
        try await users.drop()
    }

    @Test func compoundIndexIsCreatedAndEnforcedOnTheKeyPair() async throws {
        let mongo = try client()
        defer { mongo.shutdown() }
        let lines = mongo.collection(collectionName("lines"))
        try await lines.createIndex(keys: [("dealId", 1), ("status", -1)])
        try await lines.createIndex(keys: [("dealId", 1), ("userId", 1)], name: "deal_user", unique: true)
        #expect(try await lines.insert(["_id": 1, "dealId": "d-1", "userId": "u-1", "status": "A"]) == .inserted)
        #expect(try await lines.insert(["_id": 2, "dealId": "d-1", "userId": "u-2", "status": "A"]) == .inserted)
        #expect(try await lines.insert(["_id": 3, "dealId": "d-2", "userId": "u-1", "status": "A"]) == .inserted)
        #expect(
            try await lines.insert(["_id": 4, "dealId": "d-1", "userId": "u-1", "status": "B"]) == .duplicateKey)
        #expect(try await lines.find(["dealId": "d-1"], sort: ["status": -1, "_id": 1]).count == 2)
        try await lines.drop()
    }

    @Test func aggregateSumsQuantityByStatus() async throws {
        let mongo = try client()
        defer { mongo.shutdown() }
        let orders = mongo.collection(collectionName("orders"))
        let statuses = ["CONFIRMED", "PENDING", "CONFIRMED", "REJECTED", "CONFIRMED", "PENDING"]
        let documents: [BSONDocument] = statuses.enumerated().map { index, status in
            ["_id": .int64(Int64(index)), "status": .string(status), "quantity": .int64(Int64(index + 1))]
        }
        #expect(try await orders.insertMany(documents).insertedCount == 6)
        let groups = try await orders.aggregate(pipeline: [
            ["$group": ["_id": "$status", "total": ["$sum": "$quantity"], "orders": ["$sum": 1]]]
        ])
        let totals = Dictionary(
            uniqueKeysWithValues: groups.compactMap { group in
                group["_id"]?.stringValue.map { ($0, group["total"]?.int64Value) }
            })
        #expect(totals == ["CONFIRMED": 1 + 3 + 5, "PENDING": 2 + 6, "REJECTED": 4])
        let counts = groups.compactMap { $0["orders"]?.int64Value }.sorted()
        #expect(counts == [1, 2, 3])
        try await orders.drop()
    }

    @Test func majorityWriteConcernIsUsedAndAccepted() async throws {
        let mongo = try client()
        defer { mongo.shutdown() }
        #expect(try await mongo.effectiveWriteConcern() == .majority)
        let orders = mongo.collection(collectionName("orders"))
        #expect(try await orders.insert(["_id": "m-1"]) == .inserted)
        #expect(try await orders.updateOne(id: "m-1", set: ["ok": true]).modified == 1)

        let bounded = try client { $0.writeConcern = MongoWriteConcern(.majority, timeout: .seconds(5)) }
        defer { bounded.shutdown() }
        #expect(try await bounded.effectiveWriteConcern() == MongoWriteConcern(.majority, timeout: .seconds(5)))
        #expect(try await bounded.collection(orders.name).insert(["_id": "m-2"]) == .inserted)
        #expect(try await orders.count() == 2)
        try await orders.drop()
    }

    @Test func deleteManyAndDrop() async throws {
        let mongo = try client()
        defer { mongo.shutdown() }
        let items = mongo.collection(collectionName("items"))
        _ = try await items.insertMany((0..<10).map { ["_id": .int64(Int64($0)), "odd": .bool($0 % 2 == 1)] })
        #expect(try await items.deleteMany(["odd": true]) == 5)
        #expect(try await items.count() == 5)
        try await items.drop()
        #expect(try await items.count() == 0)
        try await items.drop()  // dropping a missing collection is fine
    }

    @Test func concurrentCallsShareASmallPool() async throws {
        let mongo = try client { $0.maxPoolSize = 3 }
        defer { mongo.shutdown() }
        let orders = mongo.collection(collectionName("orders"))
        let outcomes = try await withThrowingTaskGroup(of: InsertOutcome.self) { group in
            for i in 0..<200 {
                group.addTask { try await orders.insert(["_id": .int64(Int64(i % 150))]) }
            }
            return try await group.reduce(into: [InsertOutcome]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .inserted }.count == 150)
        #expect(outcomes.filter { $0 == .duplicateKey }.count == 50)
        #expect(try await orders.count() == 150)
        try await orders.drop()
    }

    @Test func shutdownIsIdempotentAndRefusesLaterCalls() async throws {
        let mongo = try client()
        let orders = mongo.collection(collectionName("orders"))
        #expect(try await orders.insert(["_id": 1]) == .inserted)
        try await orders.drop()
        mongo.shutdown()
        mongo.shutdown()
        let error = await #expect(throws: MongoError.self) { try await orders.insert(["_id": 2]) }
        #expect(error?.code == .closed)
        #expect(error?.isRetryable == false)
    }

    @Test func serverErrorsAreTypedAndNotRetryable() async throws {
        let mongo = try client()
        defer { mongo.shutdown() }
        let orders = mongo.collection(collectionName("orders"))
        let error = await #expect(throws: MongoError.self) {
            try await orders.aggregate(pipeline: [["$noSuchStage": [:]]])
        }
        #expect(error?.code == .commandFailed)
        #expect(error?.isRetryable == false)
    }

    /// Stops the real server mid-test: calls fail fast with a retryable error, and the same client
    /// recovers once the server is back. The server is restarted on every path.
    @Test(.timeLimit(.minutes(1)))
    func stoppedServerFailsFastAndTheSameClientRecovers() async throws {
        let selectionTimeout = Duration.seconds(1)
        let mongo = try client {
            $0.serverSelectionTimeout = selectionTimeout
            $0.connectTimeout = .milliseconds(500)
            $0.socketTimeout = .seconds(2)
        }
        defer { mongo.shutdown() }
        let orders = mongo.collection(collectionName("outage"))
        #expect(try await orders.insert(["_id": "before"]) == .inserted)

        try TestStack.run("stop", "mongo")
        var running = false
        defer { if !running { Self.startMongo() } }

        // Twice: the first call finds its pooled connection dead, the second finds no server at all.
        let clock = ContinuousClock()
        for attempt in 1...2 {
            let started = clock.now
            let error = await #expect(throws: MongoError.self) {
                try await orders.insert(["_id": .string("during-\(attempt)")])
            }
            let elapsed = clock.now - started
            #expect(error?.isRetryable == true, "attempt \(attempt): \(String(describing: error))")
            #expect([MongoError.Code.serverSelection, .connectionFailed, .timeout].contains(error?.code))
            #expect(elapsed < selectionTimeout + .seconds(1), "attempt \(attempt) took \(elapsed)")
        }

        try await Self.startMongo(within: .seconds(20))
        running = true
        let deadline = clock.now + .seconds(15)
        var recovered: InsertOutcome?
        var lastError: MongoError?
        while recovered == nil, clock.now < deadline {
            let attempt: Result<InsertOutcome, MongoError>
            do { attempt = .success(try await orders.insert(["_id": "after"])) } catch { attempt = .failure(error) }
            switch attempt {
            case .success(let outcome): recovered = outcome
            case .failure(let error):
                guard error.isRetryable else { throw error }
                lastError = error
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        #expect(recovered == .inserted, "no recovery within 15 s; last error: \(String(describing: lastError))")
        #expect(try await orders.find(sort: ["_id": 1]).map { $0["_id"]?.stringValue } == ["after", "before"])
        try await orders.drop()
    }
}
