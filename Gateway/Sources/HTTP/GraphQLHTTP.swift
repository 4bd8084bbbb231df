import Credentials
import Domain
import Foundation
import GraphQL
import HTTPTypes
public import Hummingbird
import Logging
import NIOCore
import Operations
import OrderedCollections
import RateLimiting
import ServiceContextModule
import Tracing

/// The gateway's request context: Hummingbird's core storage plus the peer address.
public struct GatewayRequestContext: Hummingbird.RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The connection, closed by the gateway itself after refusing a body too large to read to its end.
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }
}

/// GraphQL over HTTP (the GraphQL-over-HTTP specification): `POST /graphql` with a JSON body,
/// `GET /graphql?query=…` for queries, answers in `application/graphql-response+json` (or
/// `application/json` for clients that ask only for that).
///
/// Statuses with `application/graphql-response+json`: 200 when the operation ran (field errors
/// included), 400 for a request that cannot run (bad JSON, parse or validation errors, bad
/// variables, limits), 401 for a bad or missing token where one is needed, 405 for a mutation
/// over GET, 406 for an unacceptable `Accept`, 413 for an oversize body, 415 for a wrong content
/// type, 429/503 with `Retry-After` when the rate limiter or back-pressure refused the only
/// operation in the request. With `application/json`, every well-formed request gets 200.
struct GraphQLHTTP: Sendable {
    static let graphQLResponse = "application/graphql-response+json; charset=utf-8"
    static let legacyJSON = "application/json; charset=utf-8"

    let engine: GraphQLEngine
    let authenticator: ShopperAuthenticator
    let addresses: ClientAddressResolver
    let metrics: GatewayMetrics
    /// Where internal errors go: every 500 and every field answered INTERNAL is logged with the
    /// request's trace, and its detail never reaches the client.
    let logger: Logger

    func register(on router: Router<GatewayRequestContext>) {
        router.post("graphql") { request, context in await self.handle(request, context, method: .post) }
        router.get("graphql") { request, context in await self.handle(request, context, method: .get) }
    }

    /// One request, in a server span (named `mutation createOrder` once the operation is known)
    /// that continues the caller's `traceparent` when tracing is on.
    func handle(_ request: Request, _ context: GatewayRequestContext, method: HTTPRequest.Method) async -> Response {
        let parent = FlashDealTracing.context(
            traceparent: request.headers[.traceparent],
            tracestate: request.headers[.tracestate])
        guard let span = FlashDealTracing.start("\(method.rawValue) /graphql", kind: .server, context: parent) else {
            return await handle(request, context, method: method, span: nil)
        }
        let response = await ServiceContext.withValue(span.context) {
            await handle(request, context, method: method, span: span)
        }
        if span.isRecording {
            span.updateAttributes { attributes in
                attributes["http.request.method"] = method.rawValue
                attributes["http.route"] = "/graphql"
                attributes["url.path"] = "/graphql"
                attributes["http.response.status_code"] = response.status.code
            }
            if response.status.code >= 500 { span.setStatus(.init(code: .error)) }
        }
        span.end()
        return response
    }

