internal import CHiredis
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One hiredis connection with automatic pipelining.
///
/// Calls from any number of tasks are queued; a single drain loop on the connection's own Dispatch
/// queue takes everything queued, writes it in one go, then reads the replies in order. Under
/// concurrency that turns N calls into one round trip without the caller asking for a pipeline.
/// The `redisContext` is touched only by that loop, so it needs no lock of its own.
final class RedisConnection: Sendable {
    typealias Completion = @Sendable (Result<RedisValue, RedisError>) -> Void

    struct Request: Sendable {
        let arguments: [String]
        let deadline: ContinuousClock.Instant
        let completion: Completion
    }

    private struct State {
        var pending: [Request] = []
        var draining = false
        var closed = false
    }

    private let configuration: RedisConfiguration
    private let queue: DispatchQueue
    private let state = Mutex(State())
    private let context: ContextBox
    let statistics: RedisStatistics

    init(configuration: RedisConfiguration, index: Int, statistics: RedisStatistics) {
        self.configuration = configuration
        self.queue = DispatchQueue(label: "flashdeal.redis.\(index)", qos: .userInitiated)
        self.context = ContextBox()
        self.statistics = statistics
    }

    func submit(_ request: Request) { submit([request]) }

    /// Queues `requests` together, so they leave in the same write (one round trip) unless the
    /// pipeline depth splits them.
    func submit(_ requests: [Request]) {
        let action: (start: Bool, rejected: Bool) = state.withLock { state in
            if state.closed { return (false, true) }
            state.pending.append(contentsOf: requests)
            if state.draining { return (false, false) }
            state.draining = true
            return (true, false)
        }
        if action.rejected {
            for request in requests { request.completion(.failure(RedisError(.closed, "client is shut down"))) }
        } else if action.start {
            queue.async { self.drain() }
        }
    }

    /// Fails everything queued and frees the connection once the current round trip is done.
    func close() {
        let orphans = state.withLock { state -> [Request] in
            state.closed = true
            defer { state.pending.removeAll() }
            return state.draining ? [] : state.pending
        }
        for request in orphans { request.completion(.failure(RedisError(.closed, "client is shut down"))) }
        queue.async { self.context.disconnect() }
    }

    // MARK: Drain loop (runs on `queue` only)

    private func drain() {
        while true {
            let (batch, closed): ([Request], Bool) = state.withLock { state in
                if state.pending.isEmpty || state.closed {
                    state.draining = false
                    defer { state.pending.removeAll() }
                    return (state.pending, state.closed)
                }
                let n = min(state.pending.count, configuration.maxPipelineDepth)
                let batch = Array(state.pending.prefix(n))
                state.pending.removeFirst(n)
                return (batch, false)
            }
            if batch.isEmpty { return }
            if closed {
                for request in batch { request.completion(.failure(RedisError(.closed, "client is shut down"))) }
                return
            }
            roundTrip(batch)
        }
    }

    private func roundTrip(_ batch: [Request]) {
        let now = ContinuousClock.now
        var live: [Request] = []
        live.reserveCapacity(batch.count)
        for request in batch {
            if request.deadline <= now {
                request.completion(.failure(RedisError(.timeout, "timed out waiting to be sent")))
            } else {
                live.append(request)
            }
        }
        guard !live.isEmpty else { return }

        let ctx: OpaquePointer
        switch context.connected(configuration) {
        case .success(let c): ctx = c
        case .failure(let error):
            for request in live { request.completion(.failure(error)) }
            return
        }

        for request in live {
            if !Self.append(ctx, request.arguments) {
                let error = context.failure(ctx)
                for request in live { request.completion(.failure(error)) }
                return
            }
        }
        statistics.recordRoundTrip(commands: live.count)
        for (index, request) in live.enumerated() {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(UnsafeMutablePointer(ctx), &raw) == REDIS_OK, let raw else {
                let error = context.failure(ctx)
                for rest in live[index...] { rest.completion(.failure(error)) }
                return
            }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            let result = Self.convert(reply)
            freeReplyObject(raw)
            request.completion(result)
        }
    }

    private static func append(_ ctx: OpaquePointer, _ arguments: [String]) -> Bool {
        var bytes: [UInt8] = []
        var lengths: [Int] = []
        lengths.reserveCapacity(arguments.count)
        for argument in arguments {
            let utf8 = argument.utf8
            bytes.append(contentsOf: utf8)
            lengths.append(utf8.count)
        }
        return bytes.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress.map { UnsafeRawPointer($0) } ?? UnsafeRawPointer(bitPattern: 1)!
            var pointers: [UnsafePointer<CChar>?] = []
            pointers.reserveCapacity(arguments.count)
            var offset = 0
            for length in lengths {
                pointers.append((base + offset).assumingMemoryBound(to: CChar.self))
                offset += length
            }
            return pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { argvlen in
                    redisAppendCommandArgv(
                        UnsafeMutablePointer(ctx), Int32(arguments.count), argv.baseAddress,
                        argvlen.baseAddress) == REDIS_OK
                }
            }
        }
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> Result<RedisValue, RedisError> {
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

/// Owns the `redisContext*`. Only the connection's drain loop touches it.
///
/// `@unchecked Sendable`: the pointer is created, used and freed only on the connection's serial
/// Dispatch queue; the type is shared across threads only to be handed to that queue.
private final class ContextBox: @unchecked Sendable {
    private var ctx: OpaquePointer?

    func connected(_ configuration: RedisConfiguration) -> Result<OpaquePointer, RedisError> {
        if let ctx { return .success(ctx) }
        guard
            let fresh = configuration.host.withCString({
                redisConnectWithTimeout($0, Int32(configuration.port), makeTimeval(configuration.connectTimeout))
            })
        else {
            return .failure(RedisError(.connectionFailed, "cannot allocate a hiredis context"))
        }
        let pointer = OpaquePointer(fresh)
        if fresh.pointee.err != 0 {
            let message = Self.errorString(fresh)
            redisFree(fresh)
            return .failure(
                RedisError(
                    .connectionFailed,
                    "\(configuration.host):\(configuration.port): \(message)"))
        }
        redisSetTimeout(fresh, makeTimeval(configuration.commandTimeout))
        redisEnableKeepAlive(fresh)
        ctx = pointer
        return .success(pointer)
    }

    /// Classifies the context's I/O error and drops the connection; the next call reconnects.
    func failure(_ pointer: OpaquePointer) -> RedisError {
        let c = UnsafeMutablePointer<redisContext>(pointer)
        let code = c.pointee.err
        let message = Self.errorString(c)
        disconnect()
        if code == REDIS_ERR_PROTOCOL { return RedisError(.protocolError, message) }
        if code == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK || message.contains("temporarily")) {
            return RedisError(.timeout, "no reply within the call's timeout (\(message))")
        }
        return RedisError(.connectionLost, message.isEmpty ? "connection closed" : message)
    }

    func disconnect() {
        if let ctx { redisFree(UnsafeMutablePointer(ctx)) }
        ctx = nil
    }

    deinit { disconnect() }

    private static func errorString(_ c: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: c.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}

private func makeTimeval(_ duration: Duration) -> timeval {
    let (seconds, attoseconds) = duration.components
    return timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
}
