internal import CRdKafka

/// How far a consumer group is behind the end of a topic, in messages.
public struct ConsumerLag: Sendable, Equatable {
    /// Messages not yet committed by the group, per partition id. Every partition of the topic has an
    /// entry, idle ones included.
    public var perPartition: [Int32: Int64]
    /// The sum over all partitions.
    public var total: Int64

    public init(perPartition: [Int32: Int64]) {
        self.perPartition = perPartition
        self.total = perPartition.values.reduce(0, +)
    }
}

/// Reads a consumer group's lag on one topic: for every partition, the high watermark minus the
/// offset the group has committed there.
///
/// The gateway's waiting room reads the order workers' lag on `flashdeal.order-requests` to slow
/// admission while the workers fall behind. The reader is a librdkafka consumer configured with the
/// group's id that never subscribes: it asks the group coordinator for the committed offsets and never
/// joins the group, so it never triggers a rebalance and never commits anything.
///
/// The high watermark is read from a fetch, not only from `ListOffsets`: the local broker (tansu 0.6
/// with its object-store log) answers `ListOffsets(latest)` with the first offset of a recent record
/// batch plus one, which undercounts whenever batches hold several records or several land within the
/// same second. So each read asks `ListOffsets` for both watermarks, fetches the partition from just
/// before the listed end, and takes the high watermark the fetch response carries (every fetch response
/// does, and it is exact on both tansu and Kafka). On Kafka that fetch returns a single record.
///
/// A partition where the group has no committed offset counts from its low watermark (where a new
/// member would start, since the workers reset to `earliest`); so does a committed offset that
/// retention has already deleted past. Lag is never negative. Reads are serialized.
public final class KafkaConsumerLag: Sendable {
    public let group: String
    public let topic: String
    private let handle: LagHandle
    private let executor = BlockingExecutor(label: "flashdeal.kafka.lag", concurrent: false)

    public init(brokers: String, group: String, topic: String, additional: [String: String] = [:]) throws(KafkaError) {
        try RDKafka.checkVersion()
        self.group = group
        self.topic = topic
        var properties = [
            "bootstrap.servers": brokers,
            "group.id": group,
            "client.id": "flashdeal-lag",
            // This client reads offsets only; it must never commit any on the group's behalf.
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            // The probing fetch: an empty answer reports end of partition at once, and little is prefetched.
            "enable.partition.eof": "true",
            "fetch.wait.max.ms": "10",
            "max.partition.fetch.bytes": "65536",
            "queued.max.messages.kbytes": "1024",
            "auto.offset.reset": "latest",
            "log_level": "3",
        ]
        properties.merge(additional) { _, new in new }
        let conf = try RDKafka.makeConf(properties)
        let rk = try RDKafka.makeClient(RD_KAFKA_CONSUMER, conf: conf)
        rd_kafka_poll_set_consumer(rk)
        handle = LagHandle(rk)
    }

    /// The group's current lag on the topic, within `timeout`: metadata (partition count), the group's
    /// committed offsets, each partition's listed watermarks, and one probing fetch per partition.
    ///
    /// - Throws: ``KafkaError`` — `brokerUnavailable` when no answer came in time, `admin` when the
    ///   topic does not exist (yet), `consume` when the broker refused a request. All are retryable.
    public func lag(timeout: Duration) async throws -> ConsumerLag {
        let handle = self.handle
        let topic = self.topic
        let deadline = ContinuousClock.now + timeout
        return try await executor.run {
            try handle.lag(topic: topic, deadline: deadline, budget: timeout)
        }
    }
}

/// Owns the reader's `rd_kafka_t`.
///
/// `@unchecked Sendable`: every call that assigns and polls runs on the reader's serial executor;
/// the handle is destroyed once, in `deinit`.
private final class LagHandle: @unchecked Sendable {
    let rk: OpaquePointer

    init(_ rk: OpaquePointer) { self.rk = rk }

