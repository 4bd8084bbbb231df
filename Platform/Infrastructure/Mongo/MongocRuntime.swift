internal import CMongoc
import Logging

/// Process-wide libmongoc set-up: `mongoc_init()` exactly once, and libmongoc's log lines routed to
/// swift-log (label `flashdeal.mongoc`) instead of straight to stderr.
///
/// `mongoc_cleanup()` is deliberately never called: it may only run once no libmongoc object exists
/// anywhere in the process, which a library cannot know; the OS reclaims the rest at exit.
enum MongocRuntime {
    /// Touch before the first libmongoc call; Swift runs the initialiser once, thread-safely.
    static let initialized: Void = {
        mongoc_log_set_handler(
            { level, domain, message, _ in
                MongocRuntime.forward(level: level, domain: domain, message: message)
            }, nil)
        mongoc_init()
    }()

    private static let logger = Logger(label: "flashdeal.mongoc")

    private static func forward(
        level: mongoc_log_level_t, domain: UnsafePointer<CChar>?,
        message: UnsafePointer<CChar>?
    ) {
        let swiftLevel: Logger.Level
        switch level {
        case MONGOC_LOG_LEVEL_ERROR, MONGOC_LOG_LEVEL_CRITICAL: swiftLevel = .error
        case MONGOC_LOG_LEVEL_WARNING: swiftLevel = .warning
        case MONGOC_LOG_LEVEL_MESSAGE, MONGOC_LOG_LEVEL_INFO: swiftLevel = .debug
        default: return  // debug and trace: far too chatty
        }
        logger.log(
            level: swiftLevel, "\(message.map { String(cString: $0) } ?? "")",
            metadata: ["domain": "\(domain.map { String(cString: $0) } ?? "mongoc")"])
    }
}
