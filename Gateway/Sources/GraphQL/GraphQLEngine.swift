import Crypto
import Domain
import Foundation
import GraphQL
import Synchronization

/// Parses, validates and executes GraphQL documents against the gateway schema.
///
/// A document that parsed and validated is kept (bounded, keyed by its text), so the hot operations
/// skip both steps; a persisted query is looked up by the SHA-256 of its text
/// (`extensions.persistedQuery.sha256Hash`, the automatic-persisted-query form Apollo clients send).
/// Depth and complexity are checked once per document, before it is cached. An operation of a hot
/// shape is compiled then too (``CompiledOperation``), and runs without the general executor.
final class GraphQLEngine: Sendable {
    struct Prepared: Sendable {
        let document: Document
        /// Operation name (nil for an anonymous one) → its type and root fields.
        let operations: [String?: Operation]
    }

    struct Operation: Sendable {
        let isMutation: Bool
        let rootFields: [String]
        /// The operation compiled, when it has a hot shape and compiled operations are on.
        let compiled: CompiledOperation?
    }

    let schema: GraphQLSchema
    let limits: GatewayConfiguration.GraphQLLimits
    /// What compiled operations call; nil when the schema has no API (printing it).
    let api: ShopperAPI?
    private let documents: GenerationalCache<String, Prepared>
    private let persisted: GenerationalCache<String, String>

    init(schema: GraphQLSchema, limits: GatewayConfiguration.GraphQLLimits, api: ShopperAPI? = nil) {
        self.schema = schema
        self.limits = limits
        self.api = api
        self.documents = GenerationalCache(capacity: limits.documentCacheEntries)
        self.persisted = GenerationalCache(capacity: limits.persistedQueryEntries)
    }

    var cachedDocuments: Int { documents.count }

    /// Resolves the query text of a request, registering or looking up a persisted query.
    func queryText(query: String?, extensions: Map?) throws(RequestFailure) -> String {
        let persistedQuery = extensions?["persistedQuery"] ?? .undefined
        if case .undefined = persistedQuery {
            guard let query, !query.isEmpty else {
                throw RequestFailure(APIError(.badRequest, "the request has no `query`"))
            }
            return query
        }
        guard case .string(let hash) = persistedQuery["sha256Hash"], persistedQuery["version"].int == 1,
            hash.count == 64
        else {
            throw RequestFailure(
                APIError(
                    .badRequest, "extensions.persistedQuery must be {\"version\": 1, \"sha256Hash\": \"<64 hex>\"}"))
        }
        let key = hash.lowercased()
        if let query, !query.isEmpty {
            let digest = Hex.lowercase(Array(SHA256.hash(data: Data(query.utf8))))
            guard digest == key else {
                throw RequestFailure(APIError(.badRequest, "provided sha256Hash does not match the query"))
            }
            persisted.insert(key, query)
            return query
        }
        guard let text = persisted.value(for: key) else {
            throw RequestFailure(
                APIError(
                    .persistedQueryNotFound, "PersistedQueryNotFound: send the query text once with its hash"))
        }
        return text
    }

    /// Parses and validates `text` (or takes it from the cache) and checks the limits.
    func prepare(_ text: String) throws(RequestFailure) -> Prepared {
        if let cached = documents.value(for: text) { return cached }
        let document: Document
        if let problem = Self.unsafeEscape(in: text) {
            throw RequestFailure([APIError(.parseFailed, "Syntax Error: \(problem)")])
        }
        do { document = try parse(source: Source(body: text, name: "request")) } catch {
            throw RequestFailure([APIError(.parseFailed, "\(Self.message(of: error))")])
        }
        try Self.refuseRepeatedDefinitions(document)
        let validation = validate(schema: schema, ast: document)
        if !validation.isEmpty {
            throw RequestFailure(
                .validationFailed,
                graphQLErrors: validation.map {
                    GraphQLError(
                        message: $0.message, locations: $0.locations, path: $0.path,
                        extensions: [
                            "code": .string(APIError.Code.validationFailed.rawValue), "retryable": .bool(false),
                        ])
                })
        }
        let fragments = Dictionary(
            document.definitions.compactMap { $0 as? FragmentDefinition }.map { ($0.name.value, $0) },
            uniquingKeysWith: { a, _ in a })
        var operations: [String?: Operation] = [:]
        for case let operation as OperationDefinition in document.definitions {
            let measure = QueryMeasure(fragments: fragments, introspection: limits.introspection)
            let (depth, complexity, introspects) = measure.measure(operation.selectionSet)
            if introspects && !limits.introspection {
                throw RequestFailure([APIError(.validationFailed, "introspection is disabled")])
            }
            if depth > limits.maxDepth {
                throw RequestFailure([
                    APIError(
                        .queryTooDeep,
                        "the operation is \(depth) levels deep; at most \(limits.maxDepth) are allowed",
                        numbers: ["depth": Double(depth), "maxDepth": Double(limits.maxDepth)])
                ])
            }
            if complexity > limits.maxComplexity {
                throw RequestFailure([
                    APIError(
                        .queryTooComplex,
                        "the operation costs \(complexity); at most \(limits.maxComplexity) is allowed",
                        numbers: ["complexity": Double(complexity), "maxComplexity": Double(limits.maxComplexity)])
                ])
            }
            let roots = operation.selectionSet.selections.compactMap { ($0 as? Field)?.name.value }
            operations[operation.name?.value] = Operation(
                isMutation: operation.operation == .mutation, rootFields: roots,
                compiled: limits.compiledOperations && api != nil
                    ? CompiledOperation.compile(operation, schema: schema) : nil)
        }
        let prepared = Prepared(document: document, operations: operations)
        documents.insert(text, prepared)
        return prepared
    }