    func handle(
        _ request: Request, _ context: GatewayRequestContext, method: HTTPRequest.Method,
        span: (any Span)?
    ) async -> Response {
        let started = ContinuousClock.now
        let accept = request.headers[.accept]
        guard let mediaType = Self.negotiate(accept) else {
            return finish(
                started, status: 406, mediaType: Self.graphQLResponse,
                errors: [
                    APIError(.badRequest, "Accept must allow application/graphql-response+json or application/json")
                        .graphQLError()
                ])
        }
        let legacy = mediaType == Self.legacyJSON
        do {
            let params = try await parameters(request, method: method, context: context)
            let text = try engine.queryText(query: params.query, extensions: params.extensions)
            let prepared = try engine.prepare(text)
            guard
                let operation = prepared.operations[params.operationName]
                    ?? (params.operationName == nil && prepared.operations.count == 1
                        ? prepared.operations.values.first : nil)
            else {
                let message =
                    params.operationName.map { "no operation named \"\($0)\" in the document" }
                    ?? "the document has several operations: send operationName"
                throw RequestFailure(status: 400, error: APIError(.badRequest, message))
            }
            if method == .get && operation.isMutation {
                var response = finish(
                    started, status: 405, mediaType: mediaType,
                    errors: [APIError(.badRequest, "mutations must be sent with POST").graphQLError()])
                response.headers[.allow] = "POST"
                return response
            }
            if let span, span.isRecording {
                // Named by the root field, not the client's operation name: span names stay low-cardinality.
                let type = operation.isMutation ? "mutation" : "query"
                let roots = operation.rootFields.joined(separator: ",")
                span.operationName = "\(type) \(roots)"
                span.updateAttributes { attributes in
                    attributes["graphql.operation.type"] = type
                    if let name = params.operationName { attributes["graphql.operation.name"] = name }
                    attributes[FlashDealSpanAttribute.operation] = roots
                }
            }
            let user = try await authenticator.user(authorization: request.headers[.authorization])
            let clientIP = addresses.resolve(
                socketAddress: context.remoteAddress?.ipAddress ?? "",
                forwardedFor: request.headers[.xForwardedFor])
            var headers: [String: String] = [:]
            for field in request.headers where Self.forwardedToPolicies.contains(field.name.canonicalName) {
                headers[field.name.canonicalName] = field.value
            }
            let requestContext = CallContext(
                userId: user, clientIP: clientIP, headers: headers,
                traceparent: span.flatMap { FlashDealTracing.traceparent(of: $0.context) }
                    ?? TraceContext.traceparent(from: request.headers[.traceparent]))
            let result: GraphQLResult
            do {
                // Log lines of this request carry its trace (the one its OrderRequested carries on).
                result = try await LogTrace.$traceparent.withValue(requestContext.traceparent) {
                    try await execute(
                        schema: engine.schema, documentAST: prepared.document, rootValue: (),
                        context: requestContext, variableValues: params.variables,
                        operationName: params.operationName)
                }
            } catch {
                throw RequestFailure(status: 400, error: APIError(.badRequest, GraphQLEngine.message(of: error)))
            }
            let answered = ContinuousClock.now - started
            return respond(
                result, operation: operation, context: requestContext, mediaType: mediaType, legacy: legacy,
                started: started, answered: answered)
        } catch let failure as RequestFailure {
            var response = finish(
                started,
                status: legacy && failure.status != 413 && failure.status != 415
                    ? (failure.status >= 500 || failure.status == 429 ? failure.status : 200) : failure.status,
                mediaType: mediaType, errors: failure.errors)
            if let retryAfter = failure.retryAfter {
                response.headers[.retryAfter] = String(Int(retryAfter.seconds.rounded(.up)))
            }
            if failure.status == 401 { response.headers[.wwwAuthenticate] = "Bearer" }
            if failure.closeConnection { response.headers[.connection] = "close" }
            return response
        } catch {
            let traceparent =
                span.flatMap { FlashDealTracing.traceparent(of: $0.context) }
                ?? TraceContext.traceparent(from: request.headers[.traceparent])
            LogTrace.$traceparent.withValue(traceparent) {
                logger.error("request failed with an internal error; answered 500", metadata: ["error": "\(error)"])
            }
            return finish(
                started, status: 500, mediaType: mediaType,
                errors: [APIError(.internalError, "internal error").graphQLError()])
        }
    }

    static let forwardedToPolicies: Set<String> = ["x-api-key", "user-agent"]

    // MARK: Request

    struct Parameters {
        var query: String?
        var operationName: String?
        var variables: [String: Map]
        var extensions: Map?
    }

    func parameters(_ request: Request, method: HTTPRequest.Method, context: GatewayRequestContext)
        async throws(RequestFailure)
        -> Parameters
    {
        if method == .get {
            let query = Self.formParameters(request.uri.query ?? "")
            var fields: OrderedDictionary<String, Map> = [:]
            if let text = query["query"] { fields["query"] = .string(String(text)) }
            if let name = query["operationName"], !name.isEmpty { fields["operationName"] = .string(String(name)) }
            if let raw = query["variables"], !raw.isEmpty {
                fields["variables"] = try Self.decode(Array(raw.utf8), what: "variables")
            }
            if let raw = query["extensions"], !raw.isEmpty {
                fields["extensions"] = try Self.decode(Array(raw.utf8), what: "extensions")
            }
            return try Self.parameters(.dictionary(fields))
        }
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard mediaType == "application/json" || mediaType == "application/graphql+json" else {
            throw RequestFailure(
                status: 415,
                error: APIError(
                    .badRequest,
                    "Content-Type must be application/json, not \(contentType.isEmpty ? "(none)" : contentType)"))
        }
        let body = try await self.body(of: request, context: context)
        return try Self.parameters(try Self.decode(body.readableBytesView, what: "the body"))
    }

