internal import CMongoc

/// Reading libmongoc's results: draining cursors and the parts of write replies the adapter needs.
enum MongoReplies {
    /// Every document of `cursor`, then destroys it.
    static func drain(_ cursor: OpaquePointer) throws(MongoError) -> [BSONDocument] {
        defer { mongoc_cursor_destroy(cursor) }
        var documents: [BSONDocument] = []
        var current: OpaquePointer?
        while mongoc_cursor_next(cursor, &current) {
            guard let current else { continue }
            documents.append(try BSONDocument(bson: current))
        }
        var error = bson_error_t()
        if mongoc_cursor_error(cursor, &error) { throw MongoError(error, .read) }
        return documents
    }

    /// `writeErrors` entries of a reply (`{index, code, errmsg}`).
    static func writeErrors(_ reply: BSONDocument) -> [BSONDocument] {
        reply["writeErrors"]?.arrayValue?.compactMap(\.documentValue) ?? []
    }

    /// Write concern errors of a reply: libmongoc's CRUD replies carry `writeConcernErrors` (an
    /// array), raw command replies the server's `writeConcernError` (one document).
    static func writeConcernErrors(_ reply: BSONDocument) -> [BSONDocument] {
        let many = reply["writeConcernErrors"]?.arrayValue?.compactMap(\.documentValue) ?? []
        return many + [reply["writeConcernError"]?.documentValue].compactMap { $0 }
    }

    /// Throws the first write concern error of `reply`, if any.
    static func checkWriteConcern(_ reply: BSONDocument) throws(MongoError) {
        if let first = writeConcernErrors(reply).first { throw MongoError(writeConcernError: first) }
    }
}
