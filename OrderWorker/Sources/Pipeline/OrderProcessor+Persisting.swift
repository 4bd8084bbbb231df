import DealData
import Domain
import Foundation
import Logging

/// The persist-or-compensate stage: new orders are inserted while MongoDB answers within its retry
/// budget; past it, reserved stock goes back and the decided documents wait in the outbox.
extension OrderProcessor {
    /// When earlier compensations of these orders were decided: from the outbox (MongoDB was down),
    /// else from MongoDB. An order found in neither (the process stopped between the release and the
    /// outbox) is decided now; so is every order when MongoDB does not answer at once.
    func storedFailureTimes(_ ids: [OrderID]) async throws -> [OrderID: Date] {
        var times: [OrderID: Date] = [:]
        let parked = try await retrying("redis") { try await self.outbox.documents(ids) }
        for d in parked where d.status == .failed { times[d.orderId] = d.decidedAt }
        let rest = ids.filter { times[$0] == nil }
        guard !rest.isEmpty, let stored = try? await orders.find(rest) else { return times }
        for (id, d) in stored where d.status == .failed { times[id] = d.decidedAt }
        return times
    }

    static let compensationReason = "MONGODB_UNAVAILABLE"

    /// Inserts new orders, retrying while MongoDB fails. `false` when it stayed unavailable past
    /// the retry budget (the caller compensates).
    func persist(_ documents: [OrderDocument]) async throws -> Bool {
        guard !documents.isEmpty else { return true }
        let deadline = ContinuousClock.now + settings.mongoRetryBudget
        var backoff = Backoff(settings.retryBackoff)
        while true {
            do {
                _ = try await orders.insertNew(documents)
                metrics.paused(false)
                return true
            } catch {
                metrics.retry(dependency: "mongo")
                guard ContinuousClock.now < deadline else {
                    logger.error(
                        "MongoDB unavailable past the retry budget; failing the batch and releasing its stock",
                        metadata: ["orders": "\(documents.count)", "error": "\(error)"])
                    return false
                }
                logger.warning("persisting orders failed; retrying", metadata: ["error": "\(error)"])
            }
            metrics.paused(true)
            try await backoff.wait()
        }
    }

    /// MongoDB stayed down past the budget: reserved stock goes back (idempotent), the orders that
    /// held it become FAILED, turned-away orders stay REJECTED, and every document goes to the
    /// outbox so MongoDB records it once it answers again.
    func compensate(_ pending: [Pending], at now: Date) async throws -> [Outcome] {
        var outcomes: [Outcome] = []
        for p in pending {
            if case .decided(.reserved) = p.reply.result {
                let reply = try await retrying("redis") {
                    try await self.reservations.release(
                        order: p.request.orderId, deal: p.request.dealId,
                        user: nil, reason: .failed)
                }
                metrics.release(reason: StockReleaseReason.failed.rawValue, result: reply.result.rawValue)
                var failed = p
                failed.reply.released = .failed
                outcomes.append(Self.outcome(of: failed, at: now))
            } else {
                var outcome = Self.outcome(of: p, at: now)
                outcome.viaOutbox = true
                outcomes.append(outcome)
            }
        }
        metrics.compensation(count: outcomes.filter { $0.document.status == .failed }.count)
        let documents = outcomes.map(\.document)
        try await retrying("redis") { try await self.outbox.add(documents) }
        return outcomes
    }
}
