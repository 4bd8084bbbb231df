/// What an insert did.
public enum InsertOutcome: Sendable, Hashable {
    /// The document was written.
    case inserted
    /// A document with the same `_id` (or the same key of another unique index) already exists, so
    /// nothing was written. For an idempotent writer this means "already persisted".
    case duplicateKey
}

/// What ``MongoCollection/insertMany(_:ordered:)`` did.
public struct InsertManyResult: Sendable, Hashable {
    /// Documents written.
    public let insertedCount: Int
    /// Positions (in the input array, ascending) of documents whose unique key already existed.
    public let duplicateKeyIndexes: [Int]
    /// Positions never attempted: an ordered insert stops at its first duplicate. Always empty for an
    /// unordered insert.
    public let unattemptedIndexes: Range<Int>

    public init(insertedCount: Int, duplicateKeyIndexes: [Int], unattemptedIndexes: Range<Int> = 0..<0) {
        self.insertedCount = insertedCount
        self.duplicateKeyIndexes = duplicateKeyIndexes
        self.unattemptedIndexes = unattemptedIndexes
    }
}

/// What an update did.
public struct UpdateResult: Sendable, Hashable {
    /// Documents the filter matched.
    public let matched: Int
    /// Documents actually changed (a `$set` to the current value matches but does not modify).
    public let modified: Int
    /// The `_id` of the document an upsert inserted, when it inserted one.
    public let upsertedId: BSONValue?

    public init(matched: Int, modified: Int, upsertedId: BSONValue?) {
        self.matched = matched
        self.modified = modified
        self.upsertedId = upsertedId
    }
}
