import Crypto
public import Domain
public import Foundation
import JWTKit

/// Key that checks shopper token signatures.
public enum ShopperVerificationKey: Sendable {
    /// HS256 with a shared secret (at least 32 bytes).
    case hs256(secret: [UInt8])
    /// EdDSA (Ed25519) with the issuer's 32-byte raw public key.
    case ed25519(publicKey: [UInt8])
}

/// Key that signs shopper tokens.
public enum ShopperSigningKey: Sendable {
    /// HS256 with a shared secret (at least 32 bytes).
    case hs256(secret: [UInt8])
    /// EdDSA (Ed25519) with a 32-byte raw private key.
    case ed25519(privateKey: [UInt8])

    /// The matching verification key.
    public func verificationKey() throws(CredentialError) -> ShopperVerificationKey {
        switch self {
        case .hs256(let secret): return .hs256(secret: secret)
        case .ed25519(let raw):
            do {
                return .ed25519(
                    publicKey: [UInt8](
                        try Curve25519.Signing.PrivateKey(rawRepresentation: raw).publicKey.rawRepresentation))
            } catch {
                throw CredentialError(.invalidKey, "Ed25519 private key must be 32 raw bytes")
            }
        }
    }

    /// A fresh random Ed25519 private key (raw bytes).
    public static func generateEd25519() -> ShopperSigningKey {
        .ed25519(privateKey: [UInt8](Curve25519.Signing.PrivateKey().rawRepresentation))
    }
}

enum ShopperKeys {
    static let minimumSecretLength = 32

    static func collection(verifying key: ShopperVerificationKey) async throws(CredentialError) -> JWTKeyCollection {
        let keys = JWTKeyCollection()
        switch key {
        case .hs256(let secret):
            try checkSecret(secret)
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        case .ed25519(let raw):
            do {
                let publicKey = try Curve25519.Signing.PublicKey(rawRepresentation: raw)
                await keys.add(eddsa: EdDSA.PublicKey(backing: publicKey))
            } catch {
                throw CredentialError(.invalidKey, "Ed25519 public key must be 32 raw bytes")
            }
        }
        return keys
    }

    static func collection(signing key: ShopperSigningKey) async throws(CredentialError) -> JWTKeyCollection {
        guard case .ed25519(let raw) = key else { return try await collection(verifying: key.verificationKey()) }
        let keys = JWTKeyCollection()
        do {
            let privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            await keys.add(eddsa: EdDSA.PrivateKey(backing: privateKey))
        } catch {
            throw CredentialError(.invalidKey, "Ed25519 private key must be 32 raw bytes")
        }
        return keys
    }

    static func checkSecret(_ secret: [UInt8]) throws(CredentialError) {
        guard secret.count >= minimumSecretLength else {
            throw CredentialError(
                .invalidKey,
                "HS256 secret is \(secret.count) bytes; at least \(minimumSecretLength) are required")
        }
    }
}

/// Checks shopper bearer tokens (JWT) and yields the shopper's `UserID`.
///
/// jwt-kit checks the signature before it decodes the payload, so a token with a bad signature is
/// `badSignature` even when its payload is garbage; a header that is not base64url JSON is
/// `malformedToken`. jwt-kit checks the signature only; `exp`, `nbf`, `iat`, `iss`, `aud` and `sub` are checked here
/// against the `now` the caller passes, with `leeway` either side.
public struct ShopperTokenVerifier: Sendable {
    private let keys: JWTKeyCollection
    private let fastPath: HS256FastPath?
    public let expectedIssuer: String?
    public let expectedAudience: String?
    public let leeway: Duration

