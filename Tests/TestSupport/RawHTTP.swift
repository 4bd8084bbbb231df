import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One HTTP/1.1 exchange over a plain blocking socket, the way simple clients (curl, most HTTP
/// libraries) make it: the request head, then the whole body, and only then the answer is read —
/// so a server that stops reading an oversize body leaves such a client stuck in its send.
public enum RawHTTP {
    public struct Exchange: Sendable {
        /// The whole body went out before the time ran out.
        public var bodySent: Bool
        /// Everything the server sent before it closed the connection or the time ran out.
        public var response: String
        /// The server closed (or reset) the connection within the time.
        public var closed: Bool
        public var elapsed: Duration

        /// The status code of the first response line, if there is one.
        public var status: Int? {
            let line = response.prefix { $0 != "\r" && $0 != "\n" }
            let parts = line.split(separator: " ")
            return parts.count >= 2 && parts[0].hasPrefix("HTTP/") ? Int(parts[1]) : nil
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Connects to 127.0.0.1:`port`, sends `head` (a request line and headers, without the blank
    /// line) and `bodyBytes` bytes of `x`, then reads until the server closes; all within `timeout`.
    public static func exchange(port: Int, head: String, bodyBytes: Int, timeout: Duration) throws -> Exchange {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure(description: "connect() failed: errno \(errno)") }
        // Short slices, so a blocked send or read notices the deadline.
        var slice = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &slice, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &slice, socklen_t(MemoryLayout<timeval>.size))
        let start = ContinuousClock.now
        func timeLeft() -> Bool { ContinuousClock.now - start < timeout }

        var closed = false
        var pending =
            Array((head + "\r\n\r\n").utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: min(bodyBytes, 64 * 1_024))
        var left = bodyBytes + pending.count - min(bodyBytes, 64 * 1_024)
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1_024)
        var offset = 0
        while left > 0 && timeLeft() && !closed {
            if offset == pending.count {
                pending = Array(chunk.prefix(min(left, chunk.count)))
                offset = 0
            }
            let n = pending[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                offset += n
                left -= n
            } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                closed = true  // reset or closed by the server while we were still sending
            }
        }
        let bodySent = left == 0

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1_024)
        while !closed && timeLeft() {
            let n = read(fd, &buffer, buffer.count)
            if n > 0 {
                received += buffer[0..<n]
            } else if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                closed = true
            }
        }
        return Exchange(
            bodySent: bodySent, response: String(decoding: received, as: UTF8.self), closed: closed,
            elapsed: ContinuousClock.now - start)
    }
}
