public import Domain
public import Foundation
import JWTKit

/// The claims of a shopper's bearer token. `sub` is the shopper's `UserID`; instants are whole
/// seconds since the epoch on the wire (JWT NumericDate).
public struct ShopperClaims: Sendable, Hashable {
    public var subject: String
    public var expiresAt: Date
    public var issuedAt: Date
    public var notBefore: Date?
    public var issuer: String?
    public var audience: [String]?
    /// `operator` for an SRE's token (the console and the operator mutations); absent for shoppers.
    public var role: String?

    /// The role that opens the operator console and its actions.
    public static let operatorRole = "operator"

    public init(
        subject: String, expiresAt: Date, issuedAt: Date, notBefore: Date? = nil,
        issuer: String? = nil, audience: [String]? = nil, role: String? = nil
    ) {
        self.subject = subject
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.notBefore = notBefore
        self.issuer = issuer
        self.audience = audience
        self.role = role
    }

    public var isOperator: Bool { role == Self.operatorRole }

    /// The subject as a validated user id.
    public func userId() throws(CredentialError) -> UserID {
        do {
            return try UserID(subject)
        } catch {
            throw CredentialError(.badSubject, "token subject is not a valid user id: \(error.description)")
        }
    }
}

/// jwt-kit's view of the claims. Its `verify(using:)` is deliberately empty: jwt-kit would check
/// `exp` against the real clock, so every time and identity check runs in `ShopperTokenVerifier`
/// against the instant the caller passes in.
struct ShopperJWTPayload: JWTPayload {
    var sub: SubjectClaim?
    var exp: ExpirationClaim?
    var iat: IssuedAtClaim?
    var nbf: NotBeforeClaim?
    var iss: IssuerClaim?
    var aud: AudienceClaim?
    var role: String?

    init() {}

    init(_ claims: ShopperClaims) {
        sub = SubjectClaim(value: claims.subject)
        exp = ExpirationClaim(value: claims.expiresAt)
        iat = IssuedAtClaim(value: claims.issuedAt)
        nbf = claims.notBefore.map { NotBeforeClaim(value: $0) }
        iss = claims.issuer.map { IssuerClaim(value: $0) }
        aud = claims.audience.map { AudienceClaim(value: $0) }
        role = claims.role
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
