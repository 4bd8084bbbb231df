import Foundation

/// An IPv4 or IPv6 network such as `10.0.0.0/8`, `2001:db8::/32`, or a single address (`/32`, `/128`).
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// The network address: 4 bytes (IPv4) or 16 bytes (IPv6), host bits cleared.
    public let network: [UInt8]
    public let prefixLength: Int

    /// Parses `address[/prefix]`. A bare address means a single host.
    ///
    /// - Throws: `invalidCIDR` naming the entry and what is wrong with it.
    public init(_ text: String) throws(CredentialError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else {
            throw CredentialError(.invalidCIDR, "\(text.debugDescription) has more than one '/'")
        }
        guard let bytes = IPAddress.parse(String(parts[0])) else {
            throw CredentialError(
                .invalidCIDR,
                "\(text.debugDescription): \(String(parts[0]).debugDescription) is not an IPv4 or IPv6 address")
        }
        let maximum = bytes.count * 8
        var prefix = maximum
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), parts[1].count <= 3,
                let value = Int(parts[1]), value <= maximum
            else {
                throw CredentialError(.invalidCIDR, "\(text.debugDescription): prefix length must be 0…\(maximum)")
            }
            prefix = value
        }
        self.network = Self.mask(bytes, prefix)
        self.prefixLength = prefix
    }

    /// Whether `address` (4 or 16 bytes) lies in this network. IPv4-mapped IPv6 addresses
    /// (`::ffff:a.b.c.d`) match IPv4 networks.
    public func contains(_ address: [UInt8]) -> Bool {
        var address = address
        if network.count == 4, address.count == 16, let v4 = IPAddress.unmapped(address) { address = v4 }
        guard address.count == network.count else { return false }
        return Self.mask(address, prefixLength) == network
    }

    public func contains(_ address: String) -> Bool {
        guard let bytes = IPAddress.parse(address) else { return false }
        return contains(bytes)
    }

    public var description: String { "\(IPAddress.format(network))/\(prefixLength)" }

    static func mask(_ bytes: [UInt8], _ prefix: Int) -> [UInt8] {
        var out = bytes
        for index in out.indices {
            let bitsHere = max(0, min(8, prefix - index * 8))
            out[index] &= bitsHere == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsHere))
        }
        return out
    }
}

/// Textual IP addresses, strictly parsed.
enum IPAddress {
    /// 4 bytes for dotted-quad IPv4, 16 bytes for IPv6 (RFC 4291 text forms, including `::`
    /// compression and a trailing dotted quad); `nil` otherwise. Zone ids (`%eth0`) are rejected.
    static func parse(_ text: String) -> [UInt8]? {
        if text.contains(":") { return parseV6(text) }
        return parseV4(Substring(text))
    }

    static func parseV4(_ text: Substring) -> [UInt8]? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var out: [UInt8] = []
        for octet in octets {
            guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy({ $0.isASCII && $0.isNumber }),
                !(octet.count > 1 && octet.first == "0"), let value = UInt8(octet)
            else { return nil }
            out.append(value)
        }
        return out
    }

    static func parseV6(_ text: String) -> [UInt8]? {
        func groups(_ part: Substring, allowV4Tail: Bool) -> [UInt8]? {
            if part.isEmpty { return [] }
            var out: [UInt8] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, piece) in pieces.enumerated() {
                if allowV4Tail, i == pieces.count - 1, piece.contains(".") {
                    guard let v4 = parseV4(piece) else { return nil }
                    out += v4
                    continue
                }
                guard !piece.isEmpty, piece.count <= 4, piece.allSatisfy(\.isHexDigit),
                    let value = UInt16(piece, radix: 16)
                else { return nil }
                out += [UInt8(value >> 8), UInt8(value & 0xFF)]
            }
            return out
        }
        let halves = text.components(separatedBy: "::")
        switch halves.count {
        case 1:
            guard let bytes = groups(Substring(text), allowV4Tail: true), bytes.count == 16 else { return nil }
            return bytes
        case 2:
            guard let head = groups(Substring(halves[0]), allowV4Tail: false),
                let tail = groups(Substring(halves[1]), allowV4Tail: true),
                head.count + tail.count <= 14
            else { return nil }
            return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
        default:
            return nil
        }
    }

    /// The IPv4 address inside an IPv4-mapped IPv6 address.
    static func unmapped(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else {
            return nil
        }
        return Array(bytes[12..<16])
    }

    static func format(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var groups: [String] = []
        for i in stride(from: 0, to: bytes.count, by: 2) {
            groups.append(String(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]), radix: 16))
        }
        return groups.joined(separator: ":")
    }
}
