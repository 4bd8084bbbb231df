import Admission
import DealData
import Domain
import Foundation
import Synchronization

/// What the SRE console shows of one deal, once a second: the phase and the operators' controls,
/// the room (depth, admissions against the target, the wait at the back of the line), the stock
/// with its projected sell-out, the order worker's lag, and the latest audit entries. Everything
/// but the lag comes from Redis and MongoDB, so it is the whole fleet's view, whichever gateway
/// serves the console. Rates are measured here from successive readings.
struct ConsoleData: Sendable {
    let operatorAPI: OperatorAPI
    let deals: any DealStateSource
    let rooms: any RoomCounting
    let settings: WaitingRoomSettings
    let lag: @Sendable () async -> Int?
    let clock: any WallClock
    let history = History()

    /// Readings of each deal's counters, to turn them into rates (kept for the last minute).
    final class History: Sendable {
        struct Reading: Sendable {
            let at: Date
            let admitted: Int
            let remaining: Int
        }
        private let readings = Mutex<[DealID: [Reading]]>([:])

        /// Adds a reading; returns the admissions and units per second over the last `window`.
        func add(_ reading: Reading, for deal: DealID, window: TimeInterval = 10) -> (admitted: Double, sold: Double)? {
            readings.withLock { all in
                var list = all[deal, default: []].filter { reading.at.timeIntervalSince($0.at) <= 60 }
                list.append(reading)
                all[deal] = list
                guard
                    let first = list.first(where: { reading.at.timeIntervalSince($0.at) <= window }),
                    reading.at.timeIntervalSince(first.at) >= 0.5
                else { return nil }
                let seconds = reading.at.timeIntervalSince(first.at)
                return (
                    Double(reading.admitted - first.admitted) / seconds,
                    Double(first.remaining - reading.remaining) / seconds
                )
            }
        }
    }

    /// The snapshot as JSON (the console's SSE events and its polling fallback).
    func snapshot(deal rawDeal: String, _ context: CallContext) async throws(APIError) -> [String: Any] {
        let control = try await operatorAPI.saleControl(deal: rawDeal, context)
        let deal = try ShopperAPI.dealID(rawDeal)
        let now = clock.now
        let state: DealState?
        let counters: WaitingRoomCounters
        do {
            state = try await deals.state(of: deal)
            counters = try await rooms.counters(of: deal)
        } catch {
            throw operatorAPI.unavailable("the hot store", error)
        }
        guard let state else { throw APIError(.notFound, "no deal \(deal)") }
        let entries = (try? await operatorAPI.auditEntries(deal: rawDeal, limit: 10, context)) ?? []
        let lagMessages = await lag()
        let factor = settings.lagFactor(lag: lagMessages)
        let target = (control.admissionRateOverride ?? settings.admissionRatePerSecond) * factor
        let rates = history.add(
            .init(at: now, admitted: counters.admitted, remaining: state.remaining), for: deal)

        var room: [String: Any] = [
            "waiting": counters.waiting, "admittedTotal": counters.admitted, "activePasses": counters.activePasses,
            "measuredPerSecond": counters.ratePerSecond, "targetPerSecond": control.paused ? 0 : target,
        ]
        if let rates { room["admittedPerSecond"] = rates.admitted }
        if counters.ratePerSecond > 0 {
            room["backOfLineEtaSeconds"] = Double(counters.waiting) / counters.ratePerSecond
        }
        var stock: [String: Any] = ["remaining": max(0, state.remaining), "total": state.totalStock]
        if let rates {
            stock["soldPerSecond"] = rates.sold
            if rates.sold > 0 { stock["sellOutInSeconds"] = Double(max(0, state.remaining)) / rates.sold }
        }
        var controls: [String: Any] = [
            "paused": control.paused, "pendingAdmissions": control.pendingAdmissions,
            "startsAt": Timestamp.format(control.startsAt), "endsAt": Timestamp.format(control.endsAt),
            "configuredPerSecond": settings.admissionRatePerSecond,
        ]
        if let rate = control.admissionRateOverride { controls["rateOverride"] = rate }
        if let closure = control.closure { controls["closure"] = closure.rawValue }
        var snapshot: [String: Any] = [
            "deal": deal.rawValue, "at": Timestamp.format(now),
            "phase": state.phase(at: now, preQueueWindow: settings.preQueueWindow).rawValue, "controls": controls,
            "room": room, "stock": stock,
            "audit": entries.map { entry -> [String: Any] in
                [
                    "at": Timestamp.format(entry.at), "actor": entry.actor, "action": entry.action,
                    "value": entry.value ?? "", "reason": entry.reason, "outcome": entry.outcome.rawValue,
                    "gateway": entry.gateway,
                ]
            },
        ]
        if let lagMessages { snapshot["lag"] = ["messages": lagMessages, "paceFactor": factor] }
        return snapshot
    }
}
