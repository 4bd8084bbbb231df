import Foundation

/// Finds the shopper's address for rate limiting and logs.
///
/// `X-Forwarded-For` is honoured only when the socket peer is a trusted proxy; the list is then
/// walked right to left, skipping trusted proxies, and the first untrusted hop is the client.
/// A client can prepend anything to the header, so entries left of that hop are never used.
public struct ClientAddressResolver: Sendable {
    public let trustedProxies: [CIDR]

    public init(trustedProxies: [CIDR]) {
        self.trustedProxies = trustedProxies
    }

    /// Parses each entry with `CIDR.init`.
    /// - Throws: `invalidCIDR` for the first bad entry.
    public init(trustedProxies: [String]) throws(CredentialError) {
        var parsed: [CIDR] = []
        for entry in trustedProxies { parsed.append(try CIDR(entry)) }
        self.init(trustedProxies: parsed)
    }

    /// - Parameters:
    ///   - socketAddress: the TCP peer, `a.b.c.d`, an IPv6 address, optionally with a port
    ///     (`a.b.c.d:port`, `[v6]:port`).
    ///   - forwardedFor: the raw `X-Forwarded-For` value (comma-separated), if any.
    /// - Returns: the client address (normalised: no port, no brackets). When every hop is a trusted
    ///   proxy the leftmost one is returned; a malformed hop stops the walk and the last good hop
    ///   (a trusted proxy) is returned.
    public func resolve(socketAddress: String, forwardedFor: String?) -> String {
        let peer = Self.stripPort(socketAddress)
        // Without trusted proxies (or without the header) the peer is the client: nothing to parse.
        guard !trustedProxies.isEmpty, let forwardedFor, isTrusted(peer) else { return peer }
        var client = peer
        let hops = forwardedFor.split(separator: ",").map { Self.stripPort($0.trimmingCharacters(in: .whitespaces)) }
        for hop in hops.reversed() {
            guard IPAddress.parse(hop) != nil else { return client }
            client = hop
            if !isTrusted(hop) { return hop }
        }
        return client
    }

    public func isTrusted(_ address: String) -> Bool {
        guard let bytes = IPAddress.parse(address) else { return false }
        return trustedProxies.contains { $0.contains(bytes) }
    }

    /// `[v6]:port` → `v6`, `a.b.c.d:port` → `a.b.c.d`, bare addresses unchanged.
    static func stripPort(_ text: String) -> String {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            return String(text[text.index(after: text.startIndex)..<close])
        }
        let colons = text.count(where: { $0 == ":" })
        if colons == 1, let colon = text.firstIndex(of: ":") { return String(text[..<colon]) }
        return text
    }
}
