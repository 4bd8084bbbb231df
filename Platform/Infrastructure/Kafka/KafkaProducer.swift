internal import CRdKafka
import Foundation
public import Logging
import Synchronization

/// A producer (`acks=all`, retries; not idempotent: see ``KafkaProducerConfiguration``) whose
/// ``send(topic:key:value:headers:)`` returns only when the broker has acknowledged the message, or
/// throws a typed error.
///
/// A background thread serves delivery reports. Call ``close(flushTimeout:)`` before dropping it.
///
/// When librdkafka raises a fatal error (for example a broker that lost the producer's state, so
/// idempotence can no longer be guaranteed), the failing send throws ``KafkaError/Code/fatal`` and
/// the producer replaces its client with a fresh one: later sends work again without a restart.
public final class KafkaProducer: Sendable {
    public let configuration: KafkaProducerConfiguration
    private let current: Mutex<ProducerHandle>
    private let logger: Logger
    /// Sends that failed in a row (not counting a full local queue); reset by any success.
    private let failuresInARow = Atomic<Int>(0)
    /// After this many failures in a row the client is replaced, as after a fatal error: an
    /// idempotent producer whose messages timed out while the broker was away can stay wedged
    /// (every later send refused) without librdkafka calling it fatal.
    static let replaceAfterFailuresInARow = 5
    /// …and at most once per delivery timeout, so an outage does not churn clients.
    private let lastReplacement = Mutex<ContinuousClock.Instant?>(nil)

    /// Told about every send once it is answered (for metrics); runs on the sender's task.
    private let observer: (@Sendable (KafkaSendObservation) -> Void)?

    public init(
        configuration: KafkaProducerConfiguration,
        logger: Logger = Logger(label: "flashdeal.kafka.producer"),
        observer: (@Sendable (KafkaSendObservation) -> Void)? = nil
    ) throws(KafkaError) {
        try RDKafka.checkVersion()
        self.configuration = configuration
        self.logger = logger
        self.observer = observer
        self.current = Mutex(try Self.makeHandle(configuration))
    }

    private static func makeHandle(_ configuration: KafkaProducerConfiguration) throws(KafkaError) -> ProducerHandle {
        let conf = try RDKafka.makeConf(configuration.properties)
        rd_kafka_conf_set_dr_msg_cb(conf, deliveryReportCallback)
        let handle = ProducerHandle(try RDKafka.makeClient(RD_KAFKA_PRODUCER, conf: conf))
        handle.startPolling()
        return handle
    }

    deinit { current.withLock { $0.stop(flushTimeoutMilliseconds: 0) } }

    private var handle: ProducerHandle { current.withLock { $0 } }

    /// Replaces a client that raised a fatal error; the old one is stopped off the caller's path.
    private func replace(_ failed: ProducerHandle, reason: String) {
        let replaced: Bool = current.withLock { handle in
            guard handle === failed, let fresh = try? Self.makeHandle(configuration) else { return false }
            handle = fresh
            return true
        }
        guard replaced else { return }
        logger.error("kafka producer hit a fatal error; replaced its client", metadata: ["error": "\(reason)"])
        Thread.detachNewThread { failed.stop(flushTimeoutMilliseconds: 0) }
    }

    /// Produces one message and waits for the broker's acknowledgement.
    ///
    /// - Throws: ``KafkaError`` — ``KafkaError/Code/queueFull`` at once when the local queue is full,
    ///   ``KafkaError/Code/messageTimedOut`` when no acknowledgement came within the delivery timeout
    ///   (the outcome is then unknown), ``KafkaError/Code/deliveryFailed`` when the broker refused it.
    @discardableResult
    public func send(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = [])
        async throws(KafkaError) -> KafkaDeliveryReport
    {
        let started = ContinuousClock.now
        let result = await deliver(topic: topic, key: key, value: value, headers: headers)
        if let observer {
            let error: KafkaError? = if case .failure(let e) = result { e } else { nil }
            observer(KafkaSendObservation(topic: topic, duration: ContinuousClock.now - started, error: error))
        }
        return try result.get()
    }

