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

    /// `Authorization`, or for a GET (a query: no mutation is served over GET) the shopper pages'
    /// sign-in cookie, so that a page's script can poll without seeing the token.
    static func authorization(_ request: Request, method: HTTPRequest.Method) -> String? {
        if let header = request.headers[.authorization] { return header }
        guard method == .get, let cookie = request.headers[.cookie],
            let token = ShopperPages.cookies(cookie)[ShopperPages.tokenCookie], !token.isEmpty
        else { return nil }
        return "Bearer \(token)"
    }

    func handle(
        _ request: Request, _ context: GatewayRequestContext, method: HTTPRequest.Method,
        span: (any Span)?
    ) async -> Response {
        let started = ContinuousClock.now
        let accept = request.headers[.accept]
        guard let mediaType = Self.negotiate(accept) else {
            return finish(
                started, status: APIError.httpStatus(.notAcceptable), mediaType: Self.graphQLResponse,
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
                throw RequestFailure(APIError(.badRequest, message))
            }
            if method == .get && operation.isMutation {
                var response = finish(
                    started, status: APIError.httpStatus(.methodNotAllowed), mediaType: mediaType,
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
            let caller = try await authenticator.caller(authorization: Self.authorization(request, method: method))
            let clientIP = addresses.resolve(
                socketAddress: context.remoteAddress?.ipAddress ?? "",
                forwardedFor: request.headers[.xForwardedFor])
            var headers: [String: String] = [:]
            for field in request.headers where Self.forwardedToPolicies.contains(field.name.canonicalName) {
                headers[field.name.canonicalName] = field.value
            }
            let requestContext = CallContext(
                userId: caller?.user, isOperator: caller?.isOperator ?? false, clientIP: clientIP, headers: headers,
                traceparent: span.flatMap { FlashDealTracing.traceparent(of: $0.context) }
                    ?? TraceContext.traceparent(from: request.headers[.traceparent]))
            let result: GraphQLResult
            if let compiled = operation.compiled, let api = engine.api,
                let variables = compiled.coerce(params.variables)
            {
                metrics.execution(compiled: true)
                let answer = await LogTrace.$traceparent.withValue(requestContext.traceparent) {
                    await compiled.run(api: api, variables: variables, context: requestContext)
                }
                switch answer {
                case .body(let body):
                    let answered = ContinuousClock.now - started
                    for field in operation.rootFields { metrics.operation(field, outcome: "ok", duration: answered) }
                    return response(
                        status: 200, body: body, mediaType: mediaType, context: requestContext, apiErrors: [],
                        started: started)
                case .result(let answered): result = answered
                }
            } else {
                metrics.execution(compiled: false)
                do {
                    // Log lines of this request carry its trace (the one its OrderRequested carries on).
                    result = try await LogTrace.$traceparent.withValue(requestContext.traceparent) {
                        try await execute(
                            schema: engine.schema, documentAST: prepared.document, rootValue: (),
                            context: requestContext, variableValues: params.variables,
                            operationName: params.operationName)
                    }
                } catch {
                    throw RequestFailure(APIError(.badRequest, GraphQLEngine.message(of: error)))
                }
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
                started, status: APIError.httpStatus(.internalError), mediaType: mediaType,
                errors: [APIError(.internalError, "internal error").graphQLError()])
        }
    }

    static let forwardedToPolicies: Set<String> = ["x-api-key", "user-agent"]

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
        return response(
            status: status, body: body, mediaType: mediaType, context: context, apiErrors: apiErrors, started: started)
    }

    /// The answer's headers (rate-limit headers of the decision shown, Retry-After, WWW-Authenticate)
    /// and the request metric, for a body already written.
    func response(
        status: Int, body: [UInt8], mediaType: String, context: CallContext, apiErrors: [APIError],
        started: ContinuousClock.Instant
    ) -> Response {
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
