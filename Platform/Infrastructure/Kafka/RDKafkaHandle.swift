internal import CRdKafka

/// Builds `rd_kafka_t` handles, reads cluster metadata and translates librdkafka's error codes.
/// Nothing outside this folder sees a librdkafka type.
enum RDKafka {
    /// librdkafka older than this cannot talk to the local broker (ApiVersions tagged-field bug).
    static let minimumVersion: Int32 = 0x0203_00ff

    static var versionString: String { String(cString: rd_kafka_version_str()) }

    static func checkVersion() throws(KafkaError) {
        guard rd_kafka_version() >= minimumVersion else {
            throw KafkaError(
                .unsupportedLibrary,
                "librdkafka \(versionString) is linked; 2.3 or newer is required (run scripts/setup)")
        }
    }

    /// A configuration object with `properties` applied; the caller owns it until `rd_kafka_new` takes it.
    static func makeConf(_ properties: [String: String]) throws(KafkaError) -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        rd_kafka_conf_set_log_cb(conf, RDKafkaLog.callback)
        var errstr = [CChar](repeating: 0, count: 512)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            if rd_kafka_conf_set(conf, key, value, &errstr, errstr.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaError(.configuration, "\(key)=\(value): \(string(errstr))")
            }
        }
        return conf
    }

    /// Creates a client; on success `conf` belongs to it.
    static func makeClient(_ type: rd_kafka_type_t, conf: OpaquePointer) throws(KafkaError) -> OpaquePointer {
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(.configuration, string(errstr))
        }
        return rk
    }

    /// Brokers and partition counts of every topic (`allTopics`), or of the topics this client
    /// already knows (a cheap liveness probe: its cost does not grow with the cluster's topics).
    static func metadata(_ rk: OpaquePointer, allTopics: Bool = true, timeoutMilliseconds: Int32) throws(KafkaError)
        -> ClusterMetadata
    {
        var pointer: UnsafePointer<rd_kafka_metadata>?
        let code = rd_kafka_metadata(rk, allTopics ? 1 : 0, nil, &pointer, timeoutMilliseconds)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR, let pointer else {
            throw KafkaError(
                .brokerUnavailable, "metadata: \(String(cString: rd_kafka_err2str(code)))",
                rdKafkaCode: code.rawValue)
        }
        defer { rd_kafka_metadata_destroy(pointer) }
        let md = pointer.pointee
        var partitions: [String: Int] = [:]
        for i in 0..<Int(md.topic_cnt) {
            let topic = md.topics[i]
            partitions[String(cString: topic.topic)] = Int(topic.partition_cnt)
        }
        return ClusterMetadata(brokerCount: Int(md.broker_cnt), partitionsByTopic: partitions)
    }

    static func error(_ code: rd_kafka_resp_err_t, context: String) -> KafkaError {
        let text = String(cString: rd_kafka_err2str(code))
        let raw = code.rawValue
        switch code {
        case RD_KAFKA_RESP_ERR__QUEUE_FULL:
            return KafkaError(.queueFull, "\(context): \(text)", rdKafkaCode: raw)
        case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__TIMED_OUT:
            return KafkaError(.messageTimedOut, "\(context): \(text)", rdKafkaCode: raw)
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
            return KafkaError(.brokerUnavailable, "\(context): \(text)", rdKafkaCode: raw)
        case RD_KAFKA_RESP_ERR__FATAL:
            return KafkaError(.fatal, "\(context): \(text)", rdKafkaCode: raw)
        default:
            return KafkaError(
                .deliveryFailed, "\(context): \(text)", rdKafkaCode: raw,
                retryable: isRetriable(code))
        }
    }

    private static func isRetriable(_ code: rd_kafka_resp_err_t) -> Bool {
        switch code {
        case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
            RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
            RD_KAFKA_RESP_ERR__PARTITION_EOF, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
            return true
        default:
            return false
        }
    }

    static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
