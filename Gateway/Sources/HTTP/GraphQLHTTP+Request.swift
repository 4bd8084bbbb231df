import Credentials
import Domain
import Foundation
import GraphQL
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Operations
import OrderedCollections
import RateLimiting
import ServiceContextModule
import Tracing

/// Reading a GraphQL request: GET query parameters or a POST body (JSON, or form-encoded), within the size limit.
extension GraphQLHTTP {
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
                .unsupportedMediaType,
                APIError(
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
                throw RequestFailure(APIError(.badRequest, "the body could not be read to its end"))
            }
        }
        guard received > limit else { return collected }
        // The answer says `Connection: close`; Hummingbird only closes when the request asked it to.
        // A second is the client's to read the answer (drained, it has finished sending).
        let channel = context.channel
        channel.eventLoop.scheduleTask(in: drained ? .milliseconds(500) : .seconds(1)) { channel.close(promise: nil) }
        var failure = RequestFailure(
            APIError(
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
            throw RequestFailure(APIError(.badRequest, "the body must be a JSON object"))
        }
        var params = Parameters(query: nil, operationName: nil, variables: [:], extensions: nil)
        switch object["query"] ?? .undefined {
        case .undefined, .null: break
        case .string(let text): params.query = text
        default: throw RequestFailure(APIError(.badRequest, "`query` must be a string"))
        }
        switch object["operationName"] ?? .undefined {
        case .undefined, .null: break
        case .string(let text): params.operationName = text.isEmpty ? nil : text
        default: throw RequestFailure(APIError(.badRequest, "`operationName` must be a string"))
        }
        switch object["variables"] ?? .undefined {
        case .undefined, .null: break
        case .dictionary(let map): params.variables = Dictionary(uniqueKeysWithValues: map.map { ($0.key, $0.value) })
        default: throw RequestFailure(APIError(.badRequest, "`variables` must be an object"))
        }
        switch object["extensions"] ?? .undefined {
        case .undefined, .null: break
        case .dictionary: params.extensions = object["extensions"]
        default: throw RequestFailure(APIError(.badRequest, "`extensions` must be an object"))
        }
        return params
    }

    static func decode(_ bytes: some Collection<UInt8>, what: String) throws(RequestFailure) -> Map {
        do { return try MapJSON.parse(bytes) } catch {
            throw RequestFailure(APIError(.badRequest, "\(what) is not well-formed JSON"))
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
}
