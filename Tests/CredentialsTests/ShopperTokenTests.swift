import Credentials
import Domain
import Foundation
import Testing

@Suite("Shopper tokens")
struct ShopperTokenTests {
    let t0 = Fixture.t0

    func issuer(
        issuer: String? = "flashdeal", audience: String? = "flashdeal-gateway",
        key: ShopperSigningKey = .hs256(secret: Fixture.secret), lifetime: Duration = .seconds(3600)
    ) async throws -> ShopperTokenIssuer {
        try await ShopperTokenIssuer(key: key, issuer: issuer, audience: audience, lifetime: lifetime)
    }

    func verifier(
        key: ShopperVerificationKey = .hs256(secret: Fixture.secret),
        leeway: Duration = .seconds(30)
    ) async throws -> ShopperTokenVerifier {
        try await ShopperTokenVerifier(
            key: key, expectedIssuer: "flashdeal", expectedAudience: "flashdeal-gateway", leeway: leeway)
    }

    @Test func validTokenYieldsUserWithAndWithoutBearerPrefix() async throws {
        let token = try await issuer().issue(for: Fixture.alice, at: t0)
        let v = try await verifier()
        #expect(try await v.verify(bearer: "Bearer \(token)", at: t0.addingTimeInterval(10)) == Fixture.alice)
        #expect(try await v.verify(bearer: "bearer  \(token)", at: t0) == Fixture.alice)
        #expect(try await v.verify(bearer: token, at: t0) == Fixture.alice)
        #expect(try await v.verify(bearer: " \tBEARER \(token)\t ", at: t0) == Fixture.alice)
        #expect(try await v.verify(bearer: "bEaReR \(token)", at: t0) == Fixture.alice)
        let claims = try await v.verifyClaims(bearer: token, at: t0)
        #expect(claims.issuedAt == t0)
        #expect(claims.expiresAt == t0.addingTimeInterval(3600))
        #expect(claims.audience == ["flashdeal-gateway"])
    }

    @Test func timeIsTheCallersNotTheWallClock() async throws {
        // A token that expired decades ago in real time still verifies at the instant we pass in.
        let old = Date(timeIntervalSince1970: 1_000_000_000)
        let token = try await issuer().issue(for: Fixture.alice, at: old)
        #expect(try await verifier().verify(bearer: token, at: old.addingTimeInterval(60)) == Fixture.alice)
    }

