import Admission
import Credentials
import DealData
import Domain
import Foundation
import Gateway
import Infrastructure
import TestSupport
import Testing
import Twins

/// Operators' controls, live (Redis: the control library and the admission library reading it) and
/// in memory: what each action does to joins, statuses and pacing.
extension PortContractTests {
    static func controlled(_ backend: Backend) async throws -> Room {
        try await room(
            backend,
            keyring: try PassKeyring(
                keys: [try SigningKeyID("c1"): Array("contract-pass-key-0123456789abcdef".utf8)],
                current: try SigningKeyID("c1")))
    }

    static func joined(_ gate: any AdmissionGate, _ deal: DealID, _ user: String) async throws -> WaitingTicket? {
        if case .joined(let ticket) = try await gate.join(deal: deal, user: try UserID(user)) { return ticket }
        return nil
    }

    @Test(arguments: Backend.allCases)
    func pauseKeepsPlacesAdmitGrantsExactlyResumeAdmitsTheRest(_ backend: Backend) async throws {
        let c = try await Self.controlled(backend)
        let deal = try Self.makeDeal(stock: 100)
        try await c.seed(deal)
        var tickets: [WaitingTicket] = []
        for i in 0..<5 { tickets.append(try #require(try await Self.joined(c.gate, deal.id, "pause-\(i)"))) }
        let guardrails = OperatorGuardrails()
        let paused = try await c.control.apply(.pause, to: deal.id, now: Date(), guardrails: guardrails)
        #expect(!paused.before.paused && paused.after.paused)
        #expect(try await c.callEveryone(deal.id) == 0)
        let last = try await c.gate.status(ticket: tickets[4].ticketId, deal: deal.id, user: tickets[4].userId)
        #expect(last == .paused(position: 5))

        _ = try await c.control.apply(.admit(2), to: deal.id, now: Date(), guardrails: guardrails)
        #expect(try await c.callEveryone(deal.id) == 2)
        #expect(try await c.callEveryone(deal.id) == 0, "a grant is used once")
        let third = try await c.gate.status(ticket: tickets[2].ticketId, deal: deal.id, user: tickets[2].userId)
        #expect(third == .paused(position: 1))

        let resumed = try await c.control.apply(.resume, to: deal.id, now: Date(), guardrails: guardrails)
        #expect(resumed.before.paused && !resumed.after.paused)
        #expect(try await c.callEveryone(deal.id) == 3)
    }

    @Test(arguments: Backend.allCases)
    func aClosedLineTakesNoNewcomersAndSoldOutIsHeardByEveryone(_ backend: Backend) async throws {
        let c = try await Self.controlled(backend)
        let deal = try Self.makeDeal(stock: 100)
        try await c.seed(deal)
        let guardrails = OperatorGuardrails()
        let first = try #require(try await Self.joined(c.gate, deal.id, "close-a"))

        _ = try await c.control.apply(.closeQueue, to: deal.id, now: Date(), guardrails: guardrails)
        #expect(try await c.gate.join(deal: deal.id, user: try UserID("close-b")) == .queueClosed)
        #expect(try await c.gate.join(deal: deal.id, user: first.userId) == .alreadyJoined(first))
        #expect(try await c.callEveryone(deal.id) == 1, "those in line are still served")

        let marked = try await c.control.apply(.markSoldOut, to: deal.id, now: Date(), guardrails: guardrails)
        #expect(marked.before.closure == .queue && marked.after.closure == .soldOut)
        #expect(try await c.gate.status(ticket: first.ticketId, deal: deal.id, user: first.userId) == .soldOut)
        #expect(try await c.gate.join(deal: deal.id, user: try UserID("close-c")) == .soldOut)

        let reopened = try await c.control.apply(.reopen, to: deal.id, now: Date(), guardrails: guardrails)
        #expect(reopened.after.closure == nil)
        #expect(try await Self.joined(c.gate, deal.id, "close-c") != nil)
    }

    @Test(arguments: Backend.allCases)
    func theOpeningMovesOnlyBeforeItHappensAndTheSaleKeepsItsLength(_ backend: Backend) async throws {
        let c = try await Self.controlled(backend)
        let guardrails = OperatorGuardrails()
        let later = try Self.makeDeal(opensIn: 3_600)
        try await c.seed(later)
        let target = Date().addingTimeInterval(7_200)
        let moved = try await c.control.apply(.moveOpening(target), to: later.id, now: Date(), guardrails: guardrails)
        #expect(abs(moved.after.startsAt.timeIntervalSince(target)) < 0.001)
        #expect(
            abs(
                moved.after.endsAt.timeIntervalSince(moved.after.startsAt)
                    - later.endsAt.timeIntervalSince(later.startsAt))
                < 0.001)
        #expect(try await c.control.control(of: later.id) == moved.after)

        let open = try Self.makeDeal(opensIn: -1)
        try await c.seed(open)
        _ = try await c.callEveryone(open.id)  // the draw runs at the opening
        await #expect(throws: SaleControlRefusal.self) {
            try await c.control.apply(
                .moveOpening(Date().addingTimeInterval(600)), to: open.id, now: Date(), guardrails: guardrails)
        }
        await #expect(throws: SaleControlRefusal.self) {
            try await c.control.apply(.setAdmissionRate(0), to: open.id, now: Date(), guardrails: guardrails)
        }
        #expect(try await c.control.control(of: try DealID(TestStack.uniqueName("contract-none"))) == nil)
    }
}