    /// The GraphQL library's lexer reads the four digits of a `\u` escape, and the character after a
    /// backslash, without checking that the text goes on: a string literal ending in `"\u12` or in
    /// a lone backslash stopped the process ("String index is out of bounds"; found by
    /// `scripts/fuzz`). Such escapes are refused here, before the lexer sees them; everything else
    /// about strings (unterminated ones included) is left to the lexer's own errors.
    static func unsafeEscape(in text: String) -> String? {
        let bytes = Array(text.utf8)
        let quote = UInt8(ascii: "\"")
        let backslash = UInt8(ascii: "\\")
        var i = 0
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "#"):
                while i < bytes.count, bytes[i] != 0x0A, bytes[i] != 0x0D { i += 1 }
            case quote where i + 2 < bytes.count && bytes[i + 1] == quote && bytes[i + 2] == quote:
                i += 3
                while i < bytes.count {
                    if bytes[i] == backslash, i + 3 < bytes.count, bytes[i + 1] == quote, bytes[i + 2] == quote,
                        bytes[i + 3] == quote
                    {
                        i += 4
                    } else if bytes[i] == quote, i + 2 < bytes.count, bytes[i + 1] == quote, bytes[i + 2] == quote {
                        i += 2
                        break
                    } else {
                        i += 1
                    }
                }
            case quote:
                i += 1
                while i < bytes.count, bytes[i] != quote, bytes[i] != 0x0A, bytes[i] != 0x0D {
                    if bytes[i] == backslash {
                        let needed = i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "u") ? 5 : 1
                        guard i + needed < bytes.count else {
                            return "an escape sequence at the end of the document (\\u needs four hex digits)"
                        }
                        i += needed
                    }
                    i += 1
                }
            default: break
            }
            i += 1
        }
        return nil
    }

    /// Two operations of one name (or several with an anonymous one) and two fragments of one
    /// name are refused before the library's validation sees them: it keeps per-definition caches
    /// in dictionaries whose keys hash by identity but compare by value, and two equal definitions
    /// there can stop the process ("Duplicate keys … in a Dictionary"; found by `scripts/fuzz`).
    /// The GraphQL spec refuses such documents anyway (operation name uniqueness, lone anonymous
    /// operation, fragment name uniqueness).
    static func refuseRepeatedDefinitions(_ document: Document) throws(RequestFailure) {
        var operations = Set<String>()
        var anonymous = 0
        var count = 0
        var fragments = Set<String>()
        for definition in document.definitions {
            if let operation = definition as? OperationDefinition {
                count += 1
                if let name = operation.name?.value {
                    guard operations.insert(name).inserted else {
                        throw RequestFailure([
                            APIError(.validationFailed, "the document defines the operation \"\(name)\" more than once")
                        ])
                    }
                } else {
                    anonymous += 1
                }
            } else if let fragment = definition as? FragmentDefinition {
                guard fragments.insert(fragment.name.value).inserted else {
                    throw RequestFailure([
                        APIError(
                            .validationFailed,
                            "the document defines the fragment \"\(fragment.name.value)\" more than once")
                    ])
                }
            }
        }
        if anonymous > 0 && count > 1 {
            throw RequestFailure([
                APIError(.validationFailed, "an anonymous operation must be the only operation in the document")
            ])
        }
    }

    static func message(of error: any Error) -> String {
        (error as? GraphQLError)?.message ?? "\(error)"
    }
}

