import GraphQL
import OrderedCollections

/// The `/graphql` request reader on its own — the POST body or the GET query string, read and
/// prepared (parsed and validated against the schema, limits applied) exactly as a request is,
/// without a server: what the fuzz targets drive with outside input.
public struct GraphQLRequestReader: Sendable {
    /// What reading a request came to.
    public enum Outcome: Equatable, Sendable {
        /// A request the gateway would run: its operation's root fields.
        case prepared(rootFields: [String])
        /// A request the gateway refuses before running it: the HTTP status it would answer and the
        /// first error's message.
        case refused(status: Int, message: String)
    }

    private let engine: GraphQLEngine

    public init(limits: GatewayConfiguration.GraphQLLimits = .init()) throws {
        engine = GraphQLEngine(schema: try GatewaySchema.make(api: nil), limits: limits)
    }

    /// A POST body (`application/json`).
    public func read(body: [UInt8]) -> Outcome {
        guard body.count <= engine.limits.maxBodyBytes else { return .refused(status: 413, message: "too large") }
        do {
            return try prepare(GraphQLHTTP.parameters(GraphQLHTTP.decode(body, what: "the body")))
        } catch {
            return Self.refused(error)
        }
    }

    /// A GET query string (`query=…&variables=…`).
    public func read(queryString: String) -> Outcome {
        let query = GraphQLHTTP.formParameters(queryString)
        do {
            var fields: OrderedDictionary<String, Map> = [:]
            if let text = query["query"] { fields["query"] = .string(text) }
            if let name = query["operationName"], !name.isEmpty { fields["operationName"] = .string(name) }
            if let raw = query["variables"], !raw.isEmpty {
                fields["variables"] = try GraphQLHTTP.decode(Array(raw.utf8), what: "variables")
            }
            return try prepare(GraphQLHTTP.parameters(.dictionary(fields)))
        } catch {
            return Self.refused(error)
        }
    }

    private static func refused(_ failure: RequestFailure) -> Outcome {
        .refused(status: failure.status, message: failure.errors.first?.message ?? "")
    }

    private func prepare(_ params: GraphQLHTTP.Parameters) throws(RequestFailure) -> Outcome {
        let text = try engine.queryText(query: params.query, extensions: params.extensions)
        let prepared = try engine.prepare(text)
        guard
            let operation = prepared.operations[params.operationName]
                ?? (params.operationName == nil && prepared.operations.count == 1
                    ? prepared.operations.values.first : nil)
        else { return .refused(status: 400, message: "no such operation") }
        if let compiled = operation.compiled { _ = compiled.coerce(params.variables) }
        return .prepared(rootFields: operation.rootFields)
    }
}
