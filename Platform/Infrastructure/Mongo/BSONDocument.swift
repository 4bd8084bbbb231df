/// A BSON document: fields in the order they were added, as MongoDB keeps them.
///
/// Order matters to MongoDB (sort specifications, index keys, `_id` sub-documents, equality of
/// embedded documents), so equality and hashing here are order-sensitive too:
/// `["a": 1, "b": 2] != ["b": 2, "a": 1]`.
///
/// ```swift
/// var order: BSONDocument = ["_id": "o-1", "status": "PENDING", "quantity": 2]
/// order["status"] = "CONFIRMED"            // replaces in place, keeps the position
/// order["status"]?.stringValue             // "CONFIRMED"
/// order["quantity"]?.int64Value            // 2
/// ```
public struct BSONDocument: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    public typealias Field = (key: String, value: BSONValue)

    private var fields: [Field]

    /// An empty document.
    public init() { fields = [] }

    /// A document of `fields` in order. Repeated keys are kept (BSON allows them), but key lookups
    /// see only the first; prefer unique keys.
    public init(_ fields: [(String, BSONValue)]) {
        self.fields = fields.map { (key: $0.0, value: $0.1) }
    }

    /// `["a": 1, "b": "x"]`. A key written twice in one literal is a programming error (traps),
    /// as it is for `Dictionary`.
    public init(dictionaryLiteral elements: (String, BSONValue)...) {
        var seen = Set<String>()
        for (key, _) in elements {
            precondition(seen.insert(key).inserted, "BSONDocument literal has the key '\(key)' twice")
        }
        self.init(elements)
    }

    /// The keys, in order.
    public var keys: [String] { fields.map(\.key) }

    /// The values, in order.
    public var values: [BSONValue] { fields.map(\.value) }

    /// The first field named `key`. Setting a value replaces that field in place (keeping its
    /// position) or appends a new one; setting `nil` removes every field named `key`.
    public subscript(key: String) -> BSONValue? {
        get { fields.first { $0.key == key }?.value }
        set {
            guard let newValue else {
                fields.removeAll { $0.key == key }
                return
            }
            if let index = fields.firstIndex(where: { $0.key == key }) {
                fields[index].value = newValue
            } else {
                fields.append((key: key, value: newValue))
            }
        }
    }

    /// Appends a field at the end, even when the key is already present.
    public mutating func append(_ key: String, _ value: BSONValue) {
        fields.append((key: key, value: value))
    }

    /// `true` when a field named `key` exists.
    public func contains(key: String) -> Bool { fields.contains { $0.key == key } }

    public static func == (lhs: BSONDocument, rhs: BSONDocument) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(fields.count)
        for field in fields {
            hasher.combine(field.key)
            hasher.combine(field.value)
        }
    }
}

extension BSONDocument: RandomAccessCollection {
    public typealias Element = Field
    public var startIndex: Int { fields.startIndex }
    public var endIndex: Int { fields.endIndex }
    public subscript(position: Int) -> Field { fields[position] }
}

extension BSONDocument: CustomStringConvertible {
    /// A relaxed-JSON-like rendering for logs and test failures, fields in order.
    public var description: String {
        "{" + fields.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
    }
}
