import Crypto
public import Domain
public import Foundation

/// HMAC-SHA256 keys for admission passes, by key id, with one key current for signing.
///
/// Rotation: add the new key, make it current, keep the old key listed until every pass it signed
/// has expired, then drop it — its passes are then rejected as `unknownKey`.
///
/// Token format: `v1.<base64url(pass.signingInput)>.<base64url(HMAC-SHA256(key, pass.signingInput))>`.
/// The payload is the domain's canonical length-prefixed encoding of every pass field (tag, passId,
/// dealId, userId, issuedAt ms, expiresAt ms, keyId), so the MAC covers exactly the bytes carried.
public struct PassKeyring: Sendable {
    public static var tokenPrefix: String { "v1" }
    /// Shortest accepted key; HMAC-SHA256 keys should carry at least 256 bits.
    public static var minimumKeyLength: Int { 32 }

    private let keys: [SigningKeyID: SymmetricKey]
    public let currentKeyId: SigningKeyID
    /// Clock slack applied by `verify` around issuedAt/expiresAt.
    public let leeway: Duration

    /// - Throws: `invalidKey` if `keys` is empty, `current` is not among them, or a key is shorter
    ///   than `minimumKeyLength` bytes.
    public init(keys: [SigningKeyID: [UInt8]], current: SigningKeyID, leeway: Duration = .zero) throws(CredentialError)
    {
        guard !keys.isEmpty else { throw CredentialError(.invalidKey, "the pass keyring has no keys") }
        guard keys[current] != nil else {
            throw CredentialError(.invalidKey, "current key \(current) is not in the keyring")
        }
        for (id, key) in keys where key.count < Self.minimumKeyLength {
            throw CredentialError(
                .invalidKey,
                "key \(id) is \(key.count) bytes; at least \(Self.minimumKeyLength) are required")
        }
        self.keys = keys.mapValues { SymmetricKey(data: $0) }
        self.currentKeyId = current
        self.leeway = leeway
    }

    /// Key ids this keyring accepts, sorted.
    public var keyIds: [SigningKeyID] { keys.keys.sorted() }

    /// A pass for `user` and `deal` valid from `issuedAt` for `lifetime`, stamped with the current key id.
    public func makePass(
        passId: PassID, user: UserID, deal: DealID, issuedAt: Date,
        lifetime: Duration
    ) throws(AdmissionPassError) -> AdmissionPass {
        let seconds = lifetime.seconds
        return try AdmissionPass(
            passId: passId, dealId: deal, userId: user, issuedAt: issuedAt,
            expiresAt: issuedAt.addingTimeInterval(seconds), keyId: currentKeyId)
    }

    /// Signs `pass` with the key its `keyId` names (normally `currentKeyId`).
    ///
    /// - Throws: `unknownKey` if the pass names a key this keyring does not hold.
    public func sign(_ pass: AdmissionPass) throws(CredentialError) -> String {
        guard let key = keys[pass.keyId] else {
            throw CredentialError(.unknownKey, "no signing key \(pass.keyId) in the keyring")
        }
        let input = pass.signingInput
        let mac = HMAC<SHA256>.authenticationCode(for: input, using: key)
        return "\(Self.tokenPrefix).\(Base64URL.encode(input)).\(Base64URL.encode(Array(mac)))"
    }

    /// Checks the token's shape, key id and MAC (constant-time), then the pass's user, deal and
    /// lifetime at `now` (with `leeway`).
    ///
    /// Order: `missingToken`/`malformedToken` → `unknownKey` → `badSignature` → `wrongDeal` →
    /// `wrongUser` → `notYetValid` → `expired`.
    public func verify(_ token: String, user: UserID, deal: DealID, at now: Date) throws(CredentialError)
        -> AdmissionPass
    {
        let pass = try authenticate(token)
        do {
            try pass.validate(for: user, deal: deal, at: now, leeway: leeway)
        } catch {
            throw Self.map(error)
        }
        return pass
    }

    /// Shape, key and MAC checks only; no user/deal/time checks.
    public func authenticate(_ token: String) throws(CredentialError) -> AdmissionPass {
        guard !token.isEmpty else { throw CredentialError(.missingToken, "no admission pass presented") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw CredentialError(.malformedToken, "admission pass must have 3 dot-separated parts, has \(parts.count)")
        }
        guard parts[0] == Self.tokenPrefix else {
            throw CredentialError(
                .malformedToken, "unsupported admission pass version \(String(parts[0]).debugDescription)")
        }
        guard let payload = Base64URL.decode(parts[1]) else {
            throw CredentialError(.malformedToken, "admission pass payload is not base64url")
        }
        guard let mac = Base64URL.decode(parts[2]), mac.count == SHA256.byteCount else {
            throw CredentialError(.malformedToken, "admission pass MAC is not a base64url HMAC-SHA256")
        }
        let pass = try Self.decodePayload(payload)
        guard let key = keys[pass.keyId] else {
            throw CredentialError(
                .unknownKey, "admission pass was signed with key \(pass.keyId), which is not accepted")
        }
        // Constant-time comparison inside swift-crypto.
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key) else {
            throw CredentialError(.badSignature, "admission pass MAC does not match")
        }
        return pass
    }

    static func map(_ error: AdmissionPassError) -> CredentialError {
        switch error {
        case .wrongDeal: CredentialError(.wrongDeal, error.description)
        case .wrongUser: CredentialError(.wrongUser, error.description)
        case .notYetValid: CredentialError(.notYetValid, error.description)
        case .expired: CredentialError(.expired, error.description)
        case .invalidLifetime: CredentialError(.malformedToken, error.description)
        }
    }

    /// Parses the canonical length-prefixed payload and insists it re-encodes to the same bytes.
    static func decodePayload(_ bytes: [UInt8]) throws(CredentialError) -> AdmissionPass {
        func malformed(_ why: String) -> CredentialError {
            CredentialError(.malformedToken, "admission pass payload: \(why)")
        }
        var fields: [String] = []
        var index = 0
        while index < bytes.count {
            guard fields.count < 7 else { throw malformed("too many fields") }
            guard bytes.count - index >= 4 else { throw malformed("truncated length") }
            let count =
                Int(bytes[index]) << 24 | Int(bytes[index + 1]) << 16 | Int(bytes[index + 2]) << 8
                | Int(bytes[index + 3])
            index += 4
            guard count <= bytes.count - index else { throw malformed("truncated field") }
            guard let field = String(validating: bytes[index..<(index + count)], as: UTF8.self) else {
                throw malformed("field is not UTF-8")
            }
            fields.append(field)
            index += count
        }
        guard fields.count == 7 else { throw malformed("expected 7 fields, found \(fields.count)") }
        guard fields[0] == AdmissionPass.signingTag else { throw malformed("wrong tag \(fields[0].debugDescription)") }
        guard let issuedMs = Int64(fields[4]), let expiresMs = Int64(fields[5]) else {
            throw malformed("instants must be decimal epoch milliseconds")
        }
        let pass: AdmissionPass
        do {
            pass = try AdmissionPass(
                passId: PassID(fields[1]), dealId: DealID(fields[2]), userId: UserID(fields[3]),
                issuedAt: Timestamp.date(epochMilliseconds: issuedMs),
                expiresAt: Timestamp.date(epochMilliseconds: expiresMs), keyId: SigningKeyID(fields[6]))
        } catch {
            throw malformed("\(error)")
        }
        guard pass.signingInput == bytes else { throw malformed("not in canonical form") }
        return pass
    }
}
