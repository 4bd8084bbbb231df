public import Foundation

/// Proof that a shopper came through the waiting room and may place orders for one deal until
/// `expiresAt`. The gateway signs `signingInput` with the key named by `keyId`; the domain only
/// defines the bytes and the checks. Instants are kept at millisecond precision.
public struct AdmissionPass: Hashable, Sendable {
    public static var signingTag: String { "flashdeal:admission-pass:v1" }

    public let passId: PassID
    public let dealId: DealID
    public let userId: UserID
    public let issuedAt: Date
    public let expiresAt: Date
    public let keyId: SigningKeyID

    public init(
        passId: PassID, dealId: DealID, userId: UserID, issuedAt: Date, expiresAt: Date,
        keyId: SigningKeyID
    ) throws(AdmissionPassError) {
        let issuedAt = Timestamp.normalized(issuedAt)
        let expiresAt = Timestamp.normalized(expiresAt)
        guard expiresAt > issuedAt else { throw .invalidLifetime(issuedAt: issuedAt, expiresAt: expiresAt) }
        self.passId = passId
        self.dealId = dealId
        self.userId = userId
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.keyId = keyId
    }

    /// Accepts the pass for `user` and `deal` at `now` if it is within
    /// `[issuedAt − leeway, expiresAt + leeway)`. Checks run deal, user, not-yet-valid, expired.
    public func validate(for user: UserID, deal: DealID, at now: Date, leeway: Duration = .zero)
        throws(AdmissionPassError)
    {
        guard deal == dealId else { throw .wrongDeal(expected: deal, actual: dealId) }
        guard user == userId else { throw .wrongUser(expected: user, actual: userId) }
        let slack = max(0, leeway.seconds)
        guard now >= issuedAt.addingTimeInterval(-slack) else { throw .notYetValid(issuedAt: issuedAt, now: now) }
        guard now < expiresAt.addingTimeInterval(slack) else { throw .expired(expiresAt: expiresAt, now: now) }
    }

    /// The exact bytes to sign: the length-prefixed encoding (see `OrderID.derive`) of
    /// `[tag, passId, dealId, userId, issuedAt ms, expiresAt ms, keyId]`, with the instants as
    /// decimal epoch milliseconds.
    public var signingInput: [UInt8] {
        CanonicalEncoding.lengthPrefixed([
            Self.signingTag, passId.rawValue, dealId.rawValue, userId.rawValue,
            String(Timestamp.epochMilliseconds(issuedAt)), String(Timestamp.epochMilliseconds(expiresAt)),
            keyId.rawValue,
        ])
    }
}

extension AdmissionPass: Codable {
    private enum CodingKeys: String, CodingKey { case passId, dealId, userId, issuedAt, expiresAt, keyId }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let passId = try c.decode(PassID.self, forKey: .passId)
        let dealId = try c.decode(DealID.self, forKey: .dealId)
        let userId = try c.decode(UserID.self, forKey: .userId)
        let issuedAt = try c.decodeTimestamp(forKey: .issuedAt)
        let expiresAt = try c.decodeTimestamp(forKey: .expiresAt)
        let keyId = try c.decode(SigningKeyID.self, forKey: .keyId)
        self = try c.decodeValidated(forKey: .expiresAt) {
            try AdmissionPass(
                passId: passId, dealId: dealId, userId: userId, issuedAt: issuedAt,
                expiresAt: expiresAt, keyId: keyId)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(passId, forKey: .passId)
        try c.encode(dealId, forKey: .dealId)
        try c.encode(userId, forKey: .userId)
        try c.encodeTimestamp(issuedAt, forKey: .issuedAt)
        try c.encodeTimestamp(expiresAt, forKey: .expiresAt)
        try c.encode(keyId, forKey: .keyId)
    }
}

public enum AdmissionPassError: DomainError {
    case invalidLifetime(issuedAt: Date, expiresAt: Date)
    case wrongDeal(expected: DealID, actual: DealID)
    case wrongUser(expected: UserID, actual: UserID)
    /// Clock skew between issuer and checker; the same pass may be accepted moments later.
    case notYetValid(issuedAt: Date, now: Date)
    case expired(expiresAt: Date, now: Date)

    public var isRetryable: Bool {
        if case .notYetValid = self { true } else { false }
    }

    public var description: String {
        switch self {
        case .invalidLifetime(let issuedAt, let expiresAt):
            "admission pass must expire after it is issued (issuedAt \(Timestamp.format(issuedAt)), expiresAt \(Timestamp.format(expiresAt)))"
        case .wrongDeal(let expected, let actual): "admission pass is for deal \(actual), not \(expected)"
        case .wrongUser(let expected, let actual): "admission pass belongs to user \(actual), not \(expected)"
        case .notYetValid(let issuedAt, let now):
            "admission pass is not valid before \(Timestamp.format(issuedAt)) (now \(Timestamp.format(now)))"
        case .expired(let expiresAt, let now):
            "admission pass expired at \(Timestamp.format(expiresAt)) (now \(Timestamp.format(now)))"
        }
    }
}
