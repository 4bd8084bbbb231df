import Foundation

/// Settings of a Kafka producer. Everything not named here can be set in ``additional`` with
/// librdkafka's own property names.
public struct KafkaProducerConfiguration: Sendable, Equatable {
    /// Bootstrap servers, `host:port[,host:port]`. Env: `FLASHDEAL_KAFKA_BROKERS`.
    public var brokers: String
    /// How long the producer tries to get an acknowledgement before failing the send with
    /// ``KafkaError/Code/messageTimedOut``. Env: `FLASHDEAL_KAFKA_DELIVERY_TIMEOUT_MS`. Default 5 s.
    public var deliveryTimeout: Duration
    /// How long messages wait to form a batch. Env: `FLASHDEAL_KAFKA_LINGER_MS`. Default 5 ms.
    public var linger: Duration
    /// Messages the local queue holds before `send` fails with ``KafkaError/Code/queueFull``. Default 100,000.
    public var maxQueuedMessages: Int
    /// `none`, `lz4`, `zstd`, `snappy` or `gzip`. Env: `FLASHDEAL_KAFKA_COMPRESSION`. Default `none`.
    public var compression: String
    public var clientID: String
    /// Further librdkafka properties; they win over the fields above.
    public var additional: [String: String]

    public init(
        brokers: String, deliveryTimeout: Duration = .seconds(5), linger: Duration = .milliseconds(5),
        maxQueuedMessages: Int = 100_000, compression: String = "none", clientID: String = "flashdeal",
        additional: [String: String] = [:]
    ) {
        self.brokers = brokers
        self.deliveryTimeout = deliveryTimeout
        self.linger = linger
        self.maxQueuedMessages = maxQueuedMessages
        self.compression = compression
        self.clientID = clientID
        self.additional = additional
    }

    /// librdkafka properties. `acks=all` with retries, but **not** the idempotent producer: on the
    /// local Kafka-protocol broker a crash (kill -9) under load lost acknowledged messages of
    /// idempotent producers and of no others (docs/stack.md, "Broker crash"; docs/decisions.md). A
    /// retried batch may then be written twice; every consumer of Flash Deal's topics deduplicates by
    /// order id or event id, and a copy is identical to the first. Five requests in flight per
    /// connection, as the idempotent producer had: librdkafka's non-idempotent default (a million)
    /// fell far behind at 2,000 messages a second on the local broker.
    var properties: [String: String] {
        var p = [
            "bootstrap.servers": brokers,
            "client.id": clientID,
            "enable.idempotence": "false",
            "max.in.flight.requests.per.connection": "5",
            "acks": "all",
            "linger.ms": String(wholeMilliseconds(linger)),
            "message.timeout.ms": String(max(1, wholeMilliseconds(deliveryTimeout))),
            "queue.buffering.max.messages": String(maxQueuedMessages),
            "compression.type": compression,
            "log_level": "3",
        ]
        p.merge(additional) { _, new in new }
        return p
    }
}

/// Settings of a Kafka consumer in a group. Offsets are stored by the application after it has
/// processed a message (``KafkaConsumer/storeOffsets(_:)``) and committed from the stored offsets.
public struct KafkaConsumerConfiguration: Sendable, Equatable {
    public var brokers: String
    public var groupID: String
    /// Group session timeout. The local broker admits a member after about half of it, so it is
    /// kept short. Default 6 s.
    public var sessionTimeout: Duration
    /// Where a group without committed offsets starts: `earliest` or `latest`. Default `earliest`.
    public var autoOffsetReset: String
    /// How often stored offsets are committed in the background. Default 1 s.
    public var autoCommitInterval: Duration
    public var clientID: String
    public var additional: [String: String]

    public init(
        brokers: String, groupID: String, sessionTimeout: Duration = .seconds(6),
        autoOffsetReset: String = "earliest", autoCommitInterval: Duration = .seconds(1),
        clientID: String = "flashdeal", additional: [String: String] = [:]
    ) {
        self.brokers = brokers
        self.groupID = groupID
        self.sessionTimeout = sessionTimeout
        self.autoOffsetReset = autoOffsetReset
        self.autoCommitInterval = autoCommitInterval
        self.clientID = clientID
        self.additional = additional
    }

    var properties: [String: String] {
        var p = [
            "bootstrap.servers": brokers,
            "group.id": groupID,
            "client.id": clientID,
            "session.timeout.ms": String(wholeMilliseconds(sessionTimeout)),
            "heartbeat.interval.ms": String(max(100, wholeMilliseconds(sessionTimeout) / 3)),
            "enable.auto.commit": "true",
            "auto.commit.interval.ms": String(wholeMilliseconds(autoCommitInterval)),
            "enable.auto.offset.store": "false",
            "auto.offset.reset": autoOffsetReset,
            "enable.partition.eof": "false",
            "fetch.wait.max.ms": "50",
            "log_level": "3",
        ]
        p.merge(additional) { _, new in new }
        return p
    }
}

extension KafkaProducerConfiguration {
    /// Reads `name=value[,name=value…]` (librdkafka's property names, e.g.
    /// `enable.idempotence=true,linger.ms=10`): the `FLASHDEAL_KAFKA_PRODUCER_PROPERTIES` setting
    /// of both processes, for tuning against a particular broker. A property librdkafka does not
    /// know is refused when the producer is made.
    public static func parseProperties(_ text: String) throws(KafkaError) -> [String: String] {
        var properties: [String: String] = [:]
        for entry in text.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = parts[0].trimmingCharacters(in: .whitespaces)
            guard parts.count == 2, !name.isEmpty else {
                throw KafkaError(.configuration, "producer properties: \"\(entry)\" is not name=value")
            }
            properties[name] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return properties
    }
}

func wholeMilliseconds(_ duration: Duration) -> Int {
    let (seconds, attoseconds) = duration.components
    return Int(seconds) * 1_000 + Int(attoseconds / 1_000_000_000_000_000)
}
