import Crypto
public import Domain
public import Foundation

/// Proof-of-work challenges for joining a deal's line: a cost a shopper's browser pays once and a
/// bot farm pays per place it wants. One place per shopper stays the main guard; this makes each
/// extra account's place cost CPU time.
///
/// Stateless: a challenge is `c1.<base64url(payload)>.<base64url(HMAC-SHA256(key, payload))>`,
/// the payload `c1|<deal>|<user>|<issued ms>|<bits>|<random>`, so it is bound to one shopper and one
/// deal and cannot be forged or moved to another. A solution is a decimal string `s` such that
/// SHA-256(`challenge` + ":" + `s`) starts with `bits` zero bits: ~2^bits hashes to find, one to
/// check. The MAC is compared in constant time.
public struct JoinChallenges: Sendable {
    public static var prefix: String { "c1" }
    /// Longest accepted solution: a counter needs at most 20 digits.
    public static var maximumSolutionLength: Int { 24 }
    /// Most leading zero bits a deal may ask for (2^32 hashes is minutes on a phone).
    public static var maximumBits: Int { 32 }

    private let key: SymmetricKey
    /// How long a challenge may be solved and used.
    public let lifetime: Duration

    /// - Parameter secret: at least 32 bytes; the MAC key is derived from it with a tag of its own,
    ///   so the pass key can serve without a pass MAC ever validating a challenge.
    public init(secret: [UInt8], lifetime: Duration = .seconds(300)) throws(CredentialError) {
        guard secret.count >= PassKeyring.minimumKeyLength else {
            throw CredentialError(
                .invalidKey,
                "the join-challenge secret is \(secret.count) bytes; \(PassKeyring.minimumKeyLength) needed")
        }
        let derived = HMAC<SHA256>.authenticationCode(
            for: Array("flashdeal:join-challenge:v1".utf8), using: SymmetricKey(data: secret))
        key = SymmetricKey(data: Array(derived))
        self.lifetime = lifetime
    }

    /// A challenge for `user` joining `deal`'s line, asking for `bits` leading zero bits.
    public func issue(user: UserID, deal: DealID, bits: Int, at now: Date) -> String {
        var random = [UInt8](repeating: 0, count: 12)
        for i in random.indices { random[i] = UInt8.random(in: 0...255) }
        let payload =
            Array(
                "\(Self.prefix)|\(deal.rawValue)|\(user.rawValue)|\(Int64(now.timeIntervalSince1970 * 1_000))|"
                    .utf8) + Array("\(min(max(bits, 0), Self.maximumBits))|\(Base64URL.encode(random))".utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: payload, using: key)
        return "\(Self.prefix).\(Base64URL.encode(payload)).\(Base64URL.encode(Array(mac)))"
    }

    /// Checks `solution` for `challenge`: shape, MAC (constant time), deal and user, age, that the
    /// challenge asks for at least `minimumBits` (the deal's difficulty now: raising it voids the
    /// cheaper challenges out), and the work. Returns the bits the solution proved.
    @discardableResult
    public func verify(
        _ challenge: String, solution: String, user: UserID, deal: DealID, minimumBits: Int, at now: Date
    ) throws(CredentialError) -> Int {
        let parts = challenge.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == Self.prefix, let payload = Base64URL.decode(parts[1]),
            let mac = Base64URL.decode(parts[2]), mac.count == SHA256.byteCount
        else { throw CredentialError(.malformedToken, "the join challenge is not one this gateway issues") }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key) else {
            throw CredentialError(.badSignature, "the join challenge's MAC does not match")
        }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
        guard fields.count == 6, let issuedMs = Int64(fields[3]), let bits = Int(fields[4]) else {
            throw CredentialError(.malformedToken, "the join challenge's payload does not read")
        }
        guard fields[1] == deal.rawValue else {
            throw CredentialError(.wrongDeal, "the join challenge is for another deal")
        }
        guard fields[2] == user.rawValue else {
            throw CredentialError(.wrongUser, "the join challenge is for another shopper")
        }
        let age = now.timeIntervalSince1970 - Double(issuedMs) / 1_000
        guard age >= -5 else { throw CredentialError(.notYetValid, "the join challenge is dated in the future") }
        guard age <= lifetime.seconds else {
            throw CredentialError(.expired, "the join challenge has expired: ask for a new one")
        }
        guard bits >= minimumBits else {
            throw CredentialError(
                .insufficientWork,
                "the deal now asks for \(minimumBits) bits of work, the challenge for \(bits): ask for a new one")
        }
        guard !solution.isEmpty, solution.utf8.count <= Self.maximumSolutionLength,
            solution.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { throw CredentialError(.malformedToken, "a solution is a decimal number of at most 24 digits") }
        guard Self.zeroBits(challenge: challenge, solution: solution) >= bits else {
            throw CredentialError(.insufficientWork, "the solution does not carry \(bits) bits of work")
        }
        return bits
    }

    /// Leading zero bits of SHA-256(`challenge` + ":" + `solution`).
    public static func zeroBits(challenge: String, solution: String) -> Int {
        let digest = SHA256.hash(data: Array("\(challenge):\(solution)".utf8))
        var count = 0
        for byte in digest {
            if byte == 0 {
                count += 8
                continue
            }
            count += byte.leadingZeroBitCount
            break
        }
        return count
    }

    /// The bits a challenge asks for (readable by anyone: the payload is not secret).
    public static func bits(of challenge: String) -> Int? {
        let parts = challenge.split(separator: ".")
        guard parts.count == 3, let payload = Base64URL.decode(parts[1]) else { return nil }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "|")
        return fields.count == 6 ? Int(fields[4]) : nil
    }

    /// Finds a solution by counting up from 0 (what a page's worker does): ~2^bits hashes.
    public static func solve(_ challenge: String, bits: Int) -> String {
        var counter: UInt64 = 0
        while zeroBits(challenge: challenge, solution: String(counter)) < bits { counter += 1 }
        return String(counter)
    }
}
