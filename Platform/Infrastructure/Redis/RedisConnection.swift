internal import CHiredis
import DequeModule
import NIOCore
import NIOPosix
import Synchronization

/// One Redis connection on a SwiftNIO event loop, with automatic pipelining.
///
/// Calls from any number of tasks are written together: what is submitted in one turn of the loop,
/// or while the previous write's replies are awaited, leaves in one write, and the replies — parsed by hiredis's reader (`redisReaderFeed` /
/// `redisReaderGetReply`) as the bytes arrive — complete them in order. Everything runs on the
/// connection's event loop: a caller already on that loop (a request handled there, with
/// `FLASHDEAL_EXECUTOR=nio`) submits and is resumed without a thread switch; any other caller
/// costs one hand-off to the loop.
///
/// - A call waits at most ``RedisConfiguration/commandTimeout`` for its reply once written; past
///   it the connection is taken for stuck: every call on it fails with ``RedisError/Code/timeout``
///   and it is closed. The next call opens a new one, so a restarted server is used again.
/// - At most ``RedisConfiguration/maxPipelineDepth`` calls wait for replies; later ones queue.
final class RedisConnection: Sendable {
    typealias Completion = @Sendable (Result<RedisValue, RedisError>) -> Void

    struct Request: Sendable {
        let arguments: [String]
        let deadline: ContinuousClock.Instant
        let completion: Completion
    }

    let eventLoop: any EventLoop
    let statistics: RedisStatistics
    private let core: Core
    private let closed = Atomic<Bool>(false)

    init(configuration: RedisConfiguration, eventLoop: any EventLoop, statistics: RedisStatistics) {
        self.eventLoop = eventLoop
        self.statistics = statistics
        self.core = Core(configuration: configuration, eventLoop: eventLoop, statistics: statistics)
    }

    func submit(_ request: Request) { submit([request]) }

    /// Sends `requests` together, in one write (one round trip) unless the pipeline depth splits them.
    func submit(_ requests: [Request]) {
        if closed.load(ordering: .relaxed) {
            for request in requests { request.completion(.failure(RedisError(.closed, "client is shut down"))) }
            return
        }
        if eventLoop.inEventLoop {
            core.send(requests)
        } else {
            let core = self.core
            eventLoop.execute { core.send(requests) }
        }
    }

    /// Fails everything queued or in flight and closes the connection. Idempotent.
    func close() {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        let core = self.core
        eventLoop.execute { core.shutdown() }
    }
}

/// The connection's state.
///
/// `@unchecked Sendable`: every member is touched only on `eventLoop` (the connection hands calls
/// to the loop; the channel's handler and timers run there).
private final class Core: @unchecked Sendable {
    private struct Waiting {
        let request: RedisConnection.Request
        let sentAt: ContinuousClock.Instant
    }

    private let configuration: RedisConfiguration
    private let eventLoop: any EventLoop
    private let statistics: RedisStatistics
    private var channel: (any Channel)?
    private var connecting = false
    private var shutDown = false
    /// Submitted, not written yet (connecting, or the pipeline is full).
    private var queued: Deque<RedisConnection.Request> = []
    /// Written, waiting for their replies, in order.
    private var inFlight: Deque<Waiting> = []
    private var watchdog: Scheduled<Void>?
    private var flushScheduled = false

