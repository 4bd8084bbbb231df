internal import CMongoc

extension MongoCollection {
    /// Inserts one document with the client's write concern.
    ///
    /// - Returns: ``InsertOutcome/duplicateKey`` when a document with the same `_id` (or another
    ///   unique key) exists: for an idempotent writer, "already persisted", not a failure.
    /// - Throws: ``MongoError`` for anything else; a retryable one may or may not have been applied,
    ///   and retrying the same document then yields `.inserted` or `.duplicateKey`.
    public func insert(_ document: BSONDocument) async throws(MongoError) -> InsertOutcome {
        try await pool.withCollection(name) { collection in
            let bson = try document.makeBSON()
            let reply = BSONReply()
            var error = bson_error_t()
            let ok = mongoc_collection_insert_one(collection, bson.pointer, nil, reply.pointer, &error)
            try MongoReplies.checkWriteConcern(reply.document())
            if ok { return InsertOutcome.inserted }
            let failure = MongoError(error, .write)
            if failure.code == .writeFailed, failure.isDuplicateKey { return .duplicateKey }
            throw failure
        }
    }

    /// Inserts many documents in one round trip (libmongoc splits past the server's batch limit).
    ///
    /// Unordered (the default), every document is attempted: those whose unique key already exists
    /// are listed in ``InsertManyResult/duplicateKeyIndexes`` and the rest are inserted. Ordered, the
    /// insert stops at the first duplicate (see ``InsertManyResult/unattemptedIndexes``).
    ///
    /// - Throws: ``MongoError`` when any document failed for another reason than a duplicate key, or
    ///   the call itself failed (then some documents may have been inserted; retrying all of them is
    ///   safe: the ones already written come back as duplicates).
    public func insertMany(_ documents: [BSONDocument], ordered: Bool = false) async throws(MongoError)
        -> InsertManyResult
    {
        guard !documents.isEmpty else { return InsertManyResult(insertedCount: 0, duplicateKeyIndexes: []) }
        let options: BSONDocument = ["ordered": .bool(ordered)]
        return try await pool.withCollection(name) { collection in
            var buffers: [BSONBuffer] = []
            buffers.reserveCapacity(documents.count)
            for document in documents { buffers.append(try document.makeBSON()) }
            let options = try options.makeBSON()
            let reply = BSONReply()
            var error = bson_error_t()
            var pointers: [OpaquePointer?] = buffers.map(\.pointer)
            let ok = withExtendedLifetime(buffers) {
                pointers.withUnsafeMutableBufferPointer { p in
                    mongoc_collection_insert_many(
                        collection, p.baseAddress, p.count, options.pointer,
                        reply.pointer, &error)
                }
            }
            let result = reply.document()
            try MongoReplies.checkWriteConcern(result)
            let inserted = result["insertedCount"]?.intValue ?? 0
            if ok { return InsertManyResult(insertedCount: inserted, duplicateKeyIndexes: []) }

            let writeErrors = MongoReplies.writeErrors(result)
            guard !writeErrors.isEmpty else { throw MongoError(error, .write) }
            if let other = writeErrors.first(where: {
                !MongoError.duplicateKeyCodes.contains($0["code"]?.intValue ?? 0)
            }) {
                throw MongoError(writeError: other)
            }
            let duplicates = writeErrors.compactMap { $0["index"]?.intValue }.sorted()
            guard duplicates.count == writeErrors.count else {
                throw MongoError(.invalidReply, "write errors without an index: \(writeErrors)")
            }
            let unattempted = ordered ? (duplicates.last! + 1)..<documents.count : 0..<0
            return InsertManyResult(
                insertedCount: inserted, duplicateKeyIndexes: duplicates,
                unattemptedIndexes: unattempted)
        }
    }

    /// `$set`s fields of the document whose `_id` is `id`; with `upsert`, inserts
    /// `{_id: id, …set}` when there is none.
    public func updateOne(id: BSONValue, set fields: BSONDocument, upsert: Bool = false) async throws(MongoError)
        -> UpdateResult
    {
        try await updateOne(filter: ["_id": id], update: ["$set": .document(fields)], upsert: upsert)
    }

    /// Applies `update` (operators only: `["$set": …, "$inc": …]`) to the first document matching `filter`.
    public func updateOne(filter: BSONDocument, update: BSONDocument, upsert: Bool = false) async throws(MongoError)
        -> UpdateResult
    {
        try await runUpdate(filter: filter, update: update, upsert: upsert, multi: false)
    }

    /// Applies `update` (operators only) to every document matching `filter`.
    public func updateMany(filter: BSONDocument, update: BSONDocument, upsert: Bool = false) async throws(MongoError)
        -> UpdateResult
    {
        try await runUpdate(filter: filter, update: update, upsert: upsert, multi: true)
    }

    /// Deletes every document matching `filter`; returns how many.
    @discardableResult
    public func deleteMany(_ filter: BSONDocument) async throws(MongoError) -> Int {
        try await pool.withCollection(name) { collection in
            let filter = try filter.makeBSON()
            let reply = BSONReply()
            var error = bson_error_t()
            let ok = mongoc_collection_delete_many(collection, filter.pointer, nil, reply.pointer, &error)
            let result = reply.document()
            try MongoReplies.checkWriteConcern(result)
            guard ok else { throw MongoError(error, .write) }
            return result["deletedCount"]?.intValue ?? 0
        }
    }

    /// The `update` command, sent as such so that the server's `n`, `nModified` and `upserted` are
    /// read directly (servers differ in how they spell `upserted`: an array of `{index, _id}` or the
    /// bare id). The client's write concern applies.
    private func runUpdate(filter: BSONDocument, update: BSONDocument, upsert: Bool, multi: Bool)
        async throws(MongoError) -> UpdateResult
    {
        guard !update.isEmpty, update.keys.allSatisfy({ $0.hasPrefix("$") }) else {
            throw MongoError(.invalidDocument, "an update needs operators only ($set, $inc, …), got \(update)")
        }
        let command: BSONDocument = [
            "update": .string(name),
            "updates": [
                ["q": .document(filter), "u": .document(update), "upsert": .bool(upsert), "multi": .bool(multi)]
            ],
            "ordered": true,
        ]
        return try await pool.withCollection(name) { collection in
            let bson = try command.makeBSON()
            let reply = BSONReply()
            var error = bson_error_t()
            let ok = mongoc_collection_write_command_with_opts(collection, bson.pointer, nil, reply.pointer, &error)
            let result = reply.document()
            guard ok else { throw MongoError(error, .write) }
            if let writeError = MongoReplies.writeErrors(result).first { throw MongoError(writeError: writeError) }
            try MongoReplies.checkWriteConcern(result)
            let upsertedId: BSONValue? =
                switch result["upserted"] {
                case .array(let entries)?: entries.first?.documentValue?["_id"]
                case .document(let entry)? where entry.contains(key: "_id") && entry.contains(key: "index"):
                    entry["_id"]
                case nil, .null?: nil
                case let id?: id
                }
            let n = result["n"]?.intValue ?? 0
            return UpdateResult(
                matched: max(0, n - (upsertedId == nil ? 0 : 1)),
                modified: result["nModified"]?.intValue ?? 0, upsertedId: upsertedId)
        }
    }
}
