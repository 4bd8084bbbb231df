internal import CRdKafka
import Logging
import Synchronization

/// librdkafka's own log lines, through swift-log (so they are JSON lines like every other) instead
/// of raw `%3|…` lines on standard error. Every client made by ``RDKafka/makeConf(_:)`` logs here.
///
/// A client whose broker is down repeats the same complaint on every reconnect attempt, for as long
/// as the outage lasts, and every client in the process does so at once. So one client's lines of
/// one facility (FAIL, ERROR, …) are logged at most once per ``window``; the next one that gets
/// through says how many were held back.
enum RDKafkaLog {
    static let window: Duration = .seconds(10)
    static let logger = Logger(label: "flashdeal.kafka.librdkafka")

    private struct Slot {
        var last: ContinuousClock.Instant
        var suppressed: Int
    }

    private static let slots = Mutex<[String: Slot]>([:])

    /// syslog severities, as librdkafka uses them.
    static func level(_ syslog: Int32) -> Logger.Level {
        switch syslog {
        case ...2: .critical
        case 3: .error
        case 4: .warning
        case 5: .notice
        case 6: .info
        default: .debug
        }
    }

    /// Whether a line of `client`/`facility` may be logged now, and how many were held back since the last.
    static func admit(client: String, facility: String, at now: ContinuousClock.Instant) -> (Bool, Int) {
        slots.withLock { slots in
            let key = client + "|" + facility
            if var slot = slots[key], now - slot.last < window {
                slot.suppressed += 1
                slots[key] = slot
                return (false, 0)
            }
            let suppressed = slots[key]?.suppressed ?? 0
            slots[key] = Slot(last: now, suppressed: 0)
            if slots.count > 4_096 { slots = slots.filter { now - $0.value.last < window } }
            return (true, suppressed)
        }
    }

    static let callback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void =
        {
            rk, syslog, fac, buf in
            let level = RDKafkaLog.level(syslog)
            guard RDKafkaLog.logger.logLevel <= level else { return }
            let client = rk.flatMap { rd_kafka_name($0) }.map { String(cString: $0) } ?? "?"
            let facility = fac.map { String(cString: $0) } ?? "?"
            let (admitted, suppressed) = RDKafkaLog.admit(client: client, facility: facility, at: .now)
            guard admitted else { return }
            var metadata: Logger.Metadata = ["client": "\(client)", "facility": "\(facility)"]
            if suppressed > 0 { metadata["suppressedSince"] = "\(suppressed)" }
            RDKafkaLog.logger.log(level: level, "\(buf.map { String(cString: $0) } ?? "")", metadata: metadata)
        }
}
