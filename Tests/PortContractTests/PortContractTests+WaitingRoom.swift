import Admission
import Credentials
import DealData
import Domain
import Foundation
import Gateway
import Infrastructure
import Logging
import OrderWorker
import TestSupport
import Testing
import Twins

/// The waiting room's contract, live (Redis) and in memory.
extension PortContractTests {
    // MARK: The waiting room

    struct Room {
        let gate: any AdmissionGate
        let seed: @Sendable (Deal) async throws -> Void
        /// One pacing step (the draw first when due); returns how many were admitted.
        let callEveryone: @Sendable (DealID) async throws -> Int
        let setStock: @Sendable (DealID, Int) async throws -> Void
        /// Operators' controls of the same rooms.
        let control: any SaleControlling
    }

    static func room(_ backend: Backend, keyring: PassKeyring) async throws -> Room {
        let settings = WaitingRoomSettings(
            admissionRatePerSecond: 1_000, admissionBurst: 1_000, maxActivePasses: 10_000)
        switch backend {
        case .live:
            let redis = try redis()
            let states = DealStateStore(redis: redis)
            try await states.prepare()
            let room = WaitingRoom(redis: redis, settings: settings, keyring: keyring)
            let control = SaleControlStore(redis: redis)
            try await control.prepare()
            return Room(
                gate: room, seed: { _ = try await states.seed($0, reset: true) },
                callEveryone: { deal in
                    _ = try await room.drawIfDue(deal: deal)
                    return try await room.advance(deal: deal, lagFactor: 1).admitted
                },
                setStock: { deal, units in try await redis.send(["SET", AdmissionKeys(deal).stock, String(units)]) },
                control: control)
        case .inMemory:
            let room = InMemoryWaitingRoom(keyring: keyring, settings: settings)
            return Room(
                gate: room, seed: { room.seed($0) }, callEveryone: { try room.advance(deal: $0) },
                setStock: { room.setRemaining($0, $1) }, control: room)
        }
    }

    @Test(arguments: Backend.allCases)
    func onePlacePerShopperOnePassPerPlaceAndAPassBindsOneOrder(_ backend: Backend) async throws {
        let keyring = try PassKeyring(
            keys: [try SigningKeyID("c1"): Array("contract-pass-key-0123456789abcdef".utf8)],
            current: try SigningKeyID("c1"))
        let room = try await Self.room(backend, keyring: keyring)
        let deal = try Self.makeDeal(stock: 10)
        try await room.seed(deal)
        let user = try UserID("w-a")

        #expect(
            try await room.gate.join(deal: try DealID(TestStack.uniqueName("contract-none")), user: user)
                == .unknownDeal)
        guard case .joined(let ticket) = try await room.gate.join(deal: deal.id, user: user) else {
            Issue.record("first join did not give a new place")
            return
        }
        #expect(try await room.gate.join(deal: deal.id, user: user) == .alreadyJoined(ticket))
        #expect(
            try await room.gate.status(ticket: ticket.ticketId, deal: deal.id, user: try UserID("w-x"))
                == .unknownTicket)
        if case .waiting(let position, _, _) = try await room.gate.status(
            ticket: ticket.ticketId, deal: deal.id, user: user)
        {
            #expect(position == 1)
        } else {
            Issue.record("a shopper not yet called is waiting")
        }

        _ = try await room.callEveryone(deal.id)
        guard
            case .admitted(let issued) = try await room.gate.status(ticket: ticket.ticketId, deal: deal.id, user: user)
        else {
            Issue.record("a called shopper is admitted")
            return
        }
        #expect(try await room.gate.status(ticket: ticket.ticketId, deal: deal.id, user: user) == .admitted(issued))
        #expect(
            try keyring.verify(issued.token, user: user, deal: deal.id, at: Date().addingTimeInterval(1)) == issued.pass
        )
        #expect(try await room.gate.draw(deal: deal.id) != nil)
        #expect(try await room.gate.draw(deal: try DealID(TestStack.uniqueName("contract-none"))) == nil)

        let order = OrderID.derive(userId: user, dealId: deal.id, idempotencyKey: try IdempotencyKey("w"))
        let other = OrderID.derive(userId: user, dealId: deal.id, idempotencyKey: try IdempotencyKey("w2"))
        let request = Array("the request".utf8)
        #expect(
            try await room.gate.consume(pass: issued.pass, order: order, quantity: 1, request: request, budget: nil)
                == .accepted)
        #expect(
            try await room.gate.consume(pass: issued.pass, order: order, quantity: 1, request: [], budget: nil)
                == .alreadyAccepted(request: request))
        #expect(
            try await room.gate.consume(pass: issued.pass, order: order, quantity: 2, request: [], budget: nil)
                == .conflictingRetry(quantity: 1))
        #expect(
            try await room.gate.consume(pass: issued.pass, order: other, quantity: 1, request: [], budget: nil)
                == .used(by: order))
        #expect(
            try await room.gate.status(ticket: ticket.ticketId, deal: deal.id, user: user) == .passUsed(orderId: order))

        let never = try keyring.makePass(
            passId: try PassID("never-issued-\(UUID().uuidString.prefix(8))"), user: user,
            deal: deal.id, issuedAt: Date(), lifetime: .seconds(60))
        #expect(
            try await room.gate.consume(pass: never, order: other, quantity: 1, request: [], budget: nil) == .unknown)
    }

    @Test(arguments: Backend.allCases)
    func theRoomTurnsShoppersAwayBeforeItOpensAfterTheEndAndWhenSoldOut(_ backend: Backend) async throws {
        let keyring = try PassKeyring(
            keys: [try SigningKeyID("c1"): Array("contract-pass-key-0123456789abcdef".utf8)],
            current: try SigningKeyID("c1"))
        let room = try await Self.room(backend, keyring: keyring)
        let user = try UserID("w-phase")
        let far = try Self.makeDeal(opensIn: 7_200)
        try await room.seed(far)
        guard case .notOpenYet = try await room.gate.join(deal: far.id, user: user) else {
            Issue.record("a room opens only in the pre-queue window")
            return
        }
        let ended = try Self.makeDeal(opensIn: -7_200)
        try await room.seed(ended)
        #expect(try await room.gate.join(deal: ended.id, user: user) == .ended)
        let none = try Self.makeDeal(stock: 1)
        try await room.seed(none)
        try await room.setStock(none.id, 0)
        #expect(try await room.gate.join(deal: none.id, user: user) == .soldOut)
    }
}
