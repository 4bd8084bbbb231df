public import Foundation

extension DomainEvent {
    /// Stable JSON: sorted keys, no whitespace, timestamps as `2026-11-25T10:00:00.123Z`.
    /// `OrderRequested`, written on every accepted order, is written directly
    /// (``OrderRequested/canonicalJSON()``); the others go through `JSONEncoder`.
    public func jsonData() -> Data {
        if case .orderRequested(let event) = self { return Data(event.canonicalJSON()) }
        return foundationJSONData()
    }

    /// The event through `JSONEncoder` (the reference the direct writer is tested against).
    public func foundationJSONData() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(self)
        } catch {
            // Events hold only strings and integers, which JSONEncoder always accepts.
            preconditionFailure("encoding \(type.rawValue) failed: \(error)")
        }
    }

    public func jsonString() -> String { String(decoding: jsonData(), as: UTF8.self) }

    /// Reads one event, reporting precisely why a message is unusable (the caller routes such
    /// messages to a dead-letter queue). Unknown extra fields are ignored.
    public static func decode(_ data: Data) throws(EventDecodingError) -> DomainEvent {
        let decoder = JSONDecoder()
        let typeName: String
        do {
            guard let name = try decoder.decode(TypeProbe.self, from: data).type else {
                throw EventDecodingError.missingType
            }
            typeName = name
        } catch let error as EventDecodingError {
            throw error
        } catch {
            throw EventDecodingError(error, type: nil)
        }
        guard let type = DomainEventType(rawValue: typeName) else { throw .unknownType(typeName) }
        do {
            guard let version = try decoder.decode(VersionProbe.self, from: data).schemaVersion else {
                throw EventDecodingError.missingField(type: typeName, field: "schemaVersion")
            }
            guard DomainEventType.supportedSchemaVersions.contains(version) else {
                throw EventDecodingError.unsupportedSchemaVersion(
                    type: typeName, version: version, supported: DomainEventType.supportedSchemaVersions)
            }
            decoder.userInfo[PayloadProbe.eventTypeKey] = type
            return try decoder.decode(PayloadProbe.self, from: data).event
        } catch let error as EventDecodingError {
            throw error
        } catch {
            throw EventDecodingError(error, type: typeName)
        }
    }

    public static func decode(_ json: String) throws(EventDecodingError) -> DomainEvent {
        try decode(Data(json.utf8))
    }
}

private struct TypeProbe: Decodable {
    let type: String?
}

private struct VersionProbe: Decodable {
    let schemaVersion: Int?
}

/// Decodes the payload whose type was already determined and passed in through `userInfo`.
private struct PayloadProbe: Decodable {
    static let eventTypeKey = CodingUserInfoKey(rawValue: "flashdeal.eventType")!
    let event: DomainEvent

    init(from decoder: any Decoder) throws {
        guard let type = decoder.userInfo[Self.eventTypeKey] as? DomainEventType else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "event type not provided"))
        }
        event = try DomainEvent.decodePayload(type, from: decoder)
    }
}

/// Why a message is not a usable event. Never retryable: the same bytes fail the same way.
public enum EventDecodingError: DomainError {
    case malformedJSON(String)
    case missingType
    case unknownType(String)
    case unsupportedSchemaVersion(type: String, version: Int, supported: [Int])
    case missingField(type: String?, field: String)
    case invalidField(type: String?, field: String, reason: String)

    public var description: String {
        switch self {
        case .malformedJSON(let detail): "event is not a JSON object: \(detail)"
        case .missingType: "event has no \"type\" field"
        case .unknownType(let type): "unknown event type \(type.debugDescription)"
        case .unsupportedSchemaVersion(let type, let version, let supported):
            "\(type) schemaVersion \(version) is not supported (supported: \(supported.map(String.init).joined(separator: ", ")))"
        case .missingField(let type, let field): "\(type ?? "event") is missing required field \"\(field)\""
        case .invalidField(let type, let field, let reason): "\(type ?? "event") has invalid \"\(field)\": \(reason)"
        }
    }

    init(_ error: any Error, type: String?) {
        guard let decodingError = error as? DecodingError else {
            self = .malformedJSON(String(describing: error))
            return
        }
        func path(_ context: DecodingError.Context, appending key: (any CodingKey)? = nil) -> String {
            (context.codingPath + (key.map { [$0] } ?? [])).map { $0.intValue.map(String.init) ?? $0.stringValue }
                .joined(separator: ".")
        }
        switch decodingError {
        case .keyNotFound(let key, let context):
            self = .missingField(type: type, field: path(context, appending: key))
        case .valueNotFound(_, let context):
            self = .missingField(type: type, field: path(context))
        case .typeMismatch(_, let context) where context.codingPath.isEmpty,
            .dataCorrupted(let context) where context.codingPath.isEmpty:
            self = .malformedJSON(context.debugDescription)
        case .typeMismatch(_, let context), .dataCorrupted(let context):
            self = .invalidField(type: type, field: path(context), reason: context.debugDescription)
        @unknown default:
            self = .malformedJSON(String(describing: decodingError))
        }
    }
}
