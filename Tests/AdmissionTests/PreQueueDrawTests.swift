import Admission
import DealData
import Domain
import Foundation
import Infrastructure
import TestSupport
import Testing

/// An auditor's independent implementation of the published draw, in Python (hashlib), run from the
/// project's virtual environment: `(seed, entrants in arrival order)` → drawn order, and the seed's
/// SHA-256 commitment.
enum IndependentDraw {
    static let script = """
        import hashlib, json, sys
        request = json.load(sys.stdin)
        seed, order = request["seed"], list(request["entrants"])
        for i in range(len(order) - 1, 0, -1):
            j = int(hashlib.sha1(f"{seed}:{i}".encode()).hexdigest()[:12], 16) % (i + 1)
            order[i], order[j] = order[j], order[i]
        json.dump({"order": order, "commitment": hashlib.sha256(seed.encode()).hexdigest()}, sys.stdout)
        """

    struct Result: Decodable {
        let order: [String]
        let commitment: String
    }

    static func run(seed: String, entrants: [String]) throws -> Result {
        let python = TestStack.root + "/.deps/venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw Missing(description: "\(python) not found: run scripts/setup")
        }
        let run = try ChildProcess.run(
            python, ["-c", script],
            input: try JSONSerialization.data(
                withJSONObject: ["seed": seed, "entrants": entrants]))
        guard run.status == 0 else {
            throw Missing(description: "python exited \(String(describing: run.status)): \(run.output)")
        }
        let data = Data(run.output.utf8)
        return try JSONDecoder().decode(Result.self, from: data)
    }

    struct Missing: Error, CustomStringConvertible { let description: String }
}

@Suite("Pre-queue draw")
struct PreQueueDrawTests {
    @Test func theShuffleMatchesThePublishedVector() throws {
        // Computed with the Python above: seed "flashdeal", entrants a…h.
        let drawn = PreQueueDraw.order(entrants: Array("abcdefgh").map(String.init), seed: "flashdeal")
        #expect(drawn == ["g", "c", "d", "a", "b", "e", "f", "h"])
        #expect(
            PreQueueDraw.commitment(of: "flashdeal")
                == "f7b1b62573a7a154799d0ee35f997a3329064529eae38ba4b840285085a6a4ad")
    }

    @Test func theShuffleIsAPermutationDecidedByTheSeed() throws {
        let entrants = Array(0..<200)
        let a = PreQueueDraw.order(entrants: entrants, seed: "seed-a")
        #expect(a.sorted() == entrants)
        #expect(a == PreQueueDraw.order(entrants: entrants, seed: "seed-a"))
        #expect(a != PreQueueDraw.order(entrants: entrants, seed: "seed-b"))
        #expect(a != entrants)
        #expect(PreQueueDraw.order(entrants: [Int](), seed: "x").isEmpty)
        #expect(PreQueueDraw.order(entrants: [7], seed: "x") == [7])
        for i in 1..<50 { #expect((0...i).contains(PreQueueDraw.swapIndex(seed: "s", step: i))) }
        let seed = PreQueueDraw.makeSeed()
        #expect(seed.count == 64 && seed != PreQueueDraw.makeSeed())
    }

    @Test func theSwiftDrawAgreesWithTheIndependentOneOnRandomSeeds() throws {
        let entrants = (0..<500).map { "user-\($0)" }
        for _ in 0..<3 {
            let seed = PreQueueDraw.makeSeed()
            let independent = try IndependentDraw.run(seed: seed, entrants: entrants)
            #expect(PreQueueDraw.order(entrants: entrants, seed: seed) == independent.order)
            #expect(PreQueueDraw.commitment(of: seed) == independent.commitment)
        }
    }
}

@Suite("Pre-queue draw on the real Redis", .timeLimit(.minutes(3)))
struct PreQueueDrawStackTests {
    @Test func preQueueEntrantsAreDrawnReproduciblyAndLaterShoppersQueueBehindThem() async throws {
        let h = try await AdmissionHarness()
        // No admission: every place stays visible as a position.
        let room = h.room(AdmissionHarness.settings(rate: 0.001, burst: 0, drawChunk: 7))
        // Long enough for the 40 joins and checks below to happen before the opening on a busy machine.
        let deal = try await h.deal(startsIn: .seconds(6))
        let commitment = try #require(try await room.draw(deal: deal.id)).seedCommitment

        let users = try AdmissionHarness.users(40, "early")
        let early = try await h.join(room, deal.id, users)
        #expect(early.allSatisfy { $0.preQueue })
        let status = try await room.status(ticket: early[3].ticketId, deal: deal.id, user: early[3].userId)
        #expect(status == .preQueue(drawAt: deal.startsAt, entrants: 40))
        #expect(try await room.join(deal: deal.id, user: users[3]) == .alreadyJoined(early[3]))
        #expect(try await room.drawIfDue(deal: deal.id) == false, "not before the opening")
        let before = try #require(try await room.draw(deal: deal.id))
        #expect(before == DrawRecord(seedCommitment: commitment, seed: nil, entrants: 40, drawnAt: nil))

        try await h.waitForRedisTime(deal.startsAt)
        // Shoppers arriving after the opening, even before the draw ran, queue behind all entrants.
        let late = try await h.join(room, deal.id, try AdmissionHarness.users(3, "late"))
        #expect(late.allSatisfy { !$0.preQueue })
        #expect(try await h.position(room, late[0]) == 41)
        #expect(
            try await room.status(ticket: early[0].ticketId, deal: deal.id, user: early[0].userId)
                == .preQueue(drawAt: deal.startsAt, entrants: 40), "no place before the draw")
        #expect(try await room.advance(deal: deal.id, lagFactor: 1).admitted == 0)

