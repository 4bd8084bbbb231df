import Admission
import DealAudit
import DealData
import Domain
import Foundation
import Infrastructure
import Logging
import OrderWorker
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension StackTests {
    /// The order worker end to end on the real stack: requests in Kafka → reservations in Redis →
    /// orders in MongoDB → events in Kafka, checked by the oracle (`DealAudit`, what `flashdeal verify`
    /// runs). These tests kill workers and stop and wipe servers, so they run one at a time.
    @Suite("Order worker on the real stack", .serialized, .timeLimit(.minutes(5)))
    struct WorkerPipelineTests {
        /// 4,000 distinct orders from 1,500 shoppers (limit 2, so some exceed it), plus 500 duplicate
        /// deliveries and 500 client retries with the same idempotency key: 5,000 messages.
        static func flashSaleRequests(_ deal: DealID) throws -> (messages: [OrderRequested], distinct: Int) {
            var distinct: [OrderRequested] = []
            for i in 0..<4_000 { distinct.append(try WorkerHarness.request(deal, user: "s\(i % 1_500)", key: "k\(i)")) }
            var rng = SystemRandomNumberGenerator()
            var messages = distinct
            for _ in 0..<500 { messages.append(distinct[Int.random(in: 0..<distinct.count, using: &rng)]) }
            for _ in 0..<500 {
                let original = distinct[Int.random(in: 0..<distinct.count, using: &rng)]
                messages.append(
                    try WorkerHarness.request(
                        deal, user: original.userId.rawValue,
                        key: original.idempotencyKey.rawValue))
            }
            // Duplicates and retries arrive after their originals, in a mixed order.
            let tail = messages[4_000...].shuffled()
            return (Array(messages[..<4_000]) + tail, distinct.count)
        }

        @Test func fiveThousandRequestsThroughThreeSIGKILLsSellExactlyTheStock() async throws {
            let h = try await WorkerHarness()
            let deal = try await h.deal(stock: 1_000, limit: 2)
            let (messages, distinct) = try Self.flashSaleRequests(deal.id)
            var worker = try WorkerProcess(environment: h.workerEnvironment())
            let sender = Task {
                for chunk in stride(from: 0, to: messages.count, by: 250) {
                    try await h.send(Array(messages[chunk..<min(chunk + 250, messages.count)]))
                    try await Task.sleep(for: .milliseconds(150))
                }
            }
            var kills: [Int] = []
            for threshold in [300, 1_400, 2_600] {
                let reached = try await eventually(timeout: .seconds(90)) { () async throws -> Int in
                    let n = try await h.storedCount(deal.id)
                    guard n >= threshold else { throw HarnessError("\(n) stored, waiting for \(threshold)") }
                    return n
                }
                worker.stop(SIGKILL)
                kills.append(reached)
                worker = try WorkerProcess(environment: h.workerEnvironment())
            }
            try await sender.value
            let reader = try h.reader([h.topics.requests, h.topics.events])
            var log = DealAudit.Log()
            let report = try await h.audit(deal.id, reader: reader, log: &log, timeout: .seconds(120))
            let exit = worker.stop(SIGTERM)
            await reader.close()
            #expect(exit == 0, "SIGTERM ends the worker cleanly")
            #expect(worker.log.contains("left the consumer group"), "it leaves the group on SIGTERM")
            #expect(kills.count == 3)
            #expect(kills.last! < distinct, "the last kill came before the stream was done (at \(kills))")
            let passed = report.passed
            #expect(passed, "\(report.text)\nworker log:\n\(worker.log.suffix(3_000))")
            #expect(report.requested == distinct)
            #expect(report.sold == 1_000)
            #expect(try await h.reservations.stock(of: deal.id) == 0)
            #expect((report.statuses[.confirmed] ?? 0) + (report.statuses[.rejected] ?? 0) == distinct)
            await h.close()
        }

        @Test func mongoDownWithinTheBudgetPausesConsumptionThenConfirmsEverything() async throws {
            let h = try await WorkerHarness()
            let deal = try await h.deal(stock: 100, limit: 1)
            let requests = try (0..<60).map { try WorkerHarness.request(deal.id, user: "m\($0)", key: "k") }
            try await h.withWorker(settings: h.settings(mongoBudget: .seconds(60))) {
                try await h.send(Array(requests.prefix(10)))
                try await h.waitUntilStored(deal.id, 10)
                try TestStack.run("stop", "mongo")
                var restarted = false
                defer { if !restarted { try? TestStack.run("start", "mongo") } }
                try await h.send(Array(requests.dropFirst(10)))
                // The worker has taken the next batch: reserved in Redis (observed, not waited for)…
                try await eventually(timeout: .seconds(30)) {
                    let (records, _) = try await h.reservations.records(of: deal.id)
                    try need(records.count > 10, "\(records.count) reserved so far")
                }
                // …but not confirmed: no outcome is published while MongoDB is away.
                let reader = try h.reader([h.topics.events])
                let events = try await reader.catchUp(idle: .seconds(1))
                await reader.close()
                #expect(events.count == 10, "only the first ten orders have outcomes while MongoDB is down")
                try TestStack.run("start", "mongo")
                restarted = true
                let (report, _) = try await h.audit(deal.id)
                let passed = report.passed
                #expect(passed, "\(report.text)")
                #expect(report.statuses[.confirmed] == 60)
                #expect(report.sold == 60)
            }
            await h.close()
        }

        @Test func mongoDownPastTheBudgetReleasesTheStockAndRecordsFailedOnceBack() async throws {
            let h = try await WorkerHarness()
            let deal = try await h.deal(stock: 20, limit: 1)
            let requests = try (0..<30).map { try WorkerHarness.request(deal.id, user: "f\($0)", key: "k") }
            try await h.withWorker(settings: h.settings(mongoBudget: .seconds(1.5))) {
                try await h.send([requests[0]])
                try await h.waitUntilStored(deal.id, 1)
                try TestStack.run("stop", "mongo")
                var restarted = false
                defer { if !restarted { try? TestStack.run("start", "mongo") } }
                try await h.send(Array(requests.dropFirst()))
                // Past the budget: every reserved unit goes back and OrderFailed + StockReleased are published;
                // orders turned away stay REJECTED. Everything waits in the outbox for MongoDB.
                let reader = try h.reader([h.topics.requests, h.topics.events])
                var log = DealAudit.Log()
                _ = try await eventually(timeout: .seconds(60)) {
                    log.add(try await reader.catchUp(idle: .milliseconds(500)))
                    let decided = requests.dropFirst().filter { request in
                        (log.events[request.orderId] ?? [:]).values.contains {
                            $0 == .orderFailed || $0 == .orderRejected
                        }
                    }
                    guard decided.count == 29 else { throw HarnessError("\(decided.count) decided so far") }
                }
                #expect(
                    try await h.reservations.stock(of: deal.id) == 19, "only the first, persisted order keeps its unit")
                #expect(try await h.outbox.count() >= 29)
                try TestStack.run("start", "mongo")
                restarted = true
                let report = try await h.audit(deal.id, reader: reader, log: &log)
                await reader.close()
                let passed = report.passed
                #expect(passed, "\(report.text)")
                #expect((report.statuses[.failed] ?? 0) >= 19)
                #expect((report.statuses[.failed] ?? 0) + (report.statuses[.rejected] ?? 0) == 29)
                #expect(report.statuses[.confirmed] == 1)
                // Every order that got OrderFailed is FAILED in MongoDB (which ones depends on arrival order).
                let failed = requests.filter { (log.events[$0.orderId] ?? [:]).values.contains(.orderFailed) }
                #expect(failed.count >= 19)
                for request in failed {
                    #expect(try await h.orders.find(request.orderId)?.status == .failed)
                }
            }
            await h.close()
        }

        @Test func redisDataWipedMidRunIsRestoredByReconcileAndNothingIsSoldTwice() async throws {
            let h = try await WorkerHarness()
            let deal = try await h.deal(stock: 300, limit: 1)
            let requests = try (0..<600).map { try WorkerHarness.request(deal.id, user: "r\($0)", key: "k") }
            try await h.withWorker(settings: h.settings()) {
                try await h.send(Array(requests.prefix(200)))
                try await h.waitUntilStored(deal.id, 200)
                try await h.wipeRedis(deal.id)
                // The rest arrives, and the first 100 are redelivered as if their offsets were lost.
                try await h.send(Array(requests.dropFirst(200)) + Array(requests.prefix(100)))
                // The worker has seen the new requests and found no state for the deal (observed in its log).
                try await eventually(timeout: .seconds(30)) {
                    try need(h.log.contains("Redis holds no state"), "the worker has not reached the wiped deal")
                }
                #expect(try await h.storedCount(deal.id) == 200, "the worker waits while Redis lacks the deal")
                let reconciler = StockReconciler(reservations: h.reservations, orders: h.orders, catalog: h.catalog)
                let plan = try await reconciler.fix(deal.id, settle: .seconds(1))
                #expect(plan.expectedStock == 100)
                #expect(plan.records.count == 200)
                let (report, _) = try await h.audit(deal.id)
                let passed = report.passed
                #expect(passed, "\(report.text)")
                #expect(report.sold == 300)
                #expect(report.statuses[.rejected] == 300)
                #expect(try await reconciler.plan(deal.id).isConsistent)
            }
            await h.close()
        }

        @Test func poisonMessagesGoToTheDeadLetterTopicWithTheirReasonAndTheWorkerGoesOn() async throws {
            let h = try await WorkerHarness()
            let deal = try await h.deal(stock: 5, limit: 1)
            let good = try WorkerHarness.request(deal.id, user: "ok", key: "k")
            let forged = try WorkerHarness.request(deal.id, user: "ok2", key: "k")
            let forgedJSON = DomainEvent.orderRequested(forged).jsonString()
                .replacingOccurrences(of: forged.orderId.rawValue, with: good.orderId.rawValue)
            let confirmed = DomainEvent.orderConfirmed(
                OrderConfirmed(
                    eventId: .derive(type: .orderConfirmed, orderId: good.orderId), occurredAt: Date(),
                    orderId: good.orderId,
                    dealId: deal.id, userId: good.userId, quantity: 1)
            ).jsonString()
            try await h.withWorker(settings: h.settings()) {
                try await h.sendRaw([
                    (key: "x", value: "{not json"),
                    (key: good.orderId.rawValue, value: confirmed),
                    (key: good.orderId.rawValue, value: forgedJSON),
                    (key: "wrong-key", value: DomainEvent.orderRequested(good).jsonString()),
                ])
                try await h.send([good])
                let dlq = try h.reader([h.topics.deadLetters])
                var dead: [KafkaMessage] = []
                _ = try await eventually(timeout: .seconds(30)) {
                    dead += try await dlq.catchUp(idle: .milliseconds(500))
                    guard dead.count >= 4 else { throw HarnessError("\(dead.count) dead letters") }
                }
                await dlq.close()
                #expect(dead.count == 4)
                let reasons = dead.compactMap { $0.header(DeadLetterHeaders.reason)?.stringValue }
                #expect(reasons.count == 4)
                #expect(reasons.contains { $0.contains("not a JSON object") || $0.contains("JSON") })
                #expect(reasons.contains { $0.contains("does not belong") })
                #expect(reasons.contains { $0.contains("not the id derived") })
                #expect(reasons.contains { $0.contains("is not the order id") })
                #expect(dead.allSatisfy { $0.header(DeadLetterHeaders.source) != nil })
                #expect(Set(dead.map(\.valueString)).contains("{not json"), "the message is kept unchanged")

                // The good order went through; then the shopper cancels it and the unit returns.
                _ = try await eventually(timeout: .seconds(30)) {
                    guard try await h.orders.find(good.orderId)?.status == .confirmed else {
                        throw HarnessError("not yet")
                    }
                }
                try await h.cancel(good)
                try await h.cancel(good)
                _ = try await eventually(timeout: .seconds(30)) {
                    guard try await h.orders.find(good.orderId)?.status == .cancelled else {
                        throw HarnessError("not yet")
                    }
                }
                #expect(try await h.reservations.stock(of: deal.id) == 5)
                let (report, log) = try await h.audit(deal.id)
                let passed = report.passed
                #expect(passed, "\(report.text)")
                #expect((log.events[good.orderId] ?? [:]).values.filter { $0 == .stockReleased }.count == 1)
            }
            await h.close()
        }
    }
}
