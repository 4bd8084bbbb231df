internal import CRdKafka
import Foundation
public import Logging
import Synchronization

/// A consumer in a group with at-least-once delivery controlled by the application:
/// offsets are stored only through ``storeOffsets(_:)`` once a message's effects are durable, and
/// stored offsets are committed in the background, on ``commit()``, before a rebalance takes
/// partitions away, and on ``close()``.
///
/// Polling runs on a serial Dispatch queue of its own; rebalances are served by the same polls.
public final class KafkaConsumer: Sendable {
    public let configuration: KafkaConsumerConfiguration
    private let handle: ConsumerHandle
    private let pollQueue = DispatchQueue(label: "flashdeal.kafka.consumer.poll")
    private let executor = BlockingExecutor(label: "flashdeal.kafka.consumer")
    private let logger: Logger

    /// Creates the consumer and subscribes it to `topics`. Joining the group happens in the first polls.
    public init(
        configuration: KafkaConsumerConfiguration, topics: [String],
        logger: Logger = Logger(label: "flashdeal.kafka.consumer")
    ) throws(KafkaError) {
        try RDKafka.checkVersion()
        self.configuration = configuration
        self.logger = logger
        let state = ConsumerState(logger: logger)
        let conf = try RDKafka.makeConf(configuration.properties)
        rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(state).toOpaque())
        let rk = try RDKafka.makeClient(RD_KAFKA_CONSUMER, conf: conf)
        rd_kafka_poll_set_consumer(rk)
        self.handle = ConsumerHandle(rk: rk, state: state)
        try handle.subscribe(topics)
    }

    /// Up to `maxMessages` messages, waiting at most `timeout` for the first one. An empty array means
    /// nothing arrived in time.
    public func poll(maxMessages: Int = 500, timeout: Duration = .milliseconds(100)) async throws(KafkaError)
        -> [KafkaMessage]
    {
        let handle = self.handle
        let timeoutMs = Int32(wholeMilliseconds(timeout))
        let result: Result<[KafkaMessage], KafkaError> = await withCheckedContinuation { continuation in
            pollQueue.async {
                continuation.resume(
                    returning: Result { () throws(KafkaError) in
                        try handle.poll(maxMessages: maxMessages, timeoutMilliseconds: timeoutMs)
                    })
            }
        }
        return try result.get()
    }

    /// Marks these messages as processed: the group resumes after the highest offset per partition.
    /// Messages of partitions this consumer no longer owns are skipped (their new owner re-reads them).
    ///
    /// - Returns: how many partitions had an offset stored.
    @discardableResult
    public func storeOffsets(_ messages: [KafkaMessage]) throws(KafkaError) -> Int {
        var next: [TopicPartition: Int64] = [:]
        for m in messages { next[m.topicPartition] = max(next[m.topicPartition] ?? -1, m.offset + 1) }
        return try handle.store(next)
    }

    /// Commits the stored offsets now and waits for the broker.
    public func commit() async throws {
        let handle = self.handle
        try await executor.run { try handle.commit() }
    }

    /// Partitions currently assigned to this consumer.
    public var assignment: Set<TopicPartition> { handle.state.assignment }

    /// Since when this member has held its current partitions without a rebalance in between (nil
    /// while it holds none). Every member's partitions are revoked on a rebalance (the classic,
    /// eager protocol), so no member's clock runs through one.
    public var assignedSince: ContinuousClock.Instant? { handle.state.assignedSince }

    /// Waits until the group has given this consumer at least one partition.
    ///
    /// The group is joined inside polls, so this polls; messages that arrive meanwhile are kept and
    /// returned by the next ``poll(maxMessages:timeout:)``.
    public func waitForAssignment(timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while handle.state.assignment.isEmpty {
            guard ContinuousClock.now < deadline else {
                throw KafkaError(.notAssigned, "no partitions assigned within \(timeout)")
            }
            try await pollKeeping(timeout: .milliseconds(100))
        }
    }

    /// Polls without handing messages out: they wait in the consumer for the next ``poll(maxMessages:timeout:)``.
    private func pollKeeping(timeout: Duration) async throws(KafkaError) {
        let handle = self.handle
        let timeoutMs = Int32(wholeMilliseconds(timeout))
        let result: Result<Void, KafkaError> = await withCheckedContinuation { continuation in
            pollQueue.async {
                continuation.resume(
                    returning: Result { () throws(KafkaError) in
                        handle.keep(try handle.poll(maxMessages: 1_000, timeoutMilliseconds: timeoutMs))
                    })
            }
        }
        try result.get()
    }

    /// Stops fetching from every assigned partition (and from partitions assigned later) until
    /// ``resume()``. Polls keep serving rebalances and heartbeats meanwhile.
    public func pause() throws(KafkaError) { try handle.setPaused(true) }

    /// Resumes fetching after ``pause()``.
    public func resume() throws(KafkaError) { try handle.setPaused(false) }

    public var isPaused: Bool { handle.state.paused }

    /// Commits stored offsets, leaves the group and frees the client. Idempotent.
    ///
    /// A consumer whose group join is still pending first waits (up to `joinTimeout`) for its
    /// assignment: leaving mid-join is known to wedge the group on the local broker.
    public func close(joinTimeout: Duration = .seconds(15)) async {
        if handle.state.assignment.isEmpty && !handle.isClosed {
            let deadline = ContinuousClock.now + joinTimeout
            while handle.state.assignment.isEmpty && ContinuousClock.now < deadline {
                try? await pollKeeping(timeout: .milliseconds(100))
            }
        }
        let handle = self.handle
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            pollQueue.async {
                handle.close()
                continuation.resume()
            }
        }
    }
}

