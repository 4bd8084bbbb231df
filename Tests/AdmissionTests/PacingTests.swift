import Admission
import DealData
import Domain
import Foundation
import Infrastructure
import Synchronization
import TestSupport
import Testing

extension StackTests {
    @Suite("Waiting-room pacing on Redis time", .timeLimit(.minutes(3)))
    struct PacingTests {
        /// A deal already open with `count` shoppers in line (joined concurrently) and its draw done.
        func crowd(_ h: AdmissionHarness, _ room: WaitingRoom, _ count: Int, stock: Int = 10_000) async throws -> (
            Deal, [WaitingTicket]
        ) {
            let deal = try await h.deal(stock: stock)
            let users = try AdmissionHarness.users(count, "crowd")
            let tickets = try await withThrowingTaskGroup(of: WaitingTicket?.self) { group in
                for user in users {
                    group.addTask {
                        if case .joined(let t) = try await room.join(deal: deal.id, user: user) { t } else { nil }
                    }
                }
                return try await group.reduce(into: [WaitingTicket]()) { if let t = $1 { $0.append(t) } }
            }
            #expect(tickets.count == count)
            #expect(try await room.drawIfDue(deal: deal.id))
            return (deal, tickets)
        }

        /// Calls `advance` from `callers` concurrent loops (like gateway replicas) every `every` for
        /// `duration`; returns the admissions and the Redis-time span from just before the first step
        /// to just after the last.
        func pace(
            _ h: AdmissionHarness, _ room: WaitingRoom, _ deal: DealID, lagFactor: Double = 1, callers: Int = 3,
            every: Duration = .milliseconds(15), for duration: Duration
        ) async throws -> (admitted: Int, seconds: Double) {
            let start = try await h.redisTime()
            let end = ContinuousClock.now + duration
            let admitted = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<callers {
                    group.addTask {
                        var total = 0
                        while ContinuousClock.now < end {
                            total += try await room.advance(deal: deal, lagFactor: lagFactor).admitted
                            try await Task.sleep(for: every)
                        }
                        return total
                    }
                }
                return try await group.reduce(0, +)
            }
            let stop = try await h.redisTime()
            return (admitted, stop.timeIntervalSince(start))
        }

        @Test func admissionFollowsTheRateFromSeveralReplicas() async throws {
            let h = try await AdmissionHarness()
            // A burst of a quarter second's worth: slow steps on a busy machine lose nothing.
            let room = h.room(AdmissionHarness.settings(rate: 40, burst: 10))
            let (deal, _) = try await crowd(h, room, 400)
            let run = try await pace(h, room, deal.id, for: .milliseconds(2_500))
            // The bucket starts full (burst) and refills at 40/s on Redis time.
            let ceiling = 10 + 40 * run.seconds
            #expect(Double(run.admitted) <= ceiling + 1, "admitted \(run.admitted) in \(run.seconds) s")
            #expect(Double(run.admitted) >= ceiling * 0.93 - 2, "admitted \(run.admitted) in \(run.seconds) s")
            let recorded = try await h.redis.send(["HGET", AdmissionKeys(deal.id).room, "admitted"])
            #expect(recorded.integerValue == Int64(run.admitted))
        }

        @Test func aPauseSavesNoMoreThanTheBurst() async throws {
            let h = try await AdmissionHarness()
            let room = h.room(AdmissionHarness.settings(rate: 20, burst: 5))
            let (deal, _) = try await crowd(h, room, 200)
            #expect(try await room.advance(deal: deal.id, lagFactor: 1).admitted == 5, "the bucket starts full")
            let right = try await room.advance(deal: deal.id, lagFactor: 1).admitted
            #expect(right <= 1, "and is empty right after (1 ms at 20/s)")
            try await Task.sleep(for: .milliseconds(1_500))  // 30 admissions' worth of time
            let step = try await room.advance(deal: deal.id, lagFactor: 1)
            #expect(step.admitted == 5, "\(step)")
            #expect(step.waiting == 190 - right)
            #expect(step.activePasses == 10 + right)
        }