    /// - Parameters:
    ///   - expectedIssuer: when set, `iss` must equal it.
    ///   - expectedAudience: when set, `aud` must contain it.
    /// - Throws: `invalidKey` for a short HS256 secret or a bad Ed25519 key.
    public init(
        key: ShopperVerificationKey, expectedIssuer: String?, expectedAudience: String?,
        leeway: Duration = .seconds(30)
    ) async throws(CredentialError) {
        self.keys = try await ShopperKeys.collection(verifying: key)
        if case .hs256(let secret) = key { fastPath = HS256FastPath(secret: secret) } else { fastPath = nil }
        self.expectedIssuer = expectedIssuer
        self.expectedAudience = expectedAudience
        self.leeway = leeway
    }

    /// Accepts `"Bearer <jwt>"` (scheme case-insensitive) or the bare JWT.
    public func verify(bearer: String, at now: Date) async throws(CredentialError) -> UserID {
        try await verifyClaims(bearer: bearer, at: now).userId()
    }

    /// Like `verify(bearer:at:)` but returns all claims (subject already validated).
    public func verifyClaims(bearer: String, at now: Date) async throws(CredentialError) -> ShopperClaims {
        let token = try Self.extractToken(bearer)
        let payload = try await signedPayload(token)
        let claims = try check(payload, at: now)
        _ = try claims.userId()
        return claims
    }

    /// The token's payload once its signature is checked: the ordinary HS256 token by
    /// ``HS256FastPath``, anything else (and every token it does not accept) by jwt-kit.
    func signedPayload(_ token: String) async throws(CredentialError) -> ShopperJWTPayload {
        if let fastPath, let payload = fastPath.verify(token) { return payload }
        return try await referencePayload(token)
    }

    /// jwt-kit's answer alone (the reference the fast path is tested against).
    func referencePayload(_ token: String) async throws(CredentialError) -> ShopperJWTPayload {
        do {
            return try await keys.verify(token, as: ShopperJWTPayload.self)
        } catch let error as JWTError {
            throw Self.map(error)
        } catch {
            throw CredentialError(.malformedToken, "token rejected: \(error)")
        }
    }

    /// The fast path's answer alone: nil when it leaves the token to jwt-kit.
    func fastPayload(_ token: String) -> ShopperJWTPayload? { fastPath?.verify(token) }

    /// The fuzzing oracle: false only when the fast path accepted `token` and jwt-kit refuses it
    /// or reads other claims from it.
    public func fastPathAgreesWithReference(_ token: String) async -> Bool {
        guard let fast = fastPayload(token) else { return true }
        guard let reference = try? await referencePayload(token) else { return false }
        return fast.sub?.value == reference.sub?.value && fast.exp?.value == reference.exp?.value
            && fast.iat?.value == reference.iat?.value && fast.nbf?.value == reference.nbf?.value
            && fast.iss?.value == reference.iss?.value && fast.aud?.value == reference.aud?.value
            && fast.role == reference.role
    }