    private func deliver(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader]) async
        -> Result<KafkaDeliveryReport, KafkaError>
    {
        let handle = self.handle
        let result: Result<KafkaDeliveryReport, KafkaError> = await withCheckedContinuation { continuation in
            let box = DeliveryBox(topic: topic) { continuation.resume(returning: $0) }
            let opaque = Unmanaged.passRetained(box).toOpaque()
            if let error = handle.produce(topic: topic, key: key, value: value, headers: headers, opaque: opaque) {
                Unmanaged<DeliveryBox>.fromOpaque(opaque).release()
                continuation.resume(returning: .failure(error))
            }
        }
        if case .failure(let error) = result, let fatal = handle.fatalError() {
            failuresInARow.store(0, ordering: .relaxed)
            replace(handle, reason: fatal)
            return .failure(
                KafkaError(
                    .fatal, "\(fatal) (after: \(error.message)); the client was replaced, retry the send",
                    rdKafkaCode: error.rdKafkaCode, retryable: true))
        }
        switch result {
        case .success: failuresInARow.store(0, ordering: .relaxed)
        case .failure(let error) where error.code != .queueFull:
            let now = ContinuousClock.now
            if failuresInARow.wrappingAdd(1, ordering: .relaxed).newValue >= Self.replaceAfterFailuresInARow,
                lastReplacement.withLock({ last in
                    guard last.map({ now - $0 >= configuration.deliveryTimeout }) ?? true else { return false }
                    last = now
                    return true
                })
            {
                failuresInARow.store(0, ordering: .relaxed)
                replace(
                    handle,
                    reason: "\(Self.replaceAfterFailuresInARow) sends failed in a row, the last: \(error.message)")
            }
        case .failure: break
        }
        return result
    }

    /// Produces a message with string key and value.
    @discardableResult
    public func send(topic: String, key: String?, value: String, headers: [KafkaHeader] = [])
        async throws(KafkaError) -> KafkaDeliveryReport
    {
        try await send(topic: topic, key: key.map { Array($0.utf8) }, value: Array(value.utf8), headers: headers)
    }

    /// Messages waiting in the local queue or in flight to the broker.
    public var queueLength: Int { handle.queueLength }

    /// Waits until every queued message has been acknowledged or failed (bounded), then frees the client.
    /// Idempotent.
    public func close(flushTimeout: Duration = .seconds(5)) async {
        let handle = self.handle
        await BlockingExecutor(label: "flashdeal.kafka.close").run {
            handle.stop(flushTimeoutMilliseconds: Int32(wholeMilliseconds(flushTimeout)))
        }
    }
}

/// One answered send, as a ``KafkaProducer`` reports it to its observer.
public struct KafkaSendObservation: Sendable {
    /// The topic the message was sent to.
    public let topic: String
    /// From the call to the broker's acknowledgement, the failure, or the local refusal.
    public let duration: Duration
    /// Why the send failed; nil when the broker acknowledged it.
    public let error: KafkaError?
}

/// Carries one send's continuation through librdkafka as the message's opaque pointer.
private final class DeliveryBox: Sendable {
    let topic: String
    let complete: @Sendable (Result<KafkaDeliveryReport, KafkaError>) -> Void
    init(topic: String, complete: @escaping @Sendable (Result<KafkaDeliveryReport, KafkaError>) -> Void) {
        self.topic = topic
        self.complete = complete
    }
}

private let deliveryReportCallback:
    @convention(c) (
        OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?
    ) -> Void = { _, message, _ in
        guard let message, let opaque = message.pointee._private else { return }
        let box = Unmanaged<DeliveryBox>.fromOpaque(opaque).takeRetainedValue()
        let m = message.pointee
        if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
            box.complete(.success(KafkaDeliveryReport(topic: box.topic, partition: m.partition, offset: m.offset)))
        } else {
            box.complete(.failure(RDKafka.error(m.err, context: "delivery to \(box.topic)")))
        }
    }

/// Owns the producer's `rd_kafka_t` and its polling thread.
///
/// `@unchecked Sendable`: librdkafka producer handles are thread-safe for produce, poll and flush;
/// the pointer is freed exactly once, under the `stopped` flag, after the polling thread has ended.
private final class ProducerHandle: @unchecked Sendable {
    private let rk: OpaquePointer
    private let stopped = Atomic<Bool>(false)
    private let pollerDone = DispatchSemaphore(value: 0)
    private let destroyed = Mutex(false)

