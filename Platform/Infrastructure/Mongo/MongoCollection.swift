internal import CMongoc

/// One collection of the client's database. Cheap to create and to copy; every call takes a pooled
/// connection for its duration and runs its blocking libmongoc work off the Swift cooperative pool.
///
/// Every call throws ``MongoError``; ``MongoError/isRetryable`` says whether trying again may help.
/// A call that has started runs to completion (libmongoc calls cannot be interrupted), bounded by
/// the configured time-outs; task cancellation is not observed.
public struct MongoCollection: Sendable {
    /// The collection's name.
    public let name: String
    let pool: MongoConnectionPool

    init(name: String, pool: MongoConnectionPool) {
        self.name = name
        self.pool = pool
    }

    /// The database the collection lives in (``MongoConfiguration/database``).
    public var database: String { pool.configuration.database }

    /// Documents per reply of a `find` (first batch and every getMore).
    public static let findBatchSize = 5_000

    // MARK: Reads

    /// Documents matching `filter`, in `sort` order (e.g. `["createdAt": -1, "_id": 1]`), at most
    /// `limit` of them, with only the fields of `projection` (e.g. `["status": 1]`) when given.
    public func find(
        _ filter: BSONDocument = [:], sort: BSONDocument? = nil, limit: Int? = nil,
        projection: BSONDocument? = nil
    ) async throws(MongoError) -> [BSONDocument] {
        // Bounded batches: reading 120,000 orders from the local MongoDB-protocol server with the
        // default batches ended the cursor after its first 101 documents, without an error.
        var options: BSONDocument = ["batchSize": .int64(Int64(Self.findBatchSize))]
        if let sort { options["sort"] = .document(sort) }
        if let limit {
            guard limit > 0 else { throw MongoError(.invalidDocument, "limit must be positive, got \(limit)") }
            options["limit"] = .int64(Int64(limit))
        }
        if let projection { options["projection"] = .document(projection) }
        let findOptions = options
        return try await pool.withCollection(name) { collection in
            let filter = try filter.makeBSON()
            let options = try findOptions.makeBSON()
            guard let cursor = mongoc_collection_find_with_opts(collection, filter.pointer, options.pointer, nil) else {
                throw MongoError(.invalidReply, "find returned no cursor")
            }
            return try MongoReplies.drain(cursor)
        }
    }

    /// Every document matching `filter`, read in pages of `pageSize` ordered by `_id`, each page a
    /// query of its own (`_id` greater than the last one read) answered in one reply: no cursor
    /// outlives a reply, so a server that ends cursors early cannot shorten the result.
    public func findAll(_ filter: BSONDocument = [:], pageSize: Int = findBatchSize) async throws(MongoError)
        -> [BSONDocument]
    {
        var all: [BSONDocument] = []
        var last: BSONValue?
        while true {
            let page = try await find(
                last.map { ["$and": [.document(filter), ["_id": ["$gt": $0]]]] } ?? filter,
                sort: ["_id": 1], limit: pageSize)
            all += page
            guard page.count == pageSize, let next = page.last?["_id"] else { return all }
            last = next
        }
    }

    /// The first document matching `filter`, or `nil`.
    public func findOne(_ filter: BSONDocument) async throws(MongoError) -> BSONDocument? {
        try await find(filter, limit: 1).first
    }

    /// The document whose `_id` is `id`, or `nil`.
    public func findOne(id: BSONValue) async throws(MongoError) -> BSONDocument? {
        try await findOne(["_id": id])
    }

    /// How many documents match `filter`.
    public func count(_ filter: BSONDocument = [:]) async throws(MongoError) -> Int {
        try await pool.withCollection(name) { collection in
            let filter = try filter.makeBSON()
            let reply = BSONReply()
            var error = bson_error_t()
            let count = mongoc_collection_count_documents(collection, filter.pointer, nil, nil, reply.pointer, &error)
            guard count >= 0 else { throw MongoError(error, .read) }
            return Int(count)
        }
    }

    /// Runs an aggregation pipeline, e.g. Σ quantity by status:
    /// `[["$group": ["_id": "$status", "total": ["$sum": "$quantity"]]]]`.
    public func aggregate(pipeline: [BSONDocument]) async throws(MongoError) -> [BSONDocument] {
        let command: BSONDocument = ["pipeline": .array(pipeline.map(BSONValue.document))]
        return try await pool.withCollection(name) { collection in
            let pipeline = try command.makeBSON()
            guard let cursor = mongoc_collection_aggregate(collection, MONGOC_QUERY_NONE, pipeline.pointer, nil, nil)
            else { throw MongoError(.invalidReply, "aggregate returned no cursor") }
            return try MongoReplies.drain(cursor)
        }
    }
}