    static func extractToken(_ header: String) throws(CredentialError) -> String {
        // On UTF-8 bytes: Foundation trimming, `lowercased()` of the whole header and `split` each
        // showed up in the gateway's CPU profile.
        let bytes = header.utf8
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isBlank(bytes[start]) { start = bytes.index(after: start) }
        while start < end, isBlank(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
        guard start < end, !isBearer(bytes[start..<end]) else {
            throw CredentialError(.missingToken, "no bearer token presented")
        }
        var tokenStart = start
        if let space = bytes[start..<end].firstIndex(of: UInt8(ascii: " ")) {
            guard isBearer(bytes[start..<space]) else {
                throw CredentialError(.malformedToken, "authorization scheme must be Bearer")
            }
            tokenStart = space
            while tokenStart < end, bytes[tokenStart] == UInt8(ascii: " ") {
                tokenStart = bytes.index(after: tokenStart)
            }
        }
        guard tokenStart < end else { throw CredentialError(.missingToken, "no bearer token presented") }
        let token = bytes[tokenStart..<end]
        guard token.lazy.filter({ $0 == UInt8(ascii: ".") }).count == 2 else {
            throw CredentialError(.malformedToken, "a JWT has 3 dot-separated parts")
        }
        return String(Substring(token))
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    /// `bearer` in any letter case: the scheme of an `Authorization` header that carries a token.
    public static func isBearer(_ bytes: Substring.UTF8View) -> Bool {
        bytes.count == 6 && zip(bytes, "bearer".utf8).allSatisfy { $0 | 0x20 == $1 }
    }

    static func map(_ error: JWTError) -> CredentialError {
        switch error.errorType {
        case .signatureVerificationFailed: CredentialError(.badSignature, "token signature does not match")
        default:
            CredentialError(
                .malformedToken, "token rejected: \(error.errorType)\(error.reason.map { " (\($0))" } ?? "")")
        }
    }

    private func check(_ payload: ShopperJWTPayload, at now: Date) throws(CredentialError) -> ShopperClaims {
        guard let sub = payload.sub?.value else { throw CredentialError(.badSubject, "token has no subject") }
        guard let exp = payload.exp?.value else { throw CredentialError(.malformedToken, "token has no exp claim") }
        guard let iat = payload.iat?.value else { throw CredentialError(.malformedToken, "token has no iat claim") }
        let slack = leeway.seconds
        guard now < exp.addingTimeInterval(slack) else {
            throw CredentialError(.expired, "token expired at \(Timestamp.format(exp)) (now \(Timestamp.format(now)))")
        }
        if let nbf = payload.nbf?.value, now < nbf.addingTimeInterval(-slack) {
            throw CredentialError(
                .notYetValid, "token is not valid before \(Timestamp.format(nbf)) (now \(Timestamp.format(now)))")
        }
        guard now >= iat.addingTimeInterval(-slack) else {
            throw CredentialError(
                .notYetValid,
                "token was issued in the future at \(Timestamp.format(iat)) (now \(Timestamp.format(now)))")
        }
        if let expectedIssuer, payload.iss?.value != expectedIssuer {
            throw CredentialError(
                .wrongIssuer,
                "token issuer is \(payload.iss?.value.debugDescription ?? "missing"), expected \(expectedIssuer.debugDescription)"
            )
        }
        if let expectedAudience, !(payload.aud?.value.contains(expectedAudience) ?? false) {
            throw CredentialError(.wrongAudience, "token is not intended for \(expectedAudience.debugDescription)")
        }
        return ShopperClaims(
            subject: sub, expiresAt: exp, issuedAt: iat, notBefore: payload.nbf?.value,
            issuer: payload.iss?.value, audience: payload.aud?.value, role: payload.role)
    }
}

/// Mints shopper bearer tokens (tests, load runs, the `flashdeal token` command).
public struct ShopperTokenIssuer: Sendable {
    private let keys: JWTKeyCollection
    public let issuer: String?
    public let audience: String?
    public let lifetime: Duration

    /// - Throws: `invalidKey` for a short HS256 secret or a bad Ed25519 key.
    public init(key: ShopperSigningKey, issuer: String?, audience: String?, lifetime: Duration)
        async throws(CredentialError)
    {
        self.keys = try await ShopperKeys.collection(signing: key)
        self.issuer = issuer
        self.audience = audience
        self.lifetime = lifetime
    }

    /// A token for `user` issued at `now` (whole seconds), expiring `lifetime` later.
    public func issue(for user: UserID, at now: Date, notBefore: Date? = nil, role: String? = nil)
        async throws(CredentialError) -> String
    {
        let iat = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let seconds = lifetime.seconds
        let claims = ShopperClaims(
            subject: user.rawValue, expiresAt: iat.addingTimeInterval(seconds.rounded(.up)),
            issuedAt: iat, notBefore: notBefore, issuer: issuer,
            audience: audience.map { [$0] }, role: role)
        return try await sign(claims)
    }

    /// Signs arbitrary claims as given (tests use this to build bad tokens).
    public func sign(_ claims: ShopperClaims) async throws(CredentialError) -> String {
        do {
            return try await keys.sign(ShopperJWTPayload(claims))
        } catch {
            throw CredentialError(.signingFailed, "could not sign token: \(error)")
        }
    }
}
