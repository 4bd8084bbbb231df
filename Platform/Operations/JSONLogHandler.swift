import Foundation
public import Infrastructure
public import Logging
import Synchronization

/// One JSON object per line: `ts` (ISO 8601 UTC, milliseconds), `level`, `logger`, `message`,
/// `trace_id` and `span_id` when the line was logged inside a traced piece of work (``LogTrace``),
/// the call site (`source`, `file`, `line`) and the logger's and the line's metadata as further
/// fields. Promtail and Loki read these fields as they are (deploy/promtail.yaml).
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let sink: @Sendable (String) -> Void

    /// - Parameter sink: receives each line, without its newline (default: standard error).
    public init(
        label: String, level: Logger.Level = .info, metadataProvider: Logger.MetadataProvider? = nil,
        sink: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError
    ) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: Any] = [
            "ts": Self.timestamp(Date()), "level": event.level.rawValue, "logger": label,
            "message": event.message.description, "source": event.source,
            "file": (event.file as NSString).lastPathComponent, "line": Int(event.line),
        ]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        for (key, value) in merged where fields[key] == nil { fields[key] = Self.json(value) }
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return }
        sink(String(decoding: data, as: UTF8.self))
    }

    static func json(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let s): s
        case .stringConvertible(let c): c.description
        case .array(let values): values.map(json)
        case .dictionary(let values): values.mapValues(json)
        }
    }

    nonisolated(unsafe) private static let formatter: ISO8601DateFormatter = {  // used under formatterLock only
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
    private static let formatterLock = Mutex(())

    static func timestamp(_ date: Date) -> String {
        formatterLock.withLock { _ in formatter.string(from: date) }
    }

    private static let outputLock = Mutex(())

    /// Writes a line to standard error; lines from concurrent tasks never interleave.
    public static let standardError: @Sendable (String) -> Void = { line in
        outputLock.withLock { _ in FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }
}

/// The trace a piece of work belongs to, for its log lines: a W3C `traceparent`
/// (`00-<trace id>-<span id>-<flags>`) bound to the current task while the work runs.
public enum LogTrace {
    @TaskLocal public static var traceparent: String?

    /// Adds `trace_id` and `span_id` to every line logged while a `traceparent` is bound.
    public static let metadataProvider = Logger.MetadataProvider {
        guard let value = traceparent else { return [:] }
        let parts = value.split(separator: "-")
        guard parts.count == 4, parts[1].count == 32, parts[2].count == 16 else { return [:] }
        return ["trace_id": .string(String(parts[1])), "span_id": .string(String(parts[2]))]
    }
}

/// How both processes log: `LOG_FORMAT` (`json`, the default, or `text` for a terminal) and
/// `LOG_LEVEL` (`trace` … `critical`, default `info`).
public enum FlashDealLogging {
    public typealias Invalid = ConfigurationError

    /// Installs the process's log handler; call once, before the first logger is made.
    /// - Returns: the configured level.
    @discardableResult
    public static func bootstrap(environment: [String: String]) throws -> Logger.Level {
        let level: Logger.Level
        if let raw = environment["LOG_LEVEL"], !raw.isEmpty {
            guard let parsed = Logger.Level(rawValue: raw.lowercased()) else {
                throw Invalid(
                    "LOG_LEVEL must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got \(raw.debugDescription)",
                    setting: "LOG_LEVEL")
            }
            level = parsed
        } else {
            level = .info
        }
        switch environment["LOG_FORMAT"]?.lowercased() ?? "json" {
        case "json":
            LoggingSystem.bootstrap(
                { label, provider in JSONLogHandler(label: label, level: level, metadataProvider: provider) },
                metadataProvider: LogTrace.metadataProvider)
        case "text":
            LoggingSystem.bootstrap(
                { label, provider in
                    var handler = StreamLogHandler.standardError(label: label, metadataProvider: provider)
                    handler.logLevel = level
                    return handler
                }, metadataProvider: LogTrace.metadataProvider)
        case let other:
            throw Invalid("LOG_FORMAT must be json or text, got \(other.debugDescription)", setting: "LOG_FORMAT")
        }
        return level
    }
}
