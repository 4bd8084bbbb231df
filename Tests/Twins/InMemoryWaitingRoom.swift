public import Admission
public import Credentials
import Crypto
public import Domain
public import Foundation
public import Gateway
import Synchronization

/// The waiting room in memory, with the live room's rules (``WaitingRoom`` and its Redis functions):
/// one place per shopper, admission in order of arrival by ``advance(deal:)``, one pass per admitted
/// ticket, a pass bound to one order (a retry of that order gets the stored request back), expiry by
/// the clock; operators' controls (``SaleControlling``) with the same rules. Simplified where no
/// contract depends on it: the pre-queue's draw keeps arrival order, and pacing admits everyone
/// waiting at once.
public final class InMemoryWaitingRoom: AdmissionGate, AdmissionPacing, SaleControlling, RoomCounting, Sendable {
    private struct Ticket {
        var user: UserID
        var joinedAt: Date
        var preQueue: Bool
        var seq: Int
        /// nil: waiting; "called"; "pass:<id>"; "used:<order>"; "expired".
        var state: String?
    }
    private struct Pass {
        var ticket: TicketID
        var pass: AdmissionPass
    }
    private struct Room {
        var deal: Deal
        var remaining: Int
        var line: [TicketID] = []
        var served = 0
        var users: [UserID: TicketID] = [:]
        var tickets: [TicketID: Ticket] = [:]
        var passes: [PassID: Pass] = [:]
        var bindings: [PassID: (order: OrderID, quantity: Int)] = [:]
        var requests: [OrderID: [UInt8]] = [:]
        var preQueueEntrants = 0
        var paused = false
        var rateOverride: Double?
        var grant = 0
        var closure: SaleClosure?

        func control(now: Date) -> SaleControl {
            SaleControl(
                paused: paused, admissionRateOverride: rateOverride, pendingAdmissions: grant, closure: closure,
                startsAt: deal.startsAt, endsAt: deal.endsAt, opened: now >= deal.startsAt)
        }
        var soldOut: Bool { remaining <= 0 || closure == .soldOut }
    }
    private struct State {
        var rooms: [DealID: Room] = [:]
        var tracked: Set<DealID> = []
        var down = false
        var counter = 0
    }

    private let state = Mutex(State())
    private let keyring: PassKeyring
    private let settings: WaitingRoomSettings
    private let clock: any WallClock

    public init(keyring: PassKeyring, settings: WaitingRoomSettings = .init(), clock: any WallClock = SystemClock()) {
        self.keyring = keyring
        self.settings = settings
        self.clock = clock
    }

    // MARK: Set-up (what seeding the deal's state does for the live room)

    public func seed(_ deal: Deal) {
        state.withLock { $0.rooms[deal.id] = Room(deal: deal, remaining: deal.totalStock) }
    }

    public func setRemaining(_ deal: DealID, _ units: Int) { state.withLock { $0.rooms[deal]?.remaining = units } }
    /// While `down`, every call throws ``TwinUnavailable``.
    public func setDown(_ down: Bool) { state.withLock { $0.down = down } }
    public var trackedDeals: Set<DealID> { state.withLock { $0.tracked } }
    /// The request stored with the order's binding.
    public func storedRequest(_ order: OrderID, deal: DealID) -> [UInt8]? {
        state.withLock { $0.rooms[deal]?.requests[order] }
    }

    // MARK: AdmissionGate

    public func join(deal: DealID, user: UserID) async throws -> JoinOutcome {
        let now = clock.now
        let window = settings.preQueueWindow.seconds
        return try withRoom(deal, missing: .unknownDeal) { room, counter in
            if now >= room.deal.endsAt { return .ended }
            let opened = now >= room.deal.startsAt
            if !opened && now < room.deal.startsAt.addingTimeInterval(-window) {
                return .notOpenYet(opensAt: room.deal.startsAt.addingTimeInterval(-window))
            }
            if let existing = room.users[user], let ticket = room.tickets[existing], Self.isLive(ticket, room, now) {
                return .alreadyJoined(
                    WaitingTicket(
                        ticketId: existing, dealId: deal, userId: user,
                        joinedAt: ticket.joinedAt, preQueue: ticket.preQueue))
            }
            if room.soldOut { return .soldOut }
            if room.closure == .queue { return .queueClosed }
            counter += 1
            let id = try TicketID("twin-ticket-\(counter)")
            room.line.append(id)
            if !opened { room.preQueueEntrants += 1 }
            room.tickets[id] = Ticket(user: user, joinedAt: now, preQueue: !opened, seq: room.line.count)
            room.users[user] = id
            return .joined(WaitingTicket(ticketId: id, dealId: deal, userId: user, joinedAt: now, preQueue: !opened))
        }
    }

