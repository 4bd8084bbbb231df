import Credentials
import Domain
import Foundation
import Testing

@Suite("Admission pass keyring")
struct PassKeyringTests {
    let t0 = Fixture.t0
    let k1 = try! SigningKeyID("k1")
    let k2 = try! SigningKeyID("k2")

    func keyring(_ keys: [SigningKeyID: [UInt8]], current: SigningKeyID, leeway: Duration = .zero) throws -> PassKeyring
    {
        try PassKeyring(keys: keys, current: current, leeway: leeway)
    }

    func pass(
        _ ring: PassKeyring, user: UserID = Fixture.alice, deal: DealID = Fixture.deal,
        lifetime: Duration = .seconds(300)
    ) throws -> AdmissionPass {
        try ring.makePass(passId: PassID("pass-1"), user: user, deal: deal, issuedAt: t0, lifetime: lifetime)
    }

    @Test func roundTripCarriesEveryField() throws {
        let ring = try keyring([k1: Fixture.key(1)], current: k1)
        let original = try pass(ring)
        let token = try ring.sign(original)
        #expect(token.hasPrefix("v1."))
        #expect(token.split(separator: ".").count == 3)
        #expect(token.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }, "URL-safe: \(token)")
        let verified = try ring.verify(token, user: Fixture.alice, deal: Fixture.deal, at: t0.addingTimeInterval(10))
        #expect(verified == original)
        #expect(verified.keyId == k1)
        #expect(verified.passId.rawValue == "pass-1")
        #expect(verified.expiresAt == t0.addingTimeInterval(300))
    }

    @Test func payloadIsTheDomainSigningInput() throws {
        let ring = try keyring([k1: Fixture.key(1)], current: k1)
        let p = try pass(ring)
        let token = try ring.sign(p)
        let payload = Fixture.b64urlDecode(String(token.split(separator: ".")[1]))
        #expect(payload == p.signingInput)
    }

    @Test func rotationAcceptsListedPreviousKeyAndRejectsRemovedKey() throws {
        let old = try keyring([k1: Fixture.key(1)], current: k1)
        let oldToken = try old.sign(try pass(old))
        // Rotate: k2 becomes current, k1 still listed.
        let rotated = try keyring([k1: Fixture.key(1), k2: Fixture.key(2)], current: k2)
        #expect(try rotated.verify(oldToken, user: Fixture.alice, deal: Fixture.deal, at: t0).keyId == k1)
        let newPass = try pass(rotated)
        #expect(newPass.keyId == k2)
        let newToken = try rotated.sign(newPass)
        #expect(try rotated.verify(newToken, user: Fixture.alice, deal: Fixture.deal, at: t0).keyId == k2)
        // Retire k1: its passes are rejected as unknown key, k2's still verify.
        let retired = try keyring([k2: Fixture.key(2)], current: k2)
        Fixture.expectCode(.unknownKey) { () throws(CredentialError) in
            try retired.verify(oldToken, user: Fixture.alice, deal: Fixture.deal, at: t0)
        }
        #expect(try retired.verify(newToken, user: Fixture.alice, deal: Fixture.deal, at: t0).keyId == k2)
        // Signing a pass that names a removed key is refused too.
        Fixture.expectCode(.unknownKey) { () throws(CredentialError) in
            try retired.sign(
                try! old.makePass(
                    passId: PassID("p"), user: Fixture.alice, deal: Fixture.deal, issuedAt: t0, lifetime: .seconds(5)))
        }
    }

    @Test func sameKeyIdWithDifferentSecretIsBadSignature() throws {
        let a = try keyring([k1: Fixture.key(1)], current: k1)
        let b = try keyring([k1: Fixture.key(9)], current: k1)
        let token = try a.sign(try pass(a))
        Fixture.expectCode(.badSignature) { () throws(CredentialError) in
            try b.verify(token, user: Fixture.alice, deal: Fixture.deal, at: t0)
        }
    }

    @Test(arguments: [0, 5, 20, 40])
    func flippedMACByteIsBadSignature(offset: Int) throws {
        let ring = try keyring([k1: Fixture.key(1)], current: k1)
        let token = try ring.sign(try pass(ring))
        var parts = token.split(separator: ".").map(String.init)
        var mac = Fixture.b64urlDecode(parts[2])
        mac[offset % mac.count] ^= 0x01
        parts[2] = Fixture.b64url(mac)
        let forged = parts.joined(separator: ".")
        Fixture.expectCode(.badSignature) { () throws(CredentialError) in
            try ring.verify(forged, user: Fixture.alice, deal: Fixture.deal, at: t0)
        }
    }

