public import Logging
import Synchronization

/// A log handler that keeps every message it is given and passes it on, so a test waits for what a
/// component logged (an observed event) instead of sleeping and hoping it has happened.
public struct RecordingLogHandler: LogHandler {
    /// The messages logged so far, shared by every logger made with it.
    public final class Record: Sendable {
        private let messages = Mutex<[String]>([])
        public init() {}
        func append(_ message: String) { messages.withLock { $0.append(message) } }
        public func contains(_ text: String) -> Bool { messages.withLock { $0.contains { $0.contains(text) } } }
    }

    private let record: Record
    private var inner: any LogHandler

    public init(record: Record, passingTo inner: any LogHandler) {
        self.record = record
        self.inner = inner
    }

    public var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        record.append(event.message.description)
        inner.log(event: event)
    }
}
