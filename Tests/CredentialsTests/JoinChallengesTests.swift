import Credentials
import Domain
import Foundation
import PropertyBased
import Testing

/// Proof-of-work join challenges: bound to a shopper and a deal, unforgeable, short-lived, and
/// worth exactly the work they ask for.
@Suite struct JoinChallengesTests {
    let challenges: JoinChallenges
    let alice: UserID
    let bob: UserID
    let deal: DealID
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    init() throws {
        challenges = try JoinChallenges(secret: Array("join-challenge-tests-secret-0123456789".utf8))
        alice = try UserID("alice")
        bob = try UserID("bob")
        deal = try DealID("deal-1")
    }

    /// The refusal's code, nil when accepted.
    func code(
        _ challenge: String, solution: String, user: UserID, deal: DealID, minimumBits: Int, at now: Date
    ) -> CredentialError.Code? {
        do {
            try challenges.verify(
                challenge, solution: solution, user: user, deal: deal, minimumBits: minimumBits, at: now)
            return nil
        } catch { return error.code }
    }

    @Test func aSolvedChallengeVerifiesForItsShopperAndDeal() throws {
        let c = challenges.issue(user: alice, deal: deal, bits: 10, at: now)
        let s = JoinChallenges.solve(c, bits: 10)
        #expect(try challenges.verify(c, solution: s, user: alice, deal: deal, minimumBits: 10, at: now) == 10)
        #expect(JoinChallenges.bits(of: c) == 10)
    }

    @Test func everyWayToCheatIsRefusedWithItsCode() throws {
        let c = challenges.issue(user: alice, deal: deal, bits: 10, at: now)
        let s = JoinChallenges.solve(c, bits: 10)
        // Another shopper, another deal: the work is not transferable.
        #expect(
            code(c, solution: s, user: bob, deal: deal, minimumBits: 10, at: now)
                == .wrongUser)
        let other = try DealID("deal-2")
        #expect(
            code(c, solution: s, user: alice, deal: other, minimumBits: 10, at: now)
                == .wrongDeal)
        // Forged: the payload rewritten to ask for 0 bits keeps the old MAC.
        let parts = c.split(separator: ".").map(String.init)
        let payload = String(decoding: Base64URL.decode(parts[1])!, as: UTF8.self).replacingOccurrences(
            of: "|10|", with: "|0|")
        let forged = "c1.\(Base64URL.encode(Array(payload.utf8))).\(parts[2])"
        #expect(
            code(forged, solution: "0", user: alice, deal: deal, minimumBits: 0, at: now)
                == .badSignature)
        // Another gateway's secret.
        let stranger = try JoinChallenges(secret: Array("another-secret-entirely-0123456789abcd".utf8))
        let theirs = stranger.issue(user: alice, deal: deal, bits: 0, at: now)
        #expect(
            code(theirs, solution: "0", user: alice, deal: deal, minimumBits: 0, at: now)
                == .badSignature)
        // Old, or cheaper than the deal now asks.
        let late = now.addingTimeInterval(challenges.lifetime.seconds + 1)
        #expect(
            code(c, solution: s, user: alice, deal: deal, minimumBits: 10, at: late)
                == .expired)
        #expect(
            code(c, solution: s, user: alice, deal: deal, minimumBits: 12, at: now)
                == .insufficientWork)
        // Not a number, too long, or not enough work.
        #expect(
            code(c, solution: "12a", user: alice, deal: deal, minimumBits: 10, at: now)
                == .malformedToken)
        let long = String(repeating: "1", count: 25)
        #expect(
            code(c, solution: long, user: alice, deal: deal, minimumBits: 10, at: now)
                == .malformedToken)
        #expect(
            code("c1.x.y", solution: s, user: alice, deal: deal, minimumBits: 10, at: now)
                == .malformedToken)
    }

    /// A solution is accepted exactly when its hash has the asked leading zero bits.
    @Test func verificationAgreesWithTheHashForAnySolution() async {
        let c = challenges.issue(user: alice, deal: deal, bits: 6, at: now)
        await propertyCheck(count: 300, input: Gen.int(in: 0...100_000)) { n in
            let accepted =
                (try? challenges.verify(c, solution: String(n), user: alice, deal: deal, minimumBits: 6, at: now))
                != nil
            #expect(accepted == (JoinChallenges.zeroBits(challenge: c, solution: String(n)) >= 6))
        }
    }
}