    @Test func tamperedPayloadIsRejected() throws {
        let ring = try keyring([k1: Fixture.key(1)], current: k1)
        let p = try pass(ring)
        let token = try ring.sign(p)
        let parts = token.split(separator: ".").map(String.init)
        // Rewrite the user id alice -> alicf (same length, still canonical): MAC must fail.
        var payload = Fixture.b64urlDecode(parts[1])
        let alice = Array("alice".utf8)
        let index = (0...(payload.count - alice.count)).first { Array(payload[$0..<($0 + alice.count)]) == alice }!
        payload[index + 4] ^= 0x03
        let swapped = [parts[0], Fixture.b64url(payload), parts[2]].joined(separator: ".")
        Fixture.expectCode(.badSignature) { () throws(CredentialError) in
            try ring.verify(swapped, user: try! UserID("alicf"), deal: Fixture.deal, at: t0)
        }
        // Extend the expiry: MAC must fail.
        let later = try AdmissionPass(
            passId: p.passId, dealId: p.dealId, userId: p.userId, issuedAt: p.issuedAt,
            expiresAt: p.expiresAt.addingTimeInterval(86_400), keyId: p.keyId)
        let extended = [parts[0], Fixture.b64url(later.signingInput), parts[2]].joined(separator: ".")
        Fixture.expectCode(.badSignature) { () throws(CredentialError) in
            try ring.verify(extended, user: Fixture.alice, deal: Fixture.deal, at: t0)
        }
        // A flipped bit that breaks the payload's structure is malformed, never accepted.
        var broken = Fixture.b64urlDecode(parts[1])
        broken[1] ^= 0x40
        let structural = [parts[0], Fixture.b64url(broken), parts[2]].joined(separator: ".")
        Fixture.expectCode(.malformedToken) { () throws(CredentialError) in
            try ring.verify(structural, user: Fixture.alice, deal: Fixture.deal, at: t0)
        }
    }

    @Test func malformedTokens() throws {
        let ring = try keyring([k1: Fixture.key(1)], current: k1)
        let good = try ring.sign(try pass(ring))
        let parts = good.split(separator: ".").map(String.init)
        Fixture.expectCode(.missingToken) { () throws(CredentialError) in
            try ring.verify("", user: Fixture.alice, deal: Fixture.deal, at: t0)
        }
        for bad in [
            "v1", "v1.abc", "v2.\(parts[1]).\(parts[2])", "\(good).x", "v1.\(parts[1]).", "v1..\(parts[2])",
            "v1.\(parts[1])=.\(parts[2])", "v1.\(parts[1]).\(parts[2].dropLast(2))", "v1.@@@@.\(parts[2])",
            "v1.\(Fixture.b64url(Array("hello world".utf8))).\(parts[2])",
        ] {
            Fixture.expectCode(.malformedToken) { () throws(CredentialError) in
                try ring.verify(bad, user: Fixture.alice, deal: Fixture.deal, at: t0)
            }
        }
    }

    @Test func wrongUserWrongDealAndLifetime() throws {
        let ring = try keyring([k1: Fixture.key(1)], current: k1, leeway: .seconds(2))
        let token = try ring.sign(try pass(ring, lifetime: .seconds(60)))
        Fixture.expectCode(.wrongUser) { () throws(CredentialError) in
            try ring.verify(token, user: Fixture.bob, deal: Fixture.deal, at: t0)
        }
        Fixture.expectCode(.wrongDeal) { () throws(CredentialError) in
            try ring.verify(token, user: Fixture.alice, deal: Fixture.otherDeal, at: t0)
        }
        Fixture.expectCode(.expired) { () throws(CredentialError) in
            try ring.verify(token, user: Fixture.alice, deal: Fixture.deal, at: t0.addingTimeInterval(62))
        }
        #expect(
            try ring.verify(token, user: Fixture.alice, deal: Fixture.deal, at: t0.addingTimeInterval(61)).userId
                == Fixture.alice)
        do {
            _ = try ring.verify(token, user: Fixture.alice, deal: Fixture.deal, at: t0.addingTimeInterval(-3))
            Issue.record("accepted before issuedAt")
        } catch {
            #expect(error.code == .notYetValid)
            #expect(error.isRetryable)
        }
        #expect(
            try ring.verify(token, user: Fixture.alice, deal: Fixture.deal, at: t0.addingTimeInterval(-2)).userId
                == Fixture.alice)
    }

    @Test func forgedWithGuessedKeyOrUnknownKeyId() throws {
        let ring = try keyring([k1: Fixture.key(1)], current: k1)
        let attacker = try keyring([try SigningKeyID("k9"): Fixture.key(1)], current: try SigningKeyID("k9"))
        let forged = try attacker.sign(try pass(attacker))
        Fixture.expectCode(.unknownKey) { () throws(CredentialError) in
            try ring.verify(forged, user: Fixture.alice, deal: Fixture.deal, at: t0)
        }
    }

    @Test func keyringConfigurationErrors() {
        Fixture.expectCode(.invalidKey) { () throws(CredentialError) in try PassKeyring(keys: [:], current: k1) }
        Fixture.expectCode(.invalidKey) { () throws(CredentialError) in
            try PassKeyring(keys: [k1: Fixture.key(1)], current: k2)
        }
        Fixture.expectCode(.invalidKey) { () throws(CredentialError) in
            try PassKeyring(keys: [k1: [1, 2, 3]], current: k1)
        }
        let error = CredentialError(.invalidKey, "x")
        #expect(!error.isRetryable)
    }
}