    /// Bytes of an oversize body the gateway reads and drops before it answers 413: a client sends its
    /// whole body before it reads the answer, and Hummingbird stops reading a connection whose client
    /// asked to close it once the answer is written — so without this drain such a client waits
    /// forever. Either way the gateway closes the connection shortly after the answer.
    static let drainLimit = 16 * 1_024 * 1_024

    /// The request body, at most `graphQL.maxBodyBytes`; a larger one is answered 413 with
    /// `Connection: close`, after the rest is read and dropped (up to ``drainLimit``).
    func body(of request: Request, context: GatewayRequestContext) async throws(RequestFailure) -> ByteBuffer {
        let limit = engine.limits.maxBodyBytes
        var collected = ByteBuffer()
        var received = 0
        var drained = true
        let declared = request.headers[.contentLength].flatMap { Int($0) } ?? 0
        if declared > limit + Self.drainLimit {
            drained = false
            received = declared
        } else {
            do {
                for try await chunk in request.body {
                    received += chunk.readableBytes
                    if received <= limit {
                        collected.writeImmutableBuffer(chunk)
                    } else if received > limit + Self.drainLimit {
                        drained = false
                        break
                    }
                }
            } catch {
                throw RequestFailure(status: 400, error: APIError(.badRequest, "the body could not be read to its end"))
            }
        }
        guard received > limit else { return collected }
        // The answer says `Connection: close`; Hummingbird only closes when the request asked it to.
        // A second is the client's to read the answer (drained, it has finished sending).
        let channel = context.channel
        channel.eventLoop.scheduleTask(in: drained ? .milliseconds(500) : .seconds(1)) { channel.close(promise: nil) }
        var failure = RequestFailure(
            status: 413,
            error: APIError(
                .queryTooLarge, "the body is larger than \(limit) bytes", numbers: ["maxBodyBytes": Double(limit)]))
        failure.closeConnection = true
        throw failure
    }