    public func status(ticket id: TicketID, deal: DealID, user: UserID) async throws -> AdmissionStatus {
        let now = clock.now
        let lifetime = settings.passLifetime
        let keyring = self.keyring
        return try withRoom(deal, missing: .unknownTicket) { room, counter in
            guard var ticket = room.tickets[id], ticket.user == user else { return .unknownTicket }
            if let state = ticket.state, state.hasPrefix("used:") {
                return .passUsed(orderId: try OrderID(String(state.dropFirst(5))))
            }
            if now >= room.deal.endsAt { return .ended }
            if !Self.isLive(ticket, room, now) { return .expired }
            if room.soldOut { return .soldOut }
            if let state = ticket.state, state.hasPrefix("pass:"),
                let pass = room.passes[try PassID(String(state.dropFirst(5)))]
            {
                return .admitted(IssuedPass(pass: pass.pass, token: try keyring.sign(pass.pass)))
            }
            if ticket.state == "called" {
                counter += 1
                let pass = try keyring.makePass(
                    passId: try PassID("twin-pass-\(counter)"), user: user, deal: deal,
                    issuedAt: now, lifetime: lifetime)
                room.passes[pass.passId] = Pass(ticket: id, pass: pass)
                ticket.state = "pass:\(pass.passId.rawValue)"
                room.tickets[id] = ticket
                return .admitted(IssuedPass(pass: pass, token: try keyring.sign(pass)))
            }
            if ticket.preQueue && now < room.deal.startsAt {
                return .preQueue(drawAt: room.deal.startsAt, entrants: room.preQueueEntrants)
            }
            let position = max(1, ticket.seq - room.served)
            return room.paused ? .paused(position: position) : .waiting(position: position, ratePerSecond: 0, eta: nil)
        }
    }

    public func consume(pass: AdmissionPass, order: OrderID, quantity: Int, request: [UInt8], budget: Duration?)
        async throws -> PassConsumption
    {
        let now = clock.now
        return try withRoom(pass.dealId, missing: .unknown) { room, _ in
            guard let issued = room.passes[pass.passId], issued.pass.userId == pass.userId else { return .unknown }
            if let binding = room.bindings[pass.passId] {
                if binding.order != order { return .used(by: binding.order) }
                if binding.quantity == quantity { return .alreadyAccepted(request: room.requests[order]) }
                return .conflictingRetry(quantity: binding.quantity)
            }
            if issued.pass.expiresAt <= now {
                room.tickets[issued.ticket]?.state = "expired"
                return .expired
            }
            room.bindings[pass.passId] = (order, quantity)
            room.tickets[issued.ticket]?.state = "used:\(order.rawValue)"
            if !request.isEmpty { room.requests[order] = request }
            return .accepted
        }
    }

    /// The draw's public record: committed at seeding, revealed once the deal opens. The twin's seed is
    /// fixed (its draw keeps arrival order), so only the record's presence and shape are meaningful.
    public func draw(deal: DealID) async throws -> DrawRecord? {
        let now = clock.now
        return try withRoom(deal, missing: nil) { room, _ in
            let opened = now >= room.deal.startsAt
            return DrawRecord(
                seedCommitment: Hex.lowercase(Array(SHA256.hash(data: Array("in-memory-draw".utf8)))),
                seed: opened ? "in-memory-draw" : nil,
                entrants: room.preQueueEntrants, drawnAt: opened ? room.deal.startsAt : nil)
        }
    }

    // MARK: Pacing

    public func track(_ deal: DealID) { _ = state.withLock { $0.tracked.insert(deal) } }

