import DealAudit
import DealData
import Domain
import Foundation
import Infrastructure
import OrderWorker
import TestSupport
import Testing

extension StackTests {
    /// Redis's own durability (docs/worker.md, "When Redis restarts"): a server that started again
    /// may lack its last writes (append-only file fsynced once a second, a machine that crashed), so
    /// no reservation is made on it until every open deal's stock is rebuilt from MongoDB.
    @Suite("Redis restarts", .serialized, .timeLimit(.minutes(3)))
    struct RedisRestartTests {
        @Test func aStartedServerRefusesNewReservationsUntilMarkedAndReplaysRecordedOnes() async throws {
            let h = try await WorkerHarness()
            let deal = try await h.deal(stock: 10, limit: 1)
            let first = try WorkerHarness.request(deal.id, user: "before", key: "k")
            let call = { (r: OrderRequested) in
                ReservationRequest(orderId: r.orderId, dealId: r.dealId, userId: r.userId, quantity: r.quantity)
            }
            #expect(try await h.reservations.isVerified())
            let before = try await h.reservations.reserve([call(first)], grace: .seconds(60))
            #expect(before[0].result == .decided(.reserved))

            try TestStack.run("kill", "redis")
            try TestStack.run("start", "redis")
            try await eventually(timeout: .seconds(20)) { _ = try await h.reservations.stock(of: deal.id) }
            #expect(try await h.reservations.isVerified() == false, "a started server is not trusted")
            let second = try WorkerHarness.request(deal.id, user: "after", key: "k")
            let replies = try await h.reservations.reserve([call(first), call(second)], grace: .seconds(60))
            #expect(replies[0].result == .decided(.reserved) && replies[0].replay, "a recorded decision replays")
            #expect(replies[1].result == .unverified, "nothing new is decided")
            #expect(try await h.reservations.stock(of: deal.id) == 9, "and nothing was written")

            // A rebuild that began before the server started again cannot mark the new one.
            try await h.reservations.beginRebuild("straddling")
            try TestStack.run("kill", "redis")
            try TestStack.run("start", "redis")
            try await eventually(timeout: .seconds(20)) { _ = try await h.reservations.stock(of: deal.id) }
            #expect(try await h.reservations.markVerified(rebuild: "straddling") == false)
            #expect(try await h.reservations.isVerified() == false)

            // Loading the same library again (a worker starting) keeps the mark; only a new server or a
            // new library resets it.
            try await h.reservations.markVerified()
            try await h.reservations.prepare()
            #expect(try await h.reservations.isVerified())
            let marked = try await h.reservations.reserve([call(second)], grace: .seconds(60))
            #expect(marked[0].result == .decided(.reserved))
            await h.close()
        }

        /// The last ten reservations before the crash are lost: the stock went back up by ten and their
        /// records and holdings are gone, while their orders are CONFIRMED in MongoDB. Selling on from
        /// that Redis would oversell by ten.
        @Test func aServerThatLostItsLastWritesIsRebuiltBeforeAnythingMoreIsSold() async throws {
            let h = try await WorkerHarness()
            let deal = try await h.deal(stock: 50, limit: 1)
            let requests = try (0..<90).map { try WorkerHarness.request(deal.id, user: "lw\($0)", key: "k") }
            try await h.withWorker(settings: h.settings()) {
                try await h.send(Array(requests.prefix(30)))
                try await h.waitUntilStored(deal.id, 30)

                try TestStack.run("kill", "redis")
                try TestStack.run("start", "redis")
                try await eventually(timeout: .seconds(20)) { _ = try await h.reservations.stock(of: deal.id) }
                // The crash also took the deal's registration for the re-sender.
                let accepting = AcceptingDeals(redis: h.redis, requestsTopic: h.settings().topics.requests)
                try await accepting.remove(deal.id)
                let keys = OrderKeys(deal.id)
                _ = try await h.redis.send("INCRBY", keys.stock, "10")
                for r in requests[20..<30] {
                    _ = try await h.redis.send("HDEL", keys.reservations, r.orderId.rawValue)
                    _ = try await h.redis.send("HDEL", keys.held, r.userId.rawValue)
                }
                #expect(try await h.reservations.stock(of: deal.id) == 30, "20 + the 10 the crash gave back")

                try await h.send(Array(requests.dropFirst(30)))
                try await h.waitUntilStored(deal.id, 90)
                #expect(h.log.contains("rebuilding every open deal"), "the worker noticed the new server")
                #expect(try await h.reservations.isVerified())
                #expect(try await accepting.members().contains(deal.id), "the rebuild put the open deal back")
                let (report, _) = try await h.audit(deal.id)
                let passed = report.passed
                #expect(passed, "\(report.text)")
                #expect(report.sold == 50, "exactly the stock: the 30 sold before, 20 after")
                #expect(report.peakHeld == 50)
                #expect(report.statuses[.rejected] == 40)
            }
            await h.close()
        }
    }
}