        @Test func neverMoreThanMaxActivePasses() async throws {
            let h = try await AdmissionHarness()
            let room = h.room(AdmissionHarness.settings(rate: 1_000, burst: 100, maxActive: 7))
            let (deal, tickets) = try await crowd(h, room, 20)
            let first = try await room.advance(deal: deal.id, lagFactor: 1)
            #expect(first.admitted == 7 && first.activePasses == 7, "\(first)")
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await room.advance(deal: deal.id, lagFactor: 1).admitted == 0)

            // One admitted shopper orders: one place frees up.
            var admitted: [WaitingTicket] = []
            for ticket in tickets { if try await h.issuedPass(room, ticket) != nil { admitted.append(ticket) } }
            #expect(admitted.count == 7)
            let pass = try #require(try await h.issuedPass(room, admitted[0])).pass
            let order = OrderID.derive(userId: pass.userId, dealId: deal.id, idempotencyKey: try IdempotencyKey("one"))
            #expect(
                try await room.consume(pass: pass, order: order, quantity: 1, request: Array("{}".utf8), budget: nil)
                    == .accepted)
            let next = try await room.advance(deal: deal.id, lagFactor: 1)
            #expect(next.admitted == 1 && next.activePasses == 7, "\(next)")
        }

        @Test func zeroStockStopsAdmissionAndEveryoneSeesSoldOutAtOnce() async throws {
            let h = try await AdmissionHarness()
            let room = h.room(AdmissionHarness.settings(rate: 1_000, burst: 3))
            let (deal, tickets) = try await crowd(h, room, 10, stock: 50)
            #expect(try await room.advance(deal: deal.id, lagFactor: 1).admitted == 3)

            try await h.setStock(deal.id, 0)
            for ticket in tickets {
                #expect(try await room.status(ticket: ticket.ticketId, deal: deal.id, user: ticket.userId) == .soldOut)
            }
            #expect(try await room.join(deal: deal.id, user: try UserID("too-late")) == .soldOut)
            for _ in 0..<5 {
                try await Task.sleep(for: .milliseconds(20))
                #expect(try await room.advance(deal: deal.id, lagFactor: 1).admitted == 0)
            }

            // Stock comes back (a release): admission resumes where it stopped.
            try await h.setStock(deal.id, 4)
            var waiting = 0
            var holding = 0
            for ticket in tickets {
                switch try await room.status(ticket: ticket.ticketId, deal: deal.id, user: ticket.userId) {
                case .waiting: waiting += 1
                case .admitted: holding += 1
                case let other: Issue.record("unexpected \(other)")
                }
            }
            #expect(waiting == 7 && holding == 3)
            #expect(try await room.advance(deal: deal.id, lagFactor: 1).admitted == 3)

            // The worker's sold-out flag alone stops everything too, until it is cleared.
            try await h.redis.send(["SET", AdmissionKeys(deal.id).soldOut, "1"])
            #expect(
                try await room.status(ticket: tickets[0].ticketId, deal: deal.id, user: tickets[0].userId) == .soldOut)
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await room.advance(deal: deal.id, lagFactor: 1).admitted == 0)
            try await h.redis.send(["DEL", AdmissionKeys(deal.id).soldOut])
            #expect(try await room.advance(deal: deal.id, lagFactor: 1).admitted > 0)
        }

        @Test func workerLagSlowsAdmission() async throws {
            // The burst covers a few steps' worth, so the step cadence never caps the pace.
            let settings = AdmissionHarness.settings(rate: 40, burst: 10)
            #expect(settings.lagFactor(lag: nil) == 1)
            #expect(settings.lagFactor(lag: 20_000) == 0.25)
            #expect(settings.lagFactor(lag: 1_000_000_000) == 0.1)

            let h = try await AdmissionHarness()
            let room = h.room(settings)
            let (fast, _) = try await crowd(h, room, 300)
            let (slow, _) = try await crowd(h, room, 300)
            async let full = pace(
                h, room, fast.id, lagFactor: 1, callers: 1, every: .milliseconds(20), for: .seconds(2))
            async let slowed = pace(
                h, room, slow.id, lagFactor: settings.lagFactor(lag: 20_000), callers: 1,
                every: .milliseconds(20), for: .seconds(2))
            let (a, b) = try await (full, slowed)
            let fullRate = Double(a.admitted - 10) / a.seconds
            let slowRate = Double(b.admitted - 10) / b.seconds
            #expect(abs(fullRate - 40) <= 6, "full pace \(fullRate)/s")
            #expect(abs(slowRate - 10) <= 3, "under lag \(slowRate)/s")
        }

        @Test func theMeasuredRateGivesTheWaitingTheirETA() async throws {
            let h = try await AdmissionHarness()
            let room = h.room(AdmissionHarness.settings(rate: 20, burst: 5))
            let (deal, tickets) = try await crowd(h, room, 150)
            let back = try #require(try await h.join(room, deal.id, [try UserID("at-the-back")]).first)
            guard
                case .waiting(_, let before, let noEta) = try await room.status(
                    ticket: tickets[0].ticketId, deal: deal.id, user: tickets[0].userId)
            else {
                Issue.record("should be waiting")
                return
            }
            #expect(before == 0 && noEta == nil, "no rate is known before any admission")

            var last = AdvanceResult(admitted: 0, waiting: 0, activePasses: 0, reclaimedPasses: 0, ratePerSecond: 0)
            let end = ContinuousClock.now + .seconds(3)
            while ContinuousClock.now < end {
                last = try await room.advance(deal: deal.id, lagFactor: 1)
                try await Task.sleep(for: .milliseconds(50))
            }
            // An exponentially weighted average (5 s) from zero: after 3 s at 20/s it reads about 9/s.
            #expect(last.ratePerSecond > 5 && last.ratePerSecond < 20, "\(last)")
            guard
                case .waiting(let position, let rate, let eta) = try await room.status(
                    ticket: back.ticketId, deal: deal.id, user: back.userId)
            else {
                Issue.record("the last shopper should still be waiting")
                return
            }
            #expect(rate == last.ratePerSecond)
            #expect(position == last.waiting, "the last in line has everyone still waiting ahead")
            let seconds = try #require(eta).seconds
            #expect(abs(seconds - Double(position) / rate) < 0.001)
        }

        @Test func thePacerDrawsAndAdmitsTrackedDealsAndStopsWhenCancelled() async throws {
            let h = try await AdmissionHarness()
            let room = h.room(AdmissionHarness.settings(rate: 100, burst: 10))
            let deal = try await h.deal(startsIn: .milliseconds(800))
            let early = try await h.join(room, deal.id, try AdmissionHarness.users(5, "pacer-early"))
            #expect(early.allSatisfy { $0.preQueue })

            let steps = Mutex<[DealID: Int]>([:])
            let lagCalls = Atomic<Int>(0)
            let pacer = WaitingRoomPacer(
                room: room, interval: .milliseconds(50),
                lag: {
                    lagCalls.add(1, ordering: .relaxed)
                    return nil
                },
                onStep: { deal, _ in steps.withLock { $0[deal, default: 0] += 1 } })
            let unknown = try DealID(TestStack.uniqueName("adm-ghost"))
            pacer.track(deal.id)
            pacer.track(deal.id)
            pacer.track(unknown)
            #expect(pacer.trackedDeals.count == 2)
            let running = Task { try await pacer.run() }

            try await h.waitForRedisTime(deal.startsAt)
            let late = try await h.join(room, deal.id, try AdmissionHarness.users(3, "pacer-late"))
            for ticket in early + late {
                _ = try await eventually(timeout: .seconds(10)) {
                    guard let pass = try await h.issuedPass(room, ticket) else {
                        throw NotYet("\(ticket.userId) admitted")
                    }
                    return pass
                }
            }
            #expect(try await room.draw(deal: deal.id)?.seed != nil, "the pacer ran the draw")
            #expect(pacer.trackedDeals == [deal.id], "an unknown deal is dropped")
            #expect(steps.withLock { $0[deal.id] ?? 0 } > 0)
            #expect(steps.withLock { $0[unknown] } == 1, "one step finds the deal unknown, then it is no longer paced")
            #expect(lagCalls.load(ordering: .relaxed) > 0)

            running.cancel()
            let stopped = ContinuousClock.now
            try await running.value
            #expect(ContinuousClock.now - stopped < .seconds(2))
        }
    }
}