    init(configuration: RedisConfiguration, eventLoop: any EventLoop, statistics: RedisStatistics) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.statistics = statistics
    }

    func send(_ requests: [RedisConnection.Request]) {
        eventLoop.assertInEventLoop()
        guard !shutDown else {
            for request in requests { request.completion(.failure(RedisError(.closed, "client is shut down"))) }
            return
        }
        queued.append(contentsOf: requests)
        // Written at the end of this turn of the loop, with whatever else is submitted meanwhile:
        // concurrent calls share writes (automatic pipelining).
        guard !flushScheduled else { return }
        flushScheduled = true
        eventLoop.execute { [self] in
            flushScheduled = false
            flush()
        }
    }

    /// Writes what is queued, as far as the connection and the pipeline depth allow. While replies
    /// are awaited, new calls wait for them (at most one round trip) and then leave together: under
    /// load, one write and one read carry many calls.
    private func flush() {
        guard !queued.isEmpty else { return }
        guard let channel else {
            connect()
            return
        }
        guard inFlight.isEmpty else { return }
        let now = ContinuousClock.now
        var buffer: ByteBuffer?
        var written = 0
        while inFlight.count < configuration.maxPipelineDepth, let request = queued.popFirst() {
            if request.deadline <= now {
                request.completion(.failure(RedisError(.timeout, "timed out waiting to be sent")))
                continue
            }
            if buffer == nil { buffer = channel.allocator.buffer(capacity: 256) }
            RESP.encode(request.arguments, into: &buffer!)
            inFlight.append(Waiting(request: request, sentAt: now))
            written += 1
        }
        guard let buffer else { return }
        statistics.recordRoundTrip(commands: written)
        channel.writeAndFlush(buffer, promise: nil)
        armWatchdog()
    }

    private func connect() {
        guard !connecting else { return }
        connecting = true
        let configuration = self.configuration
        ClientBootstrap(group: eventLoop)
            .connectTimeout(timeAmount(configuration.connectTimeout))
            // TCP_NODELAY belongs to the TCP level (ClientBootstrap's default too): `.socketOption(.tcp_nodelay)`
            // sets option 1 of SOL_SOCKET, SO_DEBUG, which needs CAP_NET_ADMIN — every connection failed
            // with EACCES in a container without capabilities, as the manifests run it (scripts/image-test).
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ReplyHandler(core: self))
                }
            }
            .connect(host: configuration.host, port: configuration.port)
            .whenComplete { [self] result in
                connecting = false
                switch result {
                case .success(let channel):
                    if shutDown {
                        channel.close(promise: nil)
                        return
                    }
                    self.channel = channel
                    flush()
                case .failure(let error):
                    let failure = RedisError(
                        .connectionFailed, "\(configuration.host):\(configuration.port): \(error)")
                    let waiting = queued
                    queued.removeAll()
                    for request in waiting { request.completion(.failure(failure)) }
                }
            }
    }

    // MARK: From the channel

    /// Whether `channel` is this connection's current one (a dropped one may still deliver events).
    func owns(_ channel: any Channel) -> Bool { self.channel === channel }

    func received(_ result: Result<RedisValue, RedisError>) {
        guard let waiting = inFlight.popFirst() else {
            dropped(RedisError(.protocolError, "a reply nobody asked for"))
            return
        }
        waiting.request.completion(result)
        if inFlight.isEmpty && !queued.isEmpty { flush() }
    }

    /// The connection is gone (or must go): every call written on it fails with `error`, it is
    /// closed, and queued calls go out on a new connection.
    func dropped(_ error: RedisError) {
        let old = channel
        channel = nil
        watchdog?.cancel()
        watchdog = nil
        let lost = inFlight
        inFlight.removeAll()
        for waiting in lost { waiting.request.completion(.failure(error)) }
        old?.close(promise: nil)
        if !queued.isEmpty && !shutDown { flush() }
    }

    func shutdown() {
        shutDown = true
        let waiting = queued
        queued.removeAll()
        for request in waiting { request.completion(.failure(RedisError(.closed, "client is shut down"))) }
        dropped(RedisError(.closed, "client is shut down"))
    }

    /// While calls are in flight, checks every quarter of the command timeout that the oldest one
    /// has not waited longer than the timeout.
    private func armWatchdog() {
        guard watchdog == nil else { return }
        let period = max(.milliseconds(1), timeAmount(configuration.commandTimeout / 4))
        watchdog = eventLoop.scheduleTask(in: period) { [self] in
            watchdog = nil
            guard let oldest = inFlight.first else { return }
            if ContinuousClock.now - oldest.sentAt >= configuration.commandTimeout {
                dropped(RedisError(.timeout, "no reply within the call's timeout"))
            } else {
                armWatchdog()
            }
        }
    }
}

/// Feeds the bytes read to a hiredis reader and hands each complete reply to the connection.
private final class ReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let core: Core
    private let reader: UnsafeMutablePointer<redisReader>

    init(core: Core) {
        self.core = core
        self.reader = redisReaderCreate()
    }

    deinit { redisReaderFree(reader) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard core.owns(context.channel) else { return }
        let buffer = unwrapInboundIn(data)
        let fed = buffer.withUnsafeReadableBytes { bytes in
            redisReaderFeed(reader, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        guard fed == REDIS_OK else {
            core.dropped(RedisError(.protocolError, "unreadable reply"))
            return
        }
        while core.owns(context.channel) {
            var raw: UnsafeMutableRawPointer?
            guard redisReaderGetReply(reader, &raw) == REDIS_OK else {
                core.dropped(RedisError(.protocolError, RESP.readerError(reader)))
                return
            }
            guard let raw else { return }
            let result = RESP.convert(raw.assumingMemoryBound(to: redisReply.self))
            freeReplyObject(raw)
            core.received(result)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if core.owns(context.channel) { core.dropped(RedisError(.connectionLost, "connection closed")) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if core.owns(context.channel) { core.dropped(RedisError(.connectionLost, "\(error)")) }
        context.close(promise: nil)
    }
}

/// The Redis protocol's two directions: commands encoded as RESP arrays of bulk strings, replies
/// converted from hiredis's reply objects.
enum RESP {
    static func encode(_ arguments: [String], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "*"))
        buffer.writeString(String(arguments.count))
        buffer.writeStaticString("\r\n")
        for argument in arguments {
            buffer.writeInteger(UInt8(ascii: "$"))
            buffer.writeString(String(argument.utf8.count))
            buffer.writeStaticString("\r\n")
            buffer.writeString(argument)
            buffer.writeStaticString("\r\n")
        }
    }

    static func readerError(_ reader: UnsafeMutablePointer<redisReader>) -> String {
        withUnsafeBytes(of: reader.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> Result<RedisValue, RedisError> {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING: return .success(.string(text(r.str, r.len)))
        case REDIS_REPLY_STATUS: return .success(.status(text(r.str, r.len)))
        case REDIS_REPLY_INTEGER: return .success(.integer(Int64(r.integer)))
        case REDIS_REPLY_NIL: return .success(.null)
        case REDIS_REPLY_ERROR: return .failure(RedisError(.server, text(r.str, r.len)))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisValue] = []
            elements.reserveCapacity(Int(r.elements))
            for i in 0..<Int(r.elements) {
                guard let child = r.element[i] else {
                    elements.append(.null)
                    continue
                }
                switch convert(child) {
                case .success(let value): elements.append(value)
                case .failure(let error): return .failure(error)
                }
            }
            return .success(.array(elements))
        default:
            return .failure(RedisError(.protocolError, "unknown reply type \(r.type)"))
        }
    }

    private static func text(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> String {
        guard let pointer else { return "" }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }
}

private func timeAmount(_ duration: Duration) -> TimeAmount {
    let (seconds, attoseconds) = duration.components
    return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
}