/// A request refused before execution: the HTTP status and the errors to answer with.
struct RequestFailure: Error, Sendable {
    var status: Int
    var errors: [GraphQLError]
    var retryAfter: Duration?
    /// The answer says `Connection: close` (the connection is not worth keeping: an oversize body).
    var closeConnection = false

    /// Refused with `error`; the status is the error's (``APIError/httpStatus``).
    init(_ error: APIError) {
        self.init([error])
    }

    /// Refused with `errors`; the status is the first error's.
    init(_ errors: [APIError]) {
        self.status = errors.first?.httpStatus ?? 400
        self.errors = errors.map { $0.graphQLError() }
        self.retryAfter = errors.compactMap(\.retryAfter).first
    }

    /// The HTTP exchange itself refused, answered with `error`.
    init(_ refusal: HTTPRefusal, _ error: APIError) {
        self.init([error])
        self.status = APIError.httpStatus(refusal)
    }

    /// Refused with errors built by GraphQL itself, all of one code.
    init(_ code: APIError.Code, graphQLErrors: [GraphQLError]) {
        self.status = APIError.httpStatus(code)
        self.errors = graphQLErrors
    }
}

/// Depth and cost of a selection set: every field costs 1, and the children of `deals` count as
/// many times as it may return items (`first`, default 20). Introspection fields count like any
/// other (an `ofType { ofType { … } }` chain is the classic deep query).
struct QueryMeasure {
    let fragments: [String: FragmentDefinition]
    let introspection: Bool

    func measure(_ set: SelectionSet) -> (depth: Int, complexity: Int, introspects: Bool) {
        var visiting: Set<String> = []
        return walk(set, &visiting)
    }

    private func walk(_ set: SelectionSet, _ visiting: inout Set<String>) -> (Int, Int, Bool) {
        var depth = 0
        var cost = 0
        var introspects = false
        for selection in set.selections {
            switch selection {
            case let field as Field:
                if field.name.value == "__typename" { continue }
                if field.name.value.hasPrefix("__") { introspects = true }
                var childDepth = 0
                var childCost = 0
                if let children = field.selectionSet {
                    let (d, c, i) = walk(children, &visiting)
                    childDepth = d
                    childCost = c
                    introspects = introspects || i
                }
                depth = max(depth, 1 + childDepth)
                cost += 1 + childCost * multiplier(field)
            case let spread as FragmentSpread:
                let name = spread.name.value
                guard let fragment = fragments[name], !visiting.contains(name) else { continue }
                visiting.insert(name)
                let (d, c, i) = walk(fragment.selectionSet, &visiting)
                visiting.remove(name)
                depth = max(depth, d)
                cost += c
                introspects = introspects || i
            case let inline as InlineFragment:
                let (d, c, i) = walk(inline.selectionSet, &visiting)
                depth = max(depth, d)
                cost += c
                introspects = introspects || i
            default:
                continue
            }
        }
        return (depth, cost, introspects)
    }

    private func multiplier(_ field: Field) -> Int {
        guard field.name.value == "deals" else { return 1 }
        if let argument = field.arguments.first(where: { $0.name.value == "first" }),
            let value = argument.value as? IntValue, let n = Int(value.value)
        {
            return max(1, min(n, 100))
        }
        return field.arguments.contains { $0.name.value == "first" } ? 100 : 20
    }
}

/// A bounded map with approximate least-recently-used eviction: two generations; when the young one
/// fills, the old one is dropped. Hits in the old generation move to the young one.
final class GenerationalCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct State {
        var young: [Key: Value] = [:]
        var old: [Key: Value] = [:]
    }
    private let state = Mutex(State())
    private let half: Int

    init(capacity: Int) { half = max(0, capacity / 2) }

    var count: Int { state.withLock { $0.young.count + $0.old.count } }

    func value(for key: Key) -> Value? {
        state.withLock { s in
            if let v = s.young[key] { return v }
            guard let v = s.old.removeValue(forKey: key) else { return nil }
            Self.put(&s, key, v, half)
            return v
        }
    }

    func insert(_ key: Key, _ value: Value) {
        guard half > 0 else { return }
        state.withLock { Self.put(&$0, key, value, half) }
    }

    private static func put(_ s: inout State, _ key: Key, _ value: Value, _ half: Int) {
        if s.young.count >= half {
            s.old = s.young
            s.young = [:]
        }
        s.young[key] = value
    }
}