        // Three replicas run the draw at once; it is done once, in chunks of 7 swaps.
        let done = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<3 { group.addTask { try await room.drawIfDue(deal: deal.id) } }
            return try await group.reduce(true) { $0 && $1 }
        }
        #expect(done)
        let steps = try await h.redis.send(["HGET", AdmissionKeys(deal.id).draw, "steps"])
        #expect(steps.integerValue == 6, "39 swaps in chunks of 7")

        let record = try #require(try await room.draw(deal: deal.id))
        let seed = try #require(record.seed)
        #expect(record.seedCommitment == commitment)
        #expect(record.entrants == 40)
        #expect(try #require(record.drawnAt) >= deal.startsAt)

        // The auditor: entrants in arrival order + revealed seed → the order Redis assigned.
        let entrants = try await room.entrants(deal: deal.id)
        #expect(entrants == users, "entrants are listed in arrival order")
        let independent = try IndependentDraw.run(seed: seed, entrants: entrants.map { $0.rawValue })
        #expect(independent.commitment == commitment, "the revealed seed matches the published commitment")
        #expect(PreQueueDraw.order(entrants: entrants, seed: seed).map { $0.rawValue } == independent.order)
        let ticketOf = Dictionary(uniqueKeysWithValues: early.map { ($0.userId.rawValue, $0) })
        for (index, user) in independent.order.enumerated() {
            let ticket = try #require(ticketOf[user])
            #expect(try await h.position(room, ticket) == index + 1, "\(user) drew place \(index + 1)")
        }
        #expect(independent.order != users.map { $0.rawValue }, "40 entrants are not left in arrival order")
        for (index, ticket) in late.enumerated() { #expect(try await h.position(room, ticket) == 41 + index) }
        #expect(try await room.drawIfDue(deal: deal.id), "idempotent")
        #expect(try await h.redis.send(["HGET", AdmissionKeys(deal.id).draw, "steps"]).integerValue == 6)
    }

    @Test func aLargePreQueueIsDrawnInBoundedChunks() async throws {
        let h = try await AdmissionHarness()
        let room = h.room(AdmissionHarness.settings(rate: 0.001, burst: 0, drawChunk: 500))
        let deal = try await h.deal(startsIn: .seconds(4))
        let users = try AdmissionHarness.users(2_000, "crowd")
        // Joined concurrently: the arrival order is whatever Redis saw, and the entrants list says which.
        let tickets = try await withThrowingTaskGroup(of: WaitingTicket?.self) { group in
            for user in users {
                group.addTask {
                    if case .joined(let t) = try await room.join(deal: deal.id, user: user) { t } else { nil }
                }
            }
            return try await group.reduce(into: [WaitingTicket]()) { if let t = $1 { $0.append(t) } }
        }
        #expect(tickets.count == 2_000 && tickets.allSatisfy { $0.preQueue })
        try await h.waitForRedisTime(deal.startsAt)
        #expect(try await room.drawIfDue(deal: deal.id))
        #expect(try await h.redis.send(["HGET", AdmissionKeys(deal.id).draw, "steps"]).integerValue == 4)

        let entrants = try await room.entrants(deal: deal.id)
        #expect(Set(entrants) == Set(users) && entrants.count == 2_000)
        let seed = try #require(try await room.draw(deal: deal.id)?.seed)
        let independent = try IndependentDraw.run(seed: seed, entrants: entrants.map { $0.rawValue })
        // The line Redis holds, place by place, is the independent order.
        let line = try await h.redis.send(["HGETALL", AdmissionKeys(deal.id).line])
        let fields = try #require(line.arrayValue?.compactMap { $0.stringValue })
        let userOf = Dictionary(uniqueKeysWithValues: tickets.map { ($0.ticketId.rawValue, $0.userId.rawValue) })
        var drawn = [String](repeating: "", count: 2_000)
        for index in stride(from: 0, to: fields.count, by: 2) {
            let place = try #require(Int(fields[index]))
            drawn[place - 1] = try #require(userOf[fields[index + 1]])
        }
        #expect(drawn == independent.order)
        // And the shoppers see the same places.
        for place in [1, 2, 777, 1_999, 2_000] {
            let ticket = try #require(tickets.first { $0.userId.rawValue == independent.order[place - 1] })
            #expect(try await h.position(room, ticket) == place)
        }
    }
}