    @Test func missingAndMalformedTokens() async throws {
        let v = try await verifier()
        await Fixture.expectCode(.missingToken) { () async throws(CredentialError) in
            try await v.verify(bearer: "", at: t0)
        }
        await Fixture.expectCode(.missingToken) { () async throws(CredentialError) in
            try await v.verify(bearer: "Bearer ", at: t0)
        }
        await Fixture.expectCode(.malformedToken) { () async throws(CredentialError) in
            try await v.verify(bearer: "Basic dXNlcjpwYXNz", at: t0)
        }
        await Fixture.expectCode(.malformedToken) { () async throws(CredentialError) in
            try await v.verify(bearer: "Bearer abc.def", at: t0)
        }
        await Fixture.expectCode(.missingToken) { () async throws(CredentialError) in
            try await v.verify(bearer: " \t ", at: t0)
        }
        await Fixture.expectCode(.missingToken) { () async throws(CredentialError) in
            try await v.verify(bearer: "BEARER", at: t0)
        }
        await Fixture.expectCode(.missingToken) { () async throws(CredentialError) in
            try await v.verify(bearer: "Bearer \t", at: t0)
        }
        await Fixture.expectCode(.malformedToken) { () async throws(CredentialError) in
            try await v.verify(bearer: "Bearerx a.b.c", at: t0)
        }
        await Fixture.expectCode(.malformedToken) { () async throws(CredentialError) in
            try await v.verify(bearer: "Bearer a.b.c.d", at: t0)
        }
        await Fixture.expectCode(.malformedToken) { () async throws(CredentialError) in
            try await v.verify(bearer: "Bearer a.b.c d", at: t0)
        }
        await Fixture.expectCode(.malformedToken) { () async throws(CredentialError) in
            try await v.verify(bearer: "Bearér a.b.c", at: t0)
        }
        await Fixture.expectCode(.malformedToken) { () async throws(CredentialError) in
            try await v.verify(bearer: "Bearer !!!.@@@.###", at: t0)
        }
        let headerNotJSON = "\(Fixture.b64url(Array("nope".utf8))).\(Fixture.b64url(Array("{}".utf8))).AAAA"
        await Fixture.expectCode(.malformedToken) { () async throws(CredentialError) in
            try await v.verify(bearer: headerNotJSON, at: t0)
        }
        // The signature is checked before the payload is decoded: unsigned garbage is a bad signature.
        let payloadNotJSON =
            "\(Fixture.b64url(Array("{\"alg\":\"HS256\"}".utf8))).\(Fixture.b64url(Array("nope".utf8))).AAAA"
        await Fixture.expectCode(.badSignature) { () async throws(CredentialError) in
            try await v.verify(bearer: payloadNotJSON, at: t0)
        }
    }

    @Test func wrongSecretIsBadSignature() async throws {
        let forged = try await issuer(key: .hs256(secret: Fixture.key(7))).issue(for: Fixture.alice, at: t0)
        let v = try await verifier()
        await Fixture.expectCode(.badSignature) { () async throws(CredentialError) in
            try await v.verify(bearer: forged, at: t0)
        }
    }

    @Test func tamperedPayloadAndSignatureAreRejected() async throws {
        let token = try await issuer().issue(for: Fixture.alice, at: t0)
        let v = try await verifier()
        // Swap the subject for another user, keep the original signature.
        var parts = token.split(separator: ".").map(String.init)
        let payload = String(decoding: Fixture.b64urlDecode(parts[1]), as: UTF8.self)
            .replacingOccurrences(of: "\"alice\"", with: "\"bob\"")
        parts[1] = Fixture.b64url(Array(payload.utf8))
        let swapped = parts.joined(separator: ".")
        await Fixture.expectCode(.badSignature) { () async throws(CredentialError) in
            try await v.verify(bearer: swapped, at: t0)
        }
        let badSig = Fixture.tamper(token, segment: 2, offset: 5)
        await Fixture.expectCode(.badSignature) { () async throws(CredentialError) in
            try await v.verify(bearer: badSig, at: t0)
        }
    }

    @Test func algNoneIsNotAccepted() async throws {
        let header = Fixture.b64url(Array(#"{"alg":"none","typ":"JWT"}"#.utf8))
        let body = Fixture.b64url(
            Array(
                #"{"sub":"alice","exp":1790003600,"iat":1790000000,"iss":"flashdeal","aud":"flashdeal-gateway"}"#.utf8))
        let v = try await verifier()
        do {
            _ = try await v.verify(bearer: "\(header).\(body).", at: t0)
            Issue.record("unsigned token accepted")
        } catch {
            #expect(error.code == .badSignature || error.code == .malformedToken, "\(error)")
        }
    }

    @Test func expiryHonoursLeeway() async throws {
        let token = try await issuer(lifetime: .seconds(60)).issue(for: Fixture.alice, at: t0)
        let v = try await verifier(leeway: .seconds(5))
        #expect(try await v.verify(bearer: token, at: t0.addingTimeInterval(64)) == Fixture.alice)
        await Fixture.expectCode(.expired) { () async throws(CredentialError) in
            try await v.verify(bearer: token, at: t0.addingTimeInterval(65))
        }
    }

    @Test func notYetValidIsRetryable() async throws {
        let token = try await issuer().issue(for: Fixture.alice, at: t0, notBefore: t0.addingTimeInterval(120))
        let v = try await verifier(leeway: .seconds(10))
        do {
            _ = try await v.verify(bearer: token, at: t0.addingTimeInterval(100))
            Issue.record("accepted before nbf")
        } catch {
            #expect(error.code == .notYetValid)
            #expect(error.isRetryable)
        }
        #expect(try await v.verify(bearer: token, at: t0.addingTimeInterval(110)) == Fixture.alice)
        // iat in the future (beyond leeway) is also not yet valid.
        let future = try await issuer().issue(for: Fixture.alice, at: t0.addingTimeInterval(600))
        await Fixture.expectCode(.notYetValid) { () async throws(CredentialError) in
            try await v.verify(bearer: future, at: t0)
        }
    }

    @Test func wrongIssuerAndAudience() async throws {
        let v = try await verifier()
        let otherIss = try await issuer(issuer: "evil").issue(for: Fixture.alice, at: t0)
        let noIss = try await issuer(issuer: nil).issue(for: Fixture.alice, at: t0)
        let otherAud = try await issuer(audience: "admin-api").issue(for: Fixture.alice, at: t0)
        let noAud = try await issuer(audience: nil).issue(for: Fixture.alice, at: t0)
        await Fixture.expectCode(.wrongIssuer) { () async throws(CredentialError) in
            try await v.verify(bearer: otherIss, at: t0)
        }
        await Fixture.expectCode(.wrongIssuer) { () async throws(CredentialError) in
            try await v.verify(bearer: noIss, at: t0)
        }
        await Fixture.expectCode(.wrongAudience) { () async throws(CredentialError) in
            try await v.verify(bearer: otherAud, at: t0)
        }
        await Fixture.expectCode(.wrongAudience) { () async throws(CredentialError) in
            try await v.verify(bearer: noAud, at: t0)
        }
        let multi = try await issuer().sign(
            ShopperClaims(
                subject: "alice", expiresAt: t0.addingTimeInterval(60), issuedAt: t0,
                issuer: "flashdeal", audience: ["other", "flashdeal-gateway"]))
        #expect(try await v.verify(bearer: multi, at: t0) == Fixture.alice)
    }

    @Test func badSubject() async throws {
        let v = try await verifier()
        let iss = try await issuer()
        for subject in ["", "alice smith", "ünïcode", String(repeating: "x", count: 129)] {
            let token = try await iss.sign(
                ShopperClaims(
                    subject: subject, expiresAt: t0.addingTimeInterval(60), issuedAt: t0,
                    issuer: "flashdeal", audience: ["flashdeal-gateway"]))
            await Fixture.expectCode(.badSubject) { () async throws(CredentialError) in
                try await v.verify(bearer: token, at: t0)
            }
        }
    }

    @Test func ed25519TokensVerifyWithPublicKeyOnly() async throws {
        let signing = ShopperSigningKey.generateEd25519()
        let token = try await issuer(key: signing).issue(for: Fixture.bob, at: t0)
        let v = try await verifier(key: try signing.verificationKey())
        #expect(try await v.verify(bearer: token, at: t0) == Fixture.bob)
        // A different Ed25519 key, or the HS256 verifier, rejects it.
        let other = try await verifier(key: try ShopperSigningKey.generateEd25519().verificationKey())
        await Fixture.expectCode(.badSignature) { () async throws(CredentialError) in
            try await other.verify(bearer: token, at: t0)
        }
        let tampered = Fixture.tamper(token, segment: 2, offset: 10)
        await Fixture.expectCode(.badSignature) { () async throws(CredentialError) in
            try await v.verify(bearer: tampered, at: t0)
        }
    }

    @Test func weakOrBadKeysAreRejected() async throws {
        await Fixture.expectCode(.invalidKey) { () async throws(CredentialError) in
            try await ShopperTokenVerifier(
                key: .hs256(secret: Array("short".utf8)), expectedIssuer: nil, expectedAudience: nil)
        }
        await Fixture.expectCode(.invalidKey) { () async throws(CredentialError) in
            try await ShopperTokenVerifier(
                key: .ed25519(publicKey: [1, 2, 3]), expectedIssuer: nil, expectedAudience: nil)
        }
        await Fixture.expectCode(.invalidKey) { () async throws(CredentialError) in
            try await ShopperTokenIssuer(
                key: .ed25519(privateKey: [1, 2, 3]), issuer: nil, audience: nil, lifetime: .seconds(1))
        }
    }
}
