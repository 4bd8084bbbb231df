import Crypto
import Domain
import Foundation
import JWTKit
import PropertyBased
import Testing

@testable import Credentials

/// The HS256 fast path against jwt-kit, the reference: over generated tokens — ordinary ones and
/// every kind of odd header, claim, encoding and signature — the fast path either leaves a token
/// to jwt-kit or reads exactly the claims jwt-kit reads from a token jwt-kit accepts.
@Suite("Shopper tokens: the HS256 fast path agrees with jwt-kit")
struct ShopperTokenFastPathTests {
    static let headers = [
        #"{"alg":"HS256","typ":"JWT"}"#, #"{"typ":"JWT","alg":"HS256"}"#, #"{"alg":"HS256"}"#,
        #"{"alg":"HS256","typ":"JWT","kid":"k1"}"#, #"{"alg":"HS384","typ":"JWT"}"#, #"{"alg":"none"}"#,
        #"{"alg": "HS256", "typ": "JWT"}"#, #"{"alg":"HS256","typ":"jwt"}"#,
    ]
    static let ordinaryHeaders = 0..<3

    /// One claim, ordinary (index 0) or one of its odd spellings.
    static let claimSpellings: [(name: String, spellings: [String?])] = [
        ("sub", [#""alice""#, nil, #""al\u0069ce""#, "42", #""""#, #""b ob""#]),
        ("exp", ["1790000600", nil, "1790000600.5", "-5", #""1790000600""#, "01790000600", "1.79e9"]),
        ("iat", ["1790000000", nil, "1790000000.0", "null"]),
        ("nbf", [nil, "1789999990", "1e3"]),
        ("iss", [#""flashdeal""#, nil, "7", #""flash\"deal""#]),
        ("aud", [#"["flashdeal-gateway"]"#, #""flashdeal-gateway""#, nil, "[]", #"["a","flashdeal-gateway"]"#, "[1]"]),
        ("role", [nil, #""admin""#, "{}"]),
    ]

    static let secret = Array("fast-path-secret-0123456789-abcdefghij".utf8)

    struct Case: CustomStringConvertible {
        let header: Int
        let claims: [Int]
        let duplicate: Bool
        let signature: Int
        let space: Bool
        var description: String { "header \(header) claims \(claims) dup \(duplicate) sig \(signature) space \(space)" }

        /// Spellings the fast path reads itself (per claim, indexes into `claimSpellings`).
        static let plain: [Set<Int>] = [[0, 1, 4, 5], [0, 1], [0, 1], [0, 1], [0, 1], [0, 1, 2, 4], [0]]

        var ordinary: Bool {
            ShopperTokenFastPathTests.ordinaryHeaders.contains(header) && !duplicate && signature == 0
                && zip(claims, Self.plain).allSatisfy { $1.contains($0) }
        }

        func token() -> String {
            var fields: [String] = []
            for (choice, claim) in zip(claims, ShopperTokenFastPathTests.claimSpellings) {
                if let value = claim.spellings[choice] { fields.append("\"\(claim.name)\":\(value)") }
            }
            if duplicate { fields.append(#""sub":"mallory""#) }
            let payload = "{" + fields.joined(separator: space ? ", " : ",") + "}"
            let signingInput =
                Base64URL.encode(Array(ShopperTokenFastPathTests.headers[header].utf8)) + "."
                + Base64URL.encode(Array(payload.utf8))
            let key = SymmetricKey(data: signature == 1 ? Array("another-secret-0123456789-abcdefghij".utf8) : secret)
            var mac = Base64URL.encode(HMAC<SHA256>.authenticationCode(for: Array(signingInput.utf8), using: key))
            switch signature {
            case 2: mac = String(mac.dropLast()) + (mac.last == "A" ? "B" : "A")
            case 3: mac += "="
            case 4: mac = ""
            default: break
            }
            return signingInput + "." + mac
        }
    }

    static let cases = zip(
        Gen.int(in: 0...(2 * headers.count - 1)),
        Gen.int(in: 0...999).array(of: claimSpellings.count...claimSpellings.count),
        Gen.int(in: 0...9), Gen.int(in: 0...9)
    ).map { header, picks, extra, signature in
        // Mostly ordinary claims, so accepted tokens are common; odd ones often enough.
        let claims = zip(picks, claimSpellings).map { pick, claim in pick < 850 ? 0 : pick % claim.spellings.count }
        return Case(
            header: header < headers.count ? header : 0, claims: claims, duplicate: extra == 0,
            signature: signature < 6 ? 0 : signature - 5, space: extra == 1)
    }

    func verifier() async throws -> ShopperTokenVerifier {
        try await ShopperTokenVerifier(
            key: .hs256(secret: Self.secret), expectedIssuer: nil, expectedAudience: nil)
    }

    static func same(_ a: ShopperJWTPayload, _ b: ShopperJWTPayload) -> Bool {
        a.sub?.value == b.sub?.value && a.exp?.value == b.exp?.value && a.iat?.value == b.iat?.value
            && a.nbf?.value == b.nbf?.value && a.iss?.value == b.iss?.value && a.aud?.value == b.aud?.value
    }

    @Test("over generated tokens the fast path accepts only what jwt-kit accepts, with the same claims")
    func agreesWithJWTKit() async throws {
        let verifier = try await verifier()
        var accepted = 0
        var leftToReference = 0
        await propertyCheck(count: 400, input: Self.cases) { c in
            let token = c.token()
            let fast = verifier.fastPayload(token)
            let reference = try? await verifier.referencePayload(token)
            if let fast {
                accepted += 1
                #expect(reference.map { Self.same(fast, $0) } == true, "\(c): \(token)")
            } else {
                leftToReference += 1
                #expect(!c.ordinary, "an ordinary token missed the fast path: \(c): \(token)")
            }
        }
        #expect(accepted > 25 && leftToReference > 100, "accepted \(accepted), left \(leftToReference)")
    }

    @Test("tokens the issuer mints take the fast path, and the verifier's answer is the reference's")
    func issuedTokensAreFast() async throws {
        let verifier = try await verifier()
        let issuer = try await ShopperTokenIssuer(
            key: .hs256(secret: Self.secret), issuer: "flashdeal", audience: "flashdeal-gateway",
            lifetime: .seconds(600))
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        for user in ["alice", "bob-2", "한국어"] {
            guard let id = try? UserID(user) else { continue }
            let token = try await issuer.issue(for: id, at: now, notBefore: now)
            let fast = try #require(verifier.fastPayload(token), "\(token)")
            let reference = try await verifier.referencePayload(token)
            #expect(Self.same(fast, reference))
            #expect(try await verifier.verify(bearer: "Bearer " + token, at: now) == id)
        }
    }

    @Test("an Ed25519 verifier never takes the HS256 fast path")
    func ed25519HasNoFastPath() async throws {
        let key = ShopperSigningKey.generateEd25519()
        let verifier = try await ShopperTokenVerifier(
            key: key.verificationKey(), expectedIssuer: nil, expectedAudience: nil)
        let token = Case(header: 0, claims: Array(repeating: 0, count: 7), duplicate: false, signature: 0, space: false)
            .token()
        #expect(verifier.fastPayload(token) == nil)
    }
}
