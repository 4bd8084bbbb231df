internal import CMongoc

extension MongoCollection {
    /// Creates an index on `keys` in order (`1` ascending, `-1` descending), e.g.
    /// `[("sku", 1), ("createdAt", -1)]`. Creating an identical index again is a no-op.
    ///
    /// - Parameters:
    ///   - name: the index name; default `field_dir_field_dir` as MongoDB names it.
    ///   - unique: reject a second document with the same key (inserts then report
    ///     ``InsertOutcome/duplicateKey``).
    public func createIndex(keys: [(String, Int)], name: String? = nil, unique: Bool = false) async throws(MongoError) {
        guard !keys.isEmpty else { throw MongoError(.invalidDocument, "an index needs at least one key") }
        let keyDocument = BSONDocument(keys.map { ($0.0, BSONValue.int32(Int32(clamping: $0.1))) })
        var index: BSONDocument = [
            "key": .document(keyDocument),
            "name": .string(name ?? keys.map { "\($0.0)_\($0.1)" }.joined(separator: "_")),
        ]
        if unique { index["unique"] = true }
        let command: BSONDocument = ["createIndexes": .string(self.name), "indexes": [.document(index)]]
        try await runCommand(command, kind: .command)
    }

    /// Drops the collection and its indexes; a collection that does not exist is not an error.
    public func drop() async throws(MongoError) {
        try await pool.withCollection(name) { collection in
            var error = bson_error_t()
            guard !mongoc_collection_drop_with_opts(collection, nil, &error) else { return }
            let failure = MongoError(error, .command)
            if failure.serverCode == 26 || failure.message.contains("ns not found") { return }
            throw failure
        }
    }

    /// Sends a command that writes (with the client's write concern) and returns the server's reply.
    @discardableResult
    func runCommand(_ command: BSONDocument, kind: MongoOperationKind) async throws(MongoError) -> BSONDocument {
        try await pool.withCollection(name) { collection in
            let bson = try command.makeBSON()
            let reply = BSONReply()
            var error = bson_error_t()
            let ok = mongoc_collection_write_command_with_opts(collection, bson.pointer, nil, reply.pointer, &error)
            guard ok else { throw MongoError(error, kind) }
            return reply.document()
        }
    }
}
