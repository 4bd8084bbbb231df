import Crypto
import Domain
import Foundation
import Testing

@Suite("Admission pass")
struct AdmissionPassTests {
    private func pass(issuedAt: Date = reference, expiresAt: Date = at(300)) throws -> AdmissionPass {
        try AdmissionPass(
            passId: PassID("pass-1"), dealId: deal("deal-7"), userId: user("user-42"),
            issuedAt: issuedAt, expiresAt: expiresAt, keyId: SigningKeyID("k2026-11"))
    }

    @Test("accepted for its user and deal inside its lifetime")
    func valid() throws {
        try pass().validate(for: user("user-42"), deal: deal("deal-7"), at: at(299.999))
        try pass().validate(for: user("user-42"), deal: deal("deal-7"), at: reference)
    }

    @Test("expired at expiresAt")
    func expired() throws {
        #expect(throws: AdmissionPassError.expired(expiresAt: at(300), now: at(300))) {
            try pass().validate(for: user("user-42"), deal: deal("deal-7"), at: at(300))
        }
    }

    @Test("not yet valid before issuedAt, retryable; leeway absorbs clock skew")
    func notYetValid() throws {
        #expect(throws: AdmissionPassError.notYetValid(issuedAt: reference, now: at(-1))) {
            try pass().validate(for: user("user-42"), deal: deal("deal-7"), at: at(-1))
        }
        #expect(AdmissionPassError.notYetValid(issuedAt: reference, now: at(-1)).isRetryable)
        try pass().validate(for: user("user-42"), deal: deal("deal-7"), at: at(-1), leeway: .seconds(2))
        try pass().validate(for: user("user-42"), deal: deal("deal-7"), at: at(301), leeway: .seconds(2))
    }

    @Test("wrong user and wrong deal are refused, not retryable")
    func wrongSubject() throws {
        #expect(throws: AdmissionPassError.wrongUser(expected: try user("mallory"), actual: try user("user-42"))) {
            try pass().validate(for: user("mallory"), deal: deal("deal-7"), at: reference)
        }
        #expect(throws: AdmissionPassError.wrongDeal(expected: try deal("deal-8"), actual: try deal("deal-7"))) {
            try pass().validate(for: user("user-42"), deal: deal("deal-8"), at: reference)
        }
        #expect(!AdmissionPassError.wrongUser(expected: try user("a"), actual: try user("b")).isRetryable)
    }

    @Test("lifetime must be positive")
    func invalidLifetime() {
        #expect(throws: AdmissionPassError.invalidLifetime(issuedAt: reference, expiresAt: reference)) {
            try pass(expiresAt: reference)
        }
    }

    /// Python: sha256(lp(tag) + lp("pass-1") + lp("deal-7") + lp("user-42") + lp("1795600800000")
    /// + lp("1795601100000") + lp("k2026-11")).hexdigest()
    @Test("signing input is the documented length-prefixed encoding")
    func signingInputGolden() throws {
        let digest = SHA256.hash(data: try pass().signingInput)
        #expect(
            digest.map { String(format: "%02x", $0) }.joined()
                == "f4ccdd2989a075825d06cc5a2287049e08dc7f73387bf05fd66f8bfba47796d6")
    }

    @Test("signing input changes with every field")
    func signingInputCoversAllFields() throws {
        let base = try pass().signingInput
        #expect(try pass(expiresAt: at(301)).signingInput != base)
        #expect(try pass(issuedAt: at(1)).signingInput != base)
        let rotated = try AdmissionPass(
            passId: PassID("pass-1"), dealId: deal("deal-7"), userId: user("user-42"),
            issuedAt: reference, expiresAt: at(300), keyId: SigningKeyID("k2026-12"))
        #expect(rotated.signingInput != base)
    }

    @Test("JSON round trip")
    func codable() throws {
        let data = try JSONEncoder().encode(try pass())
        #expect(try JSONDecoder().decode(AdmissionPass.self, from: data) == pass())
    }
}

@Suite("Waiting room ticket")
struct WaitingRoomTicketTests {
    @Test("position is optional and 1-based")
    func position() throws {
        let ticket = try WaitingRoomTicket(
            ticketId: TicketID("t-1"), dealId: deal("deal-7"), userId: user("u"), issuedAt: reference)
        #expect(ticket.position == nil)
        #expect(try ticket.withPosition(1).position == 1)
        #expect(throws: WaitingRoomTicketError.positionBelowOne(0)) { try ticket.withPosition(0) }
        let data = try JSONEncoder().encode(try ticket.withPosition(3))
        #expect(try JSONDecoder().decode(WaitingRoomTicket.self, from: data) == ticket.withPosition(3))
    }
}