/// Assignment and pause state, shared with the rebalance callback through the client's opaque.
final class ConsumerState: Sendable {
    private struct Value {
        var assignment: Set<TopicPartition> = []
        var assignedAt: ContinuousClock.Instant?
        var paused = false
    }
    private let value = Mutex(Value())
    let logger: Logger

    init(logger: Logger) { self.logger = logger }

    var assignment: Set<TopicPartition> { value.withLock { $0.assignment } }
    var paused: Bool {
        get { value.withLock { $0.paused } }
        set { value.withLock { $0.paused = newValue } }
    }

    /// Since when the current (non-empty) assignment has held; nil while nothing is assigned.
    var assignedSince: ContinuousClock.Instant? { value.withLock { $0.assignment.isEmpty ? nil : $0.assignedAt } }

    func setAssignment(_ partitions: Set<TopicPartition>) {
        value.withLock {
            $0.assignment = partitions
            $0.assignedAt = partitions.isEmpty ? nil : .now
        }
    }
}

private let rebalanceCallback:
    @convention(c) (
        OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
        UnsafeMutableRawPointer?
    ) -> Void = { rk, err, partitions, opaque in
        guard let rk, let opaque else { return }
        let state = Unmanaged<ConsumerState>.fromOpaque(opaque).takeUnretainedValue()
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            rd_kafka_assign(rk, partitions)
            let assigned = partitionSet(partitions)
            if state.paused, let partitions { rd_kafka_pause_partitions(rk, partitions) }
            state.setAssignment(assigned)
            state.logger.info("kafka partitions assigned", metadata: ["count": "\(assigned.count)"])
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            // Hand over cleanly: whatever was processed and stored is committed before the partitions go.
            rd_kafka_commit(rk, nil, 0)
            rd_kafka_assign(rk, nil)
            state.setAssignment([])
            state.logger.info("kafka partitions revoked")
        default:
            rd_kafka_assign(rk, nil)
            state.setAssignment([])
            state.logger.error(
                "kafka rebalance error", metadata: ["error": "\(String(cString: rd_kafka_err2str(err)))"])
        }
    }

private func partitionSet(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) -> Set<TopicPartition> {
    guard let list else { return [] }
    var result: Set<TopicPartition> = []
    for i in 0..<Int(list.pointee.cnt) {
        let tp = list.pointee.elems[i]
        result.insert(TopicPartition(topic: String(cString: tp.topic), partition: tp.partition))
    }
    return result
}

/// Owns the consumer's `rd_kafka_t`.
///
/// `@unchecked Sendable`: `rd_kafka_consumer_poll` and `rd_kafka_consumer_close` run only on the
/// consumer's serial poll queue; offset store, commit and pause are thread-safe in librdkafka. The
/// handle is destroyed once (guarded by `closed`), on the poll queue, after which every call fails
/// with ``KafkaError/Code/closed``.
private final class ConsumerHandle: @unchecked Sendable {
    let rk: OpaquePointer
    let state: ConsumerState
    private let closed = Mutex(false)
    /// Messages read while waiting for an assignment; touched on the poll queue only.
    private var kept: [KafkaMessage] = []

    func keep(_ messages: [KafkaMessage]) { kept += messages }

    init(rk: OpaquePointer, state: ConsumerState) {
        self.rk = rk
        self.state = state
    }

    var isClosed: Bool { closed.withLock { $0 } }