    /// Calls everyone waiting in an open deal's line (up to the room's burst, none while paused, plus
    /// operators' pending admissions); returns how many.
    @discardableResult
    public func advance(deal: DealID) throws -> Int {
        let now = clock.now
        let burst = settings.admissionBurst
        return try withRoom(deal, missing: 0) { room, _ in
            guard now >= room.deal.startsAt, now < room.deal.endsAt, !room.soldOut else { return 0 }
            var admitted = 0
            let quota = (room.paused ? 0 : burst) + room.grant
            defer { room.grant -= min(room.grant, admitted) }
            while admitted < quota && room.served < room.line.count {
                let id = room.line[room.served]
                room.served += 1
                if room.tickets[id]?.state == nil {
                    room.tickets[id]?.state = "called"
                    admitted += 1
                }
            }
            return admitted
        }
    }

    // MARK: Operators' controls

    public func counters(of deal: DealID) async throws -> WaitingRoomCounters {
        let now = clock.now
        return try withRoom(deal, missing: WaitingRoomCounters.empty) { room, _ in
            let states = room.tickets.values.compactMap(\.state)
            let active = room.passes.values.filter { pass in
                room.bindings[pass.pass.passId] == nil && pass.pass.expiresAt > now
            }
            return WaitingRoomCounters(
                preQueueEntrants: room.preQueueEntrants, joinedAfterOpening: room.line.count - room.preQueueEntrants,
                served: room.served, admitted: states.filter { $0 != "expired" }.count, skipped: 0, reclaimed: 0,
                passesIssued: room.passes.count, passesUsed: room.bindings.count,
                activePasses: active.count + states.filter { $0 == "called" }.count, ratePerSecond: 0)
        }
    }

    public func control(of deal: DealID) async throws -> SaleControl? {
        let now = clock.now
        return try withRoom(deal, missing: nil) { room, _ in room.control(now: now) }
    }

    public func apply(_ action: OperatorAction, to deal: DealID, now: Date, guardrails: OperatorGuardrails)
        async throws -> SaleControlChange
    {
        let clockNow = clock.now
        let change = try withRoom(deal, missing: nil) { room, _ -> SaleControlChange? in
            let before = room.control(now: clockNow)
            let after = try before.applying(action, now: clockNow, guardrails: guardrails)
            room.paused = after.paused
            room.rateOverride = after.admissionRateOverride
            room.grant = after.pendingAdmissions
            room.closure = after.closure
            if after.startsAt != before.startsAt {
                let d = room.deal
                room.deal = try Deal(
                    id: d.id, productId: d.productId, title: d.title, price: d.price, startsAt: after.startsAt,
                    endsAt: after.endsAt, totalStock: d.totalStock, perCustomerLimit: d.perCustomerLimit,
                    paymentWindow: d.paymentWindow)
            }
            return SaleControlChange(before: before, after: room.control(now: clockNow))
        }
        guard let change else { throw SaleControlRefusal(.unknownDeal, "no deal \(deal) in the twin") }
        return change
    }

    // MARK: Internals

    private static func isLive(_ ticket: Ticket, _ room: Room, _ now: Date) -> Bool {
        if ticket.state == "expired" { return false }
        if let state = ticket.state, state.hasPrefix("pass:"),
            let id = try? PassID(String(state.dropFirst(5))), let pass = room.passes[id]
        {
            return pass.pass.expiresAt > now
        }
        return true
    }

    private func withRoom<T: Sendable>(_ deal: DealID, missing: sending T, _ body: (inout Room, inout Int) throws -> T)
        throws -> T
    {
        try state.withLock { state in
            if state.down { throw TwinUnavailable("the waiting room") }
            guard var room = state.rooms[deal] else { return missing }
            let result = try body(&room, &state.counter)
            state.rooms[deal] = room
            return result
        }
    }
}

extension WaitingRoomCounters {
    static let empty = WaitingRoomCounters(
        preQueueEntrants: 0, joinedAfterOpening: 0, served: 0, admitted: 0, skipped: 0, reclaimed: 0, passesIssued: 0,
        passesUsed: 0, activePasses: 0, ratePerSecond: 0)
}