    init(_ rk: OpaquePointer) { self.rk = rk }

    func startPolling() {
        let thread = Thread { [self] in
            while !stopped.load(ordering: .acquiring) { rd_kafka_poll(rk, 50) }
            pollerDone.signal()
        }
        thread.name = "flashdeal.kafka.producer.poll"
        thread.start()
    }

    var queueLength: Int { destroyed.withLock { $0 ? 0 : Int(rd_kafka_outq_len(rk)) } }

    /// The fatal error librdkafka raised on this client, if any.
    func fatalError() -> String? {
        destroyed.withLock { isDestroyed -> String? in
            guard !isDestroyed else { return nil }
            var errstr = [CChar](repeating: 0, count: 512)
            guard rd_kafka_fatal_error(rk, &errstr, errstr.count) != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
            return RDKafka.string(errstr)
        }
    }

    func produce(
        topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader],
        opaque: UnsafeMutableRawPointer
    ) -> KafkaError? {
        if stopped.load(ordering: .acquiring) { return KafkaError(.closed, "producer is closed") }
        // Header names (NUL-terminated) and values packed into one buffer; librdkafka copies everything
        // during the call (RD_KAFKA_MSG_F_COPY), so the pointers only need to live until it returns.
        var packed: [UInt8] = []
        for header in headers {
            packed.append(contentsOf: header.name.utf8)
            packed.append(0)
            packed.append(contentsOf: header.value)
        }
        let code: rd_kafka_resp_err_t = topic.withCString { topicName in
            value.withUnsafeBytes { valueBytes in
                (key ?? []).withUnsafeBytes { keyBytes in
                    packed.withUnsafeBytes { headerBytes in
                        var vus = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 5 + headers.count)
                        vus[0].vtype = RD_KAFKA_VTYPE_TOPIC
                        vus[0].u.cstr = topicName
                        vus[1].vtype = RD_KAFKA_VTYPE_VALUE
                        vus[1].u.mem.ptr = UnsafeMutableRawPointer(mutating: valueBytes.baseAddress)
                        vus[1].u.mem.size = valueBytes.count
                        vus[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                        vus[2].u.i = RD_KAFKA_MSG_F_COPY
                        vus[3].vtype = RD_KAFKA_VTYPE_OPAQUE
                        vus[3].u.ptr = opaque
                        var count = 4
                        if key != nil {
                            vus[count].vtype = RD_KAFKA_VTYPE_KEY
                            vus[count].u.mem.ptr = UnsafeMutableRawPointer(mutating: keyBytes.baseAddress)
                            vus[count].u.mem.size = keyBytes.count
                            count += 1
                        }
                        var offset = 0
                        let base = headerBytes.baseAddress
                        for header in headers {
                            let nameLength = header.name.utf8.count
                            vus[count].vtype = RD_KAFKA_VTYPE_HEADER
                            vus[count].u.header.name = base.map { ($0 + offset).assumingMemoryBound(to: CChar.self) }
                            offset += nameLength + 1
                            vus[count].u.header.val = base.map { UnsafeRawPointer($0 + offset) }
                            vus[count].u.header.size = header.value.count
                            offset += header.value.count
                            count += 1
                        }
                        guard let error = rd_kafka_produceva(rk, vus, count) else { return RD_KAFKA_RESP_ERR_NO_ERROR }
                        defer { rd_kafka_error_destroy(error) }
                        return rd_kafka_error_code(error)
                    }
                }
            }
        }
        return code == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : RDKafka.error(code, context: "produce to \(topic)")
    }

    /// Flushes (bounded), stops the polling thread and destroys the handle. Idempotent.
    func stop(flushTimeoutMilliseconds: Int32) {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        pollerDone.wait()
        // Outstanding delivery reports are served by flush; purge what is left so every waiting send
        // completes (with a purge error) before the handle goes away.
        if flushTimeoutMilliseconds > 0 { rd_kafka_flush(rk, flushTimeoutMilliseconds) }
        rd_kafka_purge(rk, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
        rd_kafka_poll(rk, 0)
        destroyed.withLock { $0 = true }
        rd_kafka_destroy(rk)
    }
}
