/// A rejected or unusable credential: a shopper token, an admission pass, a key or a proxy list.
///
/// `isRetryable` is `true` only where the same credential may be accepted a moment later
/// (`notYetValid`: clock skew between issuer and checker). Every other code means the credential
/// or the configuration is wrong and retrying the same call gives the same answer.
public struct CredentialError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Backing: String, Hashable, Sendable {
            case missingToken, malformedToken, badSignature, unknownKey, expired, notYetValid
            case wrongIssuer, wrongAudience, badSubject, wrongUser, wrongDeal
            case invalidKey, invalidCIDR, signingFailed, insufficientWork
        }
        private let backing: Backing
        private init(_ backing: Backing) { self.backing = backing }

        /// No credential was presented (empty header, no `Bearer` token).
        public static let missingToken = Code(.missingToken)
        /// The credential is not in the expected shape (segments, base64url, JSON, fields).
        public static let malformedToken = Code(.malformedToken)
        /// The signature or MAC does not match: forged or tampered.
        public static let badSignature = Code(.badSignature)
        /// The credential names a signing key that is not (or no longer) configured.
        public static let unknownKey = Code(.unknownKey)
        /// The credential's lifetime is over.
        public static let expired = Code(.expired)
        /// The credential is not valid yet; clock skew, so a later attempt may succeed.
        public static let notYetValid = Code(.notYetValid)
        /// The token was issued by someone else.
        public static let wrongIssuer = Code(.wrongIssuer)
        /// The token is meant for another audience.
        public static let wrongAudience = Code(.wrongAudience)
        /// The token's subject is missing or not a valid user id.
        public static let badSubject = Code(.badSubject)
        /// The admission pass belongs to another user.
        public static let wrongUser = Code(.wrongUser)
        /// The admission pass is for another deal.
        public static let wrongDeal = Code(.wrongDeal)
        /// A configured key is unusable (empty secret, bad Ed25519 key, duplicate or missing key id).
        public static let invalidKey = Code(.invalidKey)
        /// A join challenge's solution does not carry the work asked (too few leading zero bits), or
        /// the challenge asks for less work than the deal now requires.
        public static let insufficientWork = Code(.insufficientWork)
        /// A trusted-proxy entry is not a valid IPv4/IPv6 address or CIDR.
        public static let invalidCIDR = Code(.invalidCIDR)
        /// Signing failed inside the JWT library.
        public static let signingFailed = Code(.signingFailed)

        public var description: String { backing.rawValue }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var isRetryable: Bool { code == .notYetValid }

    public var description: String { "credential \(code): \(message)" }
}