    private func whileOpen<T>(_ body: () throws(KafkaError) -> T) throws(KafkaError) -> T {
        try closed.withLock { (isClosed: inout Bool) throws(KafkaError) -> T in
            guard !isClosed else { throw KafkaError(.closed, "consumer is closed") }
            return try body()
        }
    }

    func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
        let code = rd_kafka_subscribe(rk, list)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else { throw RDKafka.error(code, context: "subscribe") }
    }

    func poll(maxMessages: Int, timeoutMilliseconds: Int32) throws(KafkaError) -> [KafkaMessage] {
        if isClosed { throw KafkaError(.closed, "consumer is closed") }
        var messages = Array(kept.prefix(maxMessages))
        kept.removeFirst(messages.count)
        var wait = messages.isEmpty ? timeoutMilliseconds : 0
        while messages.count < maxMessages {
            guard let raw = rd_kafka_consumer_poll(rk, wait) else { break }
            defer { rd_kafka_message_destroy(raw) }
            wait = 0
            let m = raw.pointee
            if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                var errstr = [CChar](repeating: 0, count: 512)
                if rd_kafka_fatal_error(rk, &errstr, errstr.count) != RD_KAFKA_RESP_ERR_NO_ERROR {
                    throw KafkaError(.fatal, RDKafka.string(errstr))
                }
                // Transient (broker down, partition moved): librdkafka retries on its own.
                state.logger.debug(
                    "kafka consume error", metadata: ["error": "\(String(cString: rd_kafka_err2str(m.err)))"])
                continue
            }
            messages.append(Self.convert(raw))
        }
        return messages
    }

    private static func convert(_ raw: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaMessage {
        let m = raw.pointee
        let topic = String(cString: rd_kafka_topic_name(m.rkt))
        let value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
        let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        var headers: [KafkaHeader] = []
        var hdrs: OpaquePointer?
        if rd_kafka_message_headers(raw, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs {
            var index = 0
            var name: UnsafePointer<CChar>?
            var valuePointer: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(hdrs, index, &name, &valuePointer, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let bytes = valuePointer.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                headers.append(KafkaHeader(name: name.map { String(cString: $0) } ?? "", value: bytes))
                index += 1
            }
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(raw, &timestampType)
        return KafkaMessage(
            topic: topic, partition: m.partition, offset: m.offset, key: key, value: value,
            headers: headers,
            timestampMilliseconds: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp)
    }

    func store(_ offsets: [TopicPartition: Int64]) throws(KafkaError) -> Int {
        guard !offsets.isEmpty else { return 0 }
        return try whileOpen { () throws(KafkaError) -> Int in
            let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for (tp, offset) in offsets {
                rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition).pointee.offset = offset
            }
            let code = rd_kafka_offsets_store(rk, list)
            var stored = 0
            for i in 0..<Int(list.pointee.cnt) where list.pointee.elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR {
                stored += 1
            }
            if code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR__STATE && stored == 0 {
                throw RDKafka.error(code, context: "store offsets")
            }
            return stored
        }
    }

    func commit() throws(KafkaError) {
        try whileOpen { () throws(KafkaError) in
            let code = rd_kafka_commit(rk, nil, 0)
            // NO_OFFSET: nothing new was stored since the last commit.
            guard code == RD_KAFKA_RESP_ERR_NO_ERROR || code == RD_KAFKA_RESP_ERR__NO_OFFSET else {
                throw KafkaError(
                    .commit, "commit: \(String(cString: rd_kafka_err2str(code)))",
                    rdKafkaCode: code.rawValue, retryable: true)
            }
        }
    }

    func setPaused(_ paused: Bool) throws(KafkaError) {
        try whileOpen { () throws(KafkaError) in
            state.paused = paused
            var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
            let code = rd_kafka_assignment(rk, &list)
            guard code == RD_KAFKA_RESP_ERR_NO_ERROR, let list else {
                throw RDKafka.error(code, context: paused ? "pause" : "resume")
            }
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let result = paused ? rd_kafka_pause_partitions(rk, list) : rd_kafka_resume_partitions(rk, list)
            guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw RDKafka.error(result, context: paused ? "pause" : "resume")
            }
        }
    }

    /// Commits, leaves the group, destroys the client. Runs on the poll queue.
    func close() {
        let first = closed.withLock { (isClosed: inout Bool) -> Bool in
            defer { isClosed = true }
            return !isClosed
        }
        guard first else { return }
        rd_kafka_commit(rk, nil, 0)
        rd_kafka_consumer_close(rk)
        rd_kafka_destroy(rk)
    }
}