    // The client never subscribed, so there is no group membership to leave and nothing to commit.
    deinit { rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE) }

    func lag(topic: String, deadline: ContinuousClock.Instant, budget: Duration) throws(KafkaError) -> ConsumerLag {
        func remaining(_ step: String) throws(KafkaError) -> Int32 {
            let left = wholeMilliseconds(deadline - ContinuousClock.now)
            guard left > 0 else {
                throw KafkaError(.brokerUnavailable, "consumer lag of \(topic): no answer within \(budget) (\(step))")
            }
            return Int32(clamping: left)
        }

        let metadata = try RDKafka.metadata(rk, timeoutMilliseconds: try remaining("metadata"))
        guard let partitionCount = metadata.partitionsByTopic[topic], partitionCount > 0 else {
            throw KafkaError(.admin, "consumer lag: topic \(topic) does not exist", retryable: true)
        }
        let partitions = Array(0..<Int32(partitionCount))

        // The group's committed offsets, one request to its coordinator.
        let list = rd_kafka_topic_partition_list_new(Int32(partitionCount))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for partition in partitions { rd_kafka_topic_partition_list_add(list, topic, partition) }
        let code = rd_kafka_committed(rk, list, try remaining("committed offsets"))
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else { throw Self.error(code, "committed offsets of \(topic)") }
        var committed: [Int32: Int64] = [:]
        for i in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[i]
            guard element.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw Self.error(element.err, "committed offset of \(topic)[\(element.partition)]")
            }
            committed[element.partition] = element.offset  // negative (RD_KAFKA_OFFSET_INVALID): none
        }

        // Listed watermarks; the listed high one is where the probing fetch starts.
        var low: [Int32: Int64] = [:]
        var probeFrom: [Int32: Int64] = [:]
        for partition in partitions {
            var lo: Int64 = 0
            var hi: Int64 = 0
            let code = rd_kafka_query_watermark_offsets(
                rk, topic, partition, &lo, &hi,
                try remaining("watermarks of partition \(partition)"))
            guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw Self.error(code, "watermarks of \(topic)[\(partition)]")
            }
            low[partition] = lo
            probeFrom[partition] = max(lo, hi - 1)
        }

        let high = try probeHighWatermarks(topic: topic, from: probeFrom, remaining: remaining)
        var lag: [Int32: Int64] = [:]
        for partition in partitions {
            let start = max(committed[partition] ?? -1, low[partition] ?? 0)
            lag[partition] = max(0, high[partition]! - start)
        }
        return ConsumerLag(perPartition: lag)
    }

    /// Assigns the partitions at `from` (never joining the group) and reads each one's high watermark
    /// from the first fetch answer: an end-of-partition event carries it, and a record's fetch response
    /// has just updated the client's cached watermark.
    private func probeHighWatermarks(
        topic: String, from: [Int32: Int64],
        remaining: (String) throws(KafkaError) -> Int32
    ) throws(KafkaError) -> [Int32: Int64] {
        let assignment = rd_kafka_topic_partition_list_new(Int32(from.count))!
        defer { rd_kafka_topic_partition_list_destroy(assignment) }
        for (partition, offset) in from {
            rd_kafka_topic_partition_list_add(assignment, topic, partition).pointee.offset = offset
        }
        let assigned = rd_kafka_assign(rk, assignment)
        guard assigned == RD_KAFKA_RESP_ERR_NO_ERROR else { throw Self.error(assigned, "probing \(topic)") }
        defer { rd_kafka_assign(rk, nil) }

        var high: [Int32: Int64] = [:]
        while high.count < from.count {
            let wait = min(try remaining("high watermarks of \(topic)"), 100)
            guard let message = rd_kafka_consumer_poll(rk, wait) else { continue }
            defer { rd_kafka_message_destroy(message) }
            let m = message.pointee
            guard m.rkt != nil, String(cString: rd_kafka_topic_name(m.rkt)) == topic,
                let start = from[m.partition], high[m.partition] == nil
            else { continue }
            switch m.err {
            case RD_KAFKA_RESP_ERR__PARTITION_EOF:
                high[m.partition] = m.offset
            case RD_KAFKA_RESP_ERR_NO_ERROR where m.offset >= start:
                var lo: Int64 = 0
                var hi: Int64 = 0
                if rd_kafka_get_watermark_offsets(rk, topic, m.partition, &lo, &hi) == RD_KAFKA_RESP_ERR_NO_ERROR,
                    hi > m.offset
                {
                    high[m.partition] = hi
                }
            default:
                continue  // transient fetch errors: librdkafka retries until the deadline
            }
        }
        return high
    }

    private static func error(_ code: rd_kafka_resp_err_t, _ context: String) -> KafkaError {
        let text = "\(context): \(String(cString: rd_kafka_err2str(code)))"
        switch code {
        case RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
            return KafkaError(.brokerUnavailable, text, rdKafkaCode: code.rawValue)
        default:
            // Reading offsets changes nothing, so asking again is always safe.
            return KafkaError(.consume, text, rdKafkaCode: code.rawValue, retryable: true)
        }
    }
}
