import Admission
import Credentials
import DealData
import Domain
import Foundation
import Infrastructure
import TestSupport
import Testing

@Suite("Waiting room on the real Redis", .timeLimit(.minutes(3)))
struct WaitingRoomTests {
    @Test func oneUserHasOnePlaceEvenWhenJoiningConcurrently() async throws {
        let h = try await AdmissionHarness()
        let deal = try await h.deal()
        let room = h.room(AdmissionHarness.settings())
        let user = try UserID("twice")
        let outcomes = try await withThrowingTaskGroup(of: JoinOutcome.self) { group in
            for _ in 0..<12 { group.addTask { try await room.join(deal: deal.id, user: user) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let joined = outcomes.compactMap { if case .joined(let t) = $0 { t } else { nil } }
        let again = outcomes.compactMap { if case .alreadyJoined(let t) = $0 { t } else { nil } }
        #expect(joined.count == 1, "\(outcomes)")
        #expect(again.count == 11)
        let ticket = try #require(joined.first)
        #expect(again.allSatisfy { $0 == ticket })
        #expect(ticket.userId == user && ticket.dealId == deal.id && !ticket.preQueue)
        #expect(ticket.ticketId.rawValue.hasPrefix("tkt_") && ticket.ticketId.rawValue.count == 36)
        #expect(ticket.ticketId.rawValue.dropFirst(4).allSatisfy { $0.isHexDigit && !$0.isUppercase })

        // Another shopper gets another (unguessable) ticket; a ticket is checked against its user.
        guard case .joined(let other) = try await room.join(deal: deal.id, user: try UserID("other")) else {
            Issue.record("second shopper could not join")
            return
        }
        #expect(other.ticketId != ticket.ticketId)
        #expect(
            try await room.status(ticket: ticket.ticketId, deal: deal.id, user: try UserID("other")) == .unknownTicket)
        #expect(
            try await room.status(
                ticket: try TicketID("tkt_00000000000000000000000000000000"), deal: deal.id,
                user: user) == .unknownTicket)
        #expect(try await h.position(room, ticket) == 1)
        #expect(try await h.position(room, other) == 2)
    }

    @Test func joiningOutsideTheWindowOrWithoutStockIsRefused() async throws {
        let h = try await AdmissionHarness()
        let room = h.room(AdmissionHarness.settings(preQueueWindow: .seconds(600)))
        let user = try UserID("early-bird")

        let later = try await h.deal(startsIn: .seconds(3_600))
        guard case .notOpenYet(let opensAt) = try await room.join(deal: later.id, user: user) else {
            Issue.record("a deal an hour away must not take joins yet")
            return
        }
        #expect(Timestamp.epochMilliseconds(opensAt) == Timestamp.epochMilliseconds(later.startsAt) - 600_000)

        let over = try await h.deal(startsIn: .seconds(-7_200), lasts: .seconds(3_600))
        #expect(try await room.join(deal: over.id, user: user) == .ended)

        let empty = try await h.deal(stock: 3)
        try await h.setStock(empty.id, 0)
        #expect(try await room.join(deal: empty.id, user: user) == .soldOut)

        #expect(try await room.join(deal: try DealID(TestStack.uniqueName("adm-none")), user: user) == .unknownDeal)
    }

    @Test func afterTheOpeningPlacesAreFirstComeFirstServed() async throws {
        let h = try await AdmissionHarness()
        let deal = try await h.deal()
        let room = h.room(AdmissionHarness.settings(rate: 0.001, burst: 3))
        let tickets = try await h.join(room, deal.id, try AdmissionHarness.users(8, "fcfs"))
        #expect(tickets.allSatisfy { !$0.preQueue })
        #expect(try await room.drawIfDue(deal: deal.id), "an open deal with an empty pre-queue is drawn at once")
        for (index, ticket) in tickets.enumerated() {
            #expect(try await h.position(room, ticket) == index + 1)
        }
        let step = try await room.advance(deal: deal.id, lagFactor: 1)
        #expect(step.admitted == 3)
        #expect(step.waiting == 5)
        #expect(step.activePasses == 3)
        for ticket in tickets.prefix(3) { #expect(try await h.issuedPass(room, ticket) != nil, "\(ticket.userId)") }
        for (index, ticket) in tickets.dropFirst(3).enumerated() {
            #expect(try await h.position(room, ticket) == index + 1, "\(ticket.userId)")
        }
    }

    @Test func aPassIsIssuedOnceAndStaysTheSameWhileValid() async throws {
        let h = try await AdmissionHarness()
        let deal = try await h.deal()
        let settings = AdmissionHarness.settings(passLifetime: .seconds(90))
        let room = h.room(settings)
        let ticket = try #require(try await h.join(room, deal.id, [try UserID("passholder")]).first)
        _ = try await room.drawIfDue(deal: deal.id)
        #expect(try await room.advance(deal: deal.id, lagFactor: 1).admitted == 1)

        let first = try #require(try await h.issuedPass(room, ticket))
        let again = try #require(try await h.issuedPass(room, ticket))
        #expect(first == again, "polling again returns the same pass and token")
        #expect(first.pass.passId.rawValue.hasPrefix("pass_") && first.pass.passId.rawValue.count == 37)
        #expect(first.pass.dealId == deal.id && first.pass.userId == ticket.userId)
        #expect(first.pass.keyId == h.keyring.currentKeyId)
        #expect(first.pass.expiresAt.timeIntervalSince(first.pass.issuedAt) == 90)
        let issuedAt = first.pass.issuedAt
        let verified = try h.keyring.verify(first.token, user: ticket.userId, deal: deal.id, at: issuedAt)
        #expect(verified == first.pass)
        // Redis time stamped the pass: it is close to Redis's clock now.
        #expect(abs(try await h.redisTime().timeIntervalSince(issuedAt)) < 5)

        // A second gateway replica (another WaitingRoom on another client) sees the same pass.
        let replica = h.room(settings)
        #expect(try await h.issuedPass(replica, ticket) == first)
        // Rejoining while the pass is valid keeps the place.
        #expect(try await room.join(deal: deal.id, user: ticket.userId) == .alreadyJoined(ticket))
    }

    @Test func consumingAPassBindsItToOneOrder() async throws {
        let h = try await AdmissionHarness()
        let deal = try await h.deal()
        let room = h.room(AdmissionHarness.settings())
        let tickets = try await h.join(room, deal.id, try AdmissionHarness.users(2, "buyer"))
        _ = try await room.drawIfDue(deal: deal.id)
        #expect(try await room.advance(deal: deal.id, lagFactor: 1).admitted == 2)
        let pass = try #require(try await h.issuedPass(room, tickets[0])).pass
        let otherPass = try #require(try await h.issuedPass(room, tickets[1])).pass
        #expect(try await room.advance(deal: deal.id, lagFactor: 1).activePasses == 2)

        let order = OrderID.derive(userId: pass.userId, dealId: deal.id, idempotencyKey: try IdempotencyKey("k-1"))
        let otherOrder = OrderID.derive(userId: pass.userId, dealId: deal.id, idempotencyKey: try IdempotencyKey("k-2"))
        let request = Array(#"{"orderId":"first"}"#.utf8)
        #expect(
            try await room.consume(pass: pass, order: order, quantity: 2, request: request, budget: nil) == .accepted)
        // A retry gets the request stored by the first binding back, not its own.
        #expect(
            try await room.consume(
                pass: pass, order: order, quantity: 2, request: Array("{}".utf8), budget: .milliseconds(200))
                == .alreadyAccepted(request: request))
        let keys = AdmissionKeys(deal.id)
        #expect(try await h.redis.send(["HGET", keys.requests, order.rawValue]).stringValue == #"{"orderId":"first"}"#)
        #expect(
            try await h.redis.send(["ZSCORE", keys.undecided, order.rawValue]).stringValue != nil,
            "an accepted order is undecided until the worker decides it")
        #expect(
            try await room.consume(pass: pass, order: order, quantity: 1, request: Array("{}".utf8), budget: nil)
                == .conflictingRetry(quantity: 2))
        #expect(
            try await room.consume(pass: pass, order: otherOrder, quantity: 2, request: Array("{}".utf8), budget: nil)
                == .used(by: order))

        // Capacity returns as soon as the pass is bound.
        #expect(try await room.advance(deal: deal.id, lagFactor: 1).activePasses == 1)
        #expect(
            try await room.status(ticket: tickets[0].ticketId, deal: deal.id, user: tickets[0].userId)
                == .passUsed(orderId: order))
        #expect(try await room.join(deal: deal.id, user: tickets[0].userId) == .alreadyJoined(tickets[0]))

        // A pass the room never issued, and a real pass presented for another shopper.
        let forged = try h.keyring.makePass(
            passId: try PassID("pass_forged"), user: pass.userId, deal: deal.id,
            issuedAt: Date(), lifetime: .seconds(60))
        #expect(
            try await room.consume(pass: forged, order: order, quantity: 1, request: Array("{}".utf8), budget: nil)
                == .unknown)
        let stolen = try AdmissionPass(
            passId: otherPass.passId, dealId: deal.id, userId: pass.userId,
            issuedAt: otherPass.issuedAt, expiresAt: otherPass.expiresAt, keyId: otherPass.keyId)
        #expect(
            try await room.consume(pass: stolen, order: order, quantity: 1, request: Array("{}".utf8), budget: nil)
                == .unknown)
        #expect(try await h.issuedPass(room, tickets[1]) != nil, "the other shopper's pass is untouched")
    }

    @Test func anExpiredPassIsRefusedAndItsCapacityReturns() async throws {
        let h = try await AdmissionHarness()
        let deal = try await h.deal()
        let room = h.room(AdmissionHarness.settings(rate: 0.001, burst: 10, maxActive: 2, passLifetime: .seconds(3)))
        let tickets = try await h.join(room, deal.id, try AdmissionHarness.users(3, "short"))
        _ = try await room.drawIfDue(deal: deal.id)
        let first = try await room.advance(deal: deal.id, lagFactor: 1)
        #expect(first.admitted == 2 && first.activePasses == 2, "\(first)")
        let pass = try #require(try await h.issuedPass(room, tickets[0])).pass  // tickets[1] never picks its pass up
        #expect(try await room.advance(deal: deal.id, lagFactor: 1).admitted == 0, "no capacity left")
        #expect(try await h.position(room, tickets[2]) == 1)

        // tickets[1] was called in the same step, so its pick-up deadline is no later than the pass's expiry.
        try await h.waitForRedisTime(pass.expiresAt.addingTimeInterval(0.05))
        let reclaim = try await room.advance(deal: deal.id, lagFactor: 1)
        #expect(reclaim.reclaimedPasses == 2, "\(reclaim)")
        #expect(reclaim.admitted == 1, "the capacity came back for the next shopper")
        #expect(reclaim.activePasses == 1)

        let order = OrderID.derive(userId: pass.userId, dealId: deal.id, idempotencyKey: try IdempotencyKey("late"))
        #expect(
            try await room.consume(pass: pass, order: order, quantity: 1, request: Array("{}".utf8), budget: nil)
                == .expired)
        #expect(try await room.status(ticket: tickets[0].ticketId, deal: deal.id, user: tickets[0].userId) == .expired)
        #expect(try await room.status(ticket: tickets[1].ticketId, deal: deal.id, user: tickets[1].userId) == .expired)
        #expect(try await h.issuedPass(room, tickets[2]) != nil)

        // Joining again gives a new place at the back.
        guard case .joined(let fresh) = try await room.join(deal: deal.id, user: tickets[0].userId) else {
            Issue.record("an expired shopper must get a new place")
            return
        }
        #expect(fresh.ticketId != tickets[0].ticketId)
        #expect(try await h.position(room, fresh) == 1)
    }

    @Test func anExpiredPassIsRefusedEvenBeforeThePacerReclaimsIt() async throws {
        let h = try await AdmissionHarness()
        let deal = try await h.deal()
        let room = h.room(AdmissionHarness.settings(passLifetime: .milliseconds(500)))
        let ticket = try #require(try await h.join(room, deal.id, [try UserID("slow")]).first)
        _ = try await room.drawIfDue(deal: deal.id)
        _ = try await room.advance(deal: deal.id, lagFactor: 1)
        let pass = try #require(try await h.issuedPass(room, ticket)).pass
        try await h.waitForRedisTime(pass.expiresAt.addingTimeInterval(0.02))
        let order = OrderID.derive(userId: pass.userId, dealId: deal.id, idempotencyKey: try IdempotencyKey("k"))
        #expect(
            try await room.consume(pass: pass, order: order, quantity: 1, request: Array("{}".utf8), budget: nil)
                == .expired)
        #expect(
            try await room.consume(pass: pass, order: order, quantity: 1, request: Array("{}".utf8), budget: nil)
                == .expired)
        #expect(try await room.status(ticket: ticket.ticketId, deal: deal.id, user: ticket.userId) == .expired)
        #expect(try await room.advance(deal: deal.id, lagFactor: 1).activePasses == 0)
    }

    @Test func abandonedPlacesAreSkippedAtTheHeadOfTheLine() async throws {
        let h = try await AdmissionHarness()
        let deal = try await h.deal()
        let room = h.room(AdmissionHarness.settings(rate: 0.001, burst: 2, abandonAfter: .seconds(1)))
        let tickets = try await h.join(room, deal.id, try AdmissionHarness.users(4, "abandon"))
        _ = try await room.drawIfDue(deal: deal.id)
        try await h.waitForRedisTime(try await h.redisTime().addingTimeInterval(1.1))
        // The first shopper stopped polling; the next two are still there.
        #expect(try await h.position(room, tickets[1]) == 2)
        #expect(try await h.position(room, tickets[2]) == 3)
        let step = try await room.advance(deal: deal.id, lagFactor: 1)
        #expect(step.admitted == 2, "the abandoned place is passed over, not counted: \(step)")
        #expect(step.waiting == 1)
        #expect(try await room.status(ticket: tickets[0].ticketId, deal: deal.id, user: tickets[0].userId) == .expired)
        #expect(try await h.issuedPass(room, tickets[1]) != nil)
        #expect(try await h.issuedPass(room, tickets[2]) != nil)
        #expect(try await h.position(room, tickets[3]) == 1)
        guard case .joined(let back) = try await room.join(deal: deal.id, user: tickets[0].userId) else {
            Issue.record("the shopper who left may join again")
            return
        }
        #expect(try await h.position(room, back) == 2)
    }

    @Test func everyKeyOfADealCarriesItsHashTag() async throws {
        let h = try await AdmissionHarness()
        // Time enough for the five early joins to land before the opening even on a loaded machine.
        let deal = try await h.deal(startsIn: .seconds(4))
        let room = h.room(AdmissionHarness.settings(drawChunk: 2))
        let early = try await h.join(room, deal.id, try AdmissionHarness.users(5, "tag-early"))
        try await h.waitForRedisTime(deal.startsAt)
        let late = try await h.join(room, deal.id, try AdmissionHarness.users(3, "tag-late"))
        #expect(try await room.drawIfDue(deal: deal.id))
        _ = try await room.advance(deal: deal.id, lagFactor: 1)
        let drawn = try await room.entrants(deal: deal.id)
        #expect(drawn == early.map { $0.userId })
        for ticket in early + late {
            if let issued = try await h.issuedPass(room, ticket), ticket.userId == early[0].userId {
                let order = OrderID.derive(
                    userId: ticket.userId, dealId: deal.id, idempotencyKey: try IdempotencyKey("t"))
                #expect(
                    try await room.consume(
                        pass: issued.pass, order: order, quantity: 1, request: Array("{}".utf8), budget: nil)
                        == .accepted)
            }
        }
        try await h.redis.send(["SET", AdmissionKeys(deal.id).soldOut, "1"])

        let keys = try await h.keys(mentioning: deal.id)
        let expected = AdmissionKeys(deal.id)
        #expect(Set(keys) == Set(expected.all), "keys: \(keys)")
        let tag = "{deal:\(deal.id.rawValue)}"
        let slot = clusterSlot(tag)
        for key in keys {
            #expect(key.contains(tag), "\(key)")
            #expect(clusterSlot(key) == slot, "\(key)")
        }
        #expect(expected.hashTag == tag)
        // The slot function itself, against the values Redis's documentation gives for CLUSTER KEYSLOT.
        #expect(clusterSlot("somekey") == 11_058)
        #expect(clusterSlot("foo{hash_tag}") == 2_515)
    }
}
