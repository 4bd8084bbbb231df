import Admission
import DealData
import Domain
import Foundation
import Infrastructure
import TestSupport
import Testing

@Suite("Deal state in Redis", .timeLimit(.minutes(2)))
struct DealStateStoreTests {
    @Test func seedWritesInfoStockAndACommitmentAndStateReadsThemBack() async throws {
        let h = try await AdmissionHarness()
        let deal = try await h.deal(stock: 50, limit: 3, seed: false)
        let seeding = try await h.store.seed(deal, reset: false)
        #expect(seeding.createdStock)
        #expect(seeding.remaining == 50)
        #expect(seeding.seedCommitment.count == 64 && seeding.seedCommitment.allSatisfy { $0.isHexDigit })

        let state = try #require(try await h.store.state(of: deal.id, budget: .milliseconds(500)))
        #expect(
            state
                == DealState(
                    dealId: deal.id, startsAt: deal.startsAt, endsAt: deal.endsAt, totalStock: 50,
                    remaining: 50, perCustomerLimit: 3, soldOutFlag: false))
        #expect(!state.isSoldOut)

        let info = try await h.redis.send(["HGETALL", AdmissionKeys(deal.id).info])
        let fields = try #require(info.arrayValue?.compactMap { $0.stringValue })
        #expect(fields.count == 10)
        var map: [String: String] = [:]
        for index in stride(from: 0, to: fields.count, by: 2) { map[fields[index]] = fields[index + 1] }
        #expect(map["startsAt"] == String(Timestamp.epochMilliseconds(deal.startsAt)))
        #expect(map["endsAt"] == String(Timestamp.epochMilliseconds(deal.endsAt)))
        #expect(map["totalStock"] == "50")
        #expect(map["perCustomerLimit"] == "3")
        #expect(map["paymentWindowMs"] == "0", "no payment window")

        let room = h.room(AdmissionHarness.settings())
        let record = try #require(try await room.draw(deal: deal.id))
        #expect(record.seedCommitment == seeding.seedCommitment)
        #expect(record.seed == nil, "the seed stays secret until the draw")
    }

    @Test func anUnknownDealHasNoState() async throws {
        let h = try await AdmissionHarness()
        let id = try DealID(TestStack.uniqueName("adm-nodeal"))
        #expect(try await h.store.state(of: id, budget: nil) == nil)
        #expect(try await h.room(AdmissionHarness.settings()).draw(deal: id) == nil)
    }

    @Test func seedingAgainKeepsStockSeedAndRoomUnlessReset() async throws {
        let h = try await AdmissionHarness()
        let deal = try await h.deal(stock: 20, limit: 2, seed: false)
        let first = try await h.store.seed(deal, reset: false)
        let room = h.room(AdmissionHarness.settings())
        guard case .joined(let ticket) = try await room.join(deal: deal.id, user: try UserID("keeper")) else {
            Issue.record("join failed")
            return
        }
        // The order worker takes 7 units and the deal sells out for a moment.
        try await h.redis.send(["DECRBY", AdmissionKeys(deal.id).stock, "7"])
        try await h.redis.send(["SET", AdmissionKeys(deal.id).soldOut, "1"])

        // Re-seeding (e.g. a second `deal create` without --reset) with a changed limit.
        let changed = try Deal(
            id: deal.id, productId: deal.productId, title: deal.title, price: deal.price,
            startsAt: deal.startsAt, endsAt: deal.endsAt, totalStock: 20, perCustomerLimit: 4)
        let second = try await h.store.seed(changed, reset: false)
        #expect(!second.createdStock)
        #expect(second.remaining == 13)
        #expect(second.seedCommitment == first.seedCommitment)
        let state = try #require(try await h.store.state(of: deal.id, budget: nil))
        #expect(state.remaining == 13)
        #expect(state.perCustomerLimit == 4)
        #expect(state.soldOutFlag)
        #expect(state.isSoldOut)
        #expect(try await room.join(deal: deal.id, user: try UserID("keeper")) == .alreadyJoined(ticket))

        // Reset: full stock, no flag, a new seed, an empty room.
        let third = try await h.store.seed(changed, reset: true)
        #expect(third.createdStock)
        #expect(third.remaining == 20)
        #expect(third.seedCommitment != first.seedCommitment)
        let reset = try #require(try await h.store.state(of: deal.id, budget: nil))
        #expect(reset.remaining == 20 && !reset.soldOutFlag)
        #expect(try await room.status(ticket: ticket.ticketId, deal: deal.id, user: ticket.userId) == .unknownTicket)
    }

    @Test func soldOutFlagOrZeroStockMakeTheStateSoldOut() async throws {
        let h = try await AdmissionHarness()
        let deal = try await h.deal(stock: 5)
        try await h.setStock(deal.id, 0)
        let empty = try #require(try await h.store.state(of: deal.id, budget: nil))
        #expect(empty.isSoldOut && !empty.soldOutFlag)
        #expect(empty.phase(at: Date(), preQueueWindow: .seconds(60)) == .soldOut)
        try await h.setStock(deal.id, 2)
        #expect(try await h.store.state(of: deal.id, budget: nil)?.phase(at: Date(), preQueueWindow: .zero) == .open)
    }
}