    /// The query string as `application/x-www-form-urlencoded` (GraphQL over HTTP, GET): `+` is a
    /// space, `%XX` a byte; the first occurrence of a name wins.
    static func formParameters(_ raw: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let name = decode(parts[0])
            if result[name] == nil { result[name] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return result
    }

    static func parameters(_ body: Map) throws(RequestFailure) -> Parameters {
        guard case .dictionary(let object) = body else {
            throw RequestFailure(status: 400, error: APIError(.badRequest, "the body must be a JSON object"))
        }
        var params = Parameters(query: nil, operationName: nil, variables: [:], extensions: nil)
        switch object["query"] ?? .undefined {
        case .undefined, .null: break
        case .string(let text): params.query = text
        default: throw RequestFailure(status: 400, error: APIError(.badRequest, "`query` must be a string"))
        }
        switch object["operationName"] ?? .undefined {
        case .undefined, .null: break
        case .string(let text): params.operationName = text.isEmpty ? nil : text
        default: throw RequestFailure(status: 400, error: APIError(.badRequest, "`operationName` must be a string"))
        }
        switch object["variables"] ?? .undefined {
        case .undefined, .null: break
        case .dictionary(let map): params.variables = Dictionary(uniqueKeysWithValues: map.map { ($0.key, $0.value) })
        default: throw RequestFailure(status: 400, error: APIError(.badRequest, "`variables` must be an object"))
        }
        switch object["extensions"] ?? .undefined {
        case .undefined, .null: break
        case .dictionary: params.extensions = object["extensions"]
        default: throw RequestFailure(status: 400, error: APIError(.badRequest, "`extensions` must be an object"))
        }
        return params
    }

    static func decode(_ bytes: some Collection<UInt8>, what: String) throws(RequestFailure) -> Map {
        do { return try MapJSON.parse(bytes) } catch {
            throw RequestFailure(status: 400, error: APIError(.badRequest, "\(what) is not well-formed JSON"))
        }
    }

    /// The media type to answer with, or nil when the client accepts neither.
    static func negotiate(_ accept: String?) -> String? {
        guard let accept, !accept.trimmingCharacters(in: .whitespaces).isEmpty else { return graphQLResponse }
        let types = accept.lowercased().split(separator: ",").map {
            $0.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        }
        if types.contains(where: { $0 == "application/graphql-response+json" || $0 == "*/*" || $0 == "application/*" })
        {
            return graphQLResponse
        }
        if types.contains("application/json") { return legacyJSON }
        return nil
    }

    // MARK: Response

    func respond(
        _ result: GraphQLResult, operation: GraphQLEngine.Operation, context: CallContext, mediaType: String,
        legacy: Bool, started: ContinuousClock.Instant, answered: Duration
    ) -> Response {
        let errors = result.errors.map { Self.present($0, logger: logger) }
        let apiErrors = result.errors.compactMap { $0.originalError as? APIError }
        for field in operation.rootFields {
            let failed = result.errors.first {
                $0.path.elements.first.map { "\($0)" } == field || Self.rootName($0) == field
            }
            let outcome = (failed?.originalError as? APIError)?.code.rawValue ?? (failed == nil ? "ok" : "ERROR")
            metrics.operation(field, outcome: outcome, duration: answered)
        }
        // Execution started (a resolver ran) unless every error is a request error without a path.
        let executed = result.data != nil || result.errors.contains { !$0.path.elements.isEmpty }
        var status = 200
        if !executed {
            status = legacy ? 200 : 400
        } else if let only = apiErrors.first, apiErrors.count == result.errors.count, Self.allRootsNull(result.data),
            !legacy || only.httpStatus >= 429
        {
            status = only.httpStatus
        }
        let body = MapJSON.response(data: executed ? (result.data ?? .null) : nil, errors: errors)
        var response = Response(
            status: .init(code: status), headers: [.contentType: mediaType],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
        let decisions = context.decisions
        if let shown = decisions.first(where: { $0.outcome != .allowed }) ?? decisions.first {
            for (name, value) in shown.headers {
                if let field = HTTPField.Name(name) { response.headers[field] = value }
            }
        }
        if response.headers[.retryAfter] == nil, let retry = apiErrors.compactMap(\.retryAfter).first, status >= 429 {
            response.headers[.retryAfter] = String(Int(retry.seconds.rounded(.up)))
        }
        if status == 401 { response.headers[.wwwAuthenticate] = "Bearer" }
        metrics.request(status: status, duration: ContinuousClock.now - started)
        return response
    }

    static func rootName(_ error: GraphQLError) -> String? {
        guard let first = error.path.elements.first else { return nil }
        if case .key(let key) = first { return key }
        return nil
    }

    static func allRootsNull(_ data: Map?) -> Bool {
        guard case .dictionary(let fields)? = data else { return true }  // nil or null: nothing came back
        return fields.values.allSatisfy { if case .null = $0 { true } else { false } }
    }

    /// A resolver's ``APIError`` keeps its location and path and gains its `extensions`; anything
    /// else a resolver threw is logged (inside the request's trace) and answered "internal error".
    static func present(_ error: GraphQLError, logger: Logger) -> GraphQLError {
        if let api = error.originalError as? APIError {
            return GraphQLError(
                message: api.message, locations: error.locations, path: error.path,
                extensions: api.extensions)
        }
        if error.extensions["code"] != nil { return error }
        if error.originalError == nil {
            // Variable coercion and operation selection errors (the request could not run).
            return GraphQLError(
                message: error.message, locations: error.locations, path: error.path,
                extensions: ["code": .string(APIError.Code.badRequest.rawValue), "retryable": .bool(false)])
        }
        logger.error(
            "a field failed with an internal error; answered INTERNAL",
            metadata: ["path": "\(error.path)", "error": "\(error.originalError.map { "\($0)" } ?? error.message)"])
        return GraphQLError(
            message: "internal error", locations: error.locations, path: error.path,
            extensions: [
                "code": .string(APIError.Code.internalError.rawValue),
                "retryable": .bool(APIError.defaultRetryable(.internalError)),
            ])
    }

    func finish(_ started: ContinuousClock.Instant, status: Int, mediaType: String, errors: [GraphQLError]) -> Response
    {
        let body = MapJSON.response(data: nil, errors: errors)
        metrics.request(status: status, duration: ContinuousClock.now - started)
        return Response(
            status: .init(code: status), headers: [.contentType: mediaType],
            body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension HTTPField.Name {
    static let traceparent = Self("traceparent")!
    static let tracestate = Self("tracestate")!
    static let xForwardedFor = Self("X-Forwarded-For")!
}
