public import Credentials
import DealData
public import Domain
import Foundation
public import Infrastructure
public import Logging

/// A deal's virtual waiting room, kept in Redis so that any number of gateway replicas share one
/// line: one place per shopper, a fair draw for those who came before the opening, first come first
/// served after it, admission paced to what the back end takes, and single-use admission passes.
///
/// Every shopper-facing call is one Redis function call on the deal's hash tag; time is Redis
/// server time. docs/admission.md describes the keys and the algorithms.
public final class WaitingRoom: Sendable {
    public let settings: WaitingRoomSettings
    private let redis: RedisClient
    private let keyring: PassKeyring
    private let logger: Logger

    /// Time constant of the measured admission rate (exponentially weighted moving average).
    public static let rateTimeConstant: Duration = .seconds(5)
    /// Most expired admissions reclaimed by one pacing step.
    public static let maxReclaimPerStep = 1_000
    /// Most places passed over (abandoned) by one pacing step.
    public static let maxSkipPerStep = 1_000
    /// How long a room is kept after its deal ended (then Redis drops it).
    public static let retentionAfterEnd: Duration = .seconds(7 * 86_400)

    public init(
        redis: RedisClient, settings: WaitingRoomSettings, keyring: PassKeyring,
        logger: Logger = Logger(label: "flashdeal.admission")
    ) {
        self.redis = redis
        self.settings = settings
        self.keyring = keyring
        self.logger = logger
    }

    // MARK: Shoppers

    /// Takes a place in the deal's line, or returns the shopper's existing place. One function call.
    ///
    /// Before `startsAt` (and within ``WaitingRoomSettings/preQueueWindow``) the place is in the
    /// pre-queue, decided by the draw; from `startsAt` on it is at the back of the line. A shopper
    /// whose place or pass expired, or who abandoned the place, gets a new place at the back.
    public func join(deal: DealID, user: UserID) async throws -> JoinOutcome {
        let arguments = [
            user.rawValue, PreQueueDraw.randomID("tkt_"), String(Self.milliseconds(settings.preQueueWindow)),
        ]
        let raw = try await AdmissionFunctions.call(redis, AdmissionFunctions.join, AdmissionKeys(deal), arguments)
        return try Self.parseJoin(raw, deal: deal, user: user)
    }

    // Replies are parsed in synchronous functions: the release optimizer crashes on async
    // functions that call the typed-throwing initializers inline.
    static func parseJoin(_ raw: RedisValue, deal: DealID, user: UserID) throws -> JoinOutcome {
        let reply = try Reply(raw, from: AdmissionFunctions.join)
        switch try reply.string(0) {
        case "joined", "again":
            let ticket = WaitingTicket(
                ticketId: try TicketID(try reply.string(1)), dealId: deal, userId: user,
                joinedAt: Timestamp.date(epochMilliseconds: Int64(try reply.int(2))),
                preQueue: try reply.int(3) == 1)
            return try reply.string(0) == "joined" ? .joined(ticket) : .alreadyJoined(ticket)
        case "notyet": return .notOpenYet(opensAt: Timestamp.date(epochMilliseconds: Int64(try reply.int(1))))
        case "soldout": return .soldOut
        case "closed": return .queueClosed
        case "ended": return .ended
        case "unknown": return .unknownDeal
        default: throw reply.invalid("unknown join outcome")
        }
    }

    /// What the ticket holder sees now; also records that the shopper is still there (a shopper
    /// who stops polling for ``WaitingRoomSettings/abandonAfter`` loses the place). One function call.
    ///
    /// When the ticket's turn has come and no pass exists yet, the pass is issued (registered in
    /// Redis with its expiry, atomically) and returned signed; polling again while it is valid
    /// returns the same pass and the same token.
    public func status(ticket: TicketID, deal: DealID, user: UserID) async throws -> AdmissionStatus {
        let arguments = [
            ticket.rawValue, user.rawValue, PreQueueDraw.randomID("pass_"), keyring.currentKeyId.rawValue,
            String(Self.milliseconds(settings.passLifetime)),
        ]
        let raw = try await AdmissionFunctions.call(redis, AdmissionFunctions.status, AdmissionKeys(deal), arguments)
        return try parseStatus(raw, deal: deal, user: user)
    }

    func parseStatus(_ raw: RedisValue, deal: DealID, user: UserID) throws -> AdmissionStatus {
        let reply = try Reply(raw, from: AdmissionFunctions.status)
        switch try reply.string(0) {
        case "waiting":
            let position = try reply.int(1)
            let rate = try reply.double(2)
            let eta: Duration? = rate > 0 ? .seconds(Double(position) / rate) : nil
            return .waiting(position: position, ratePerSecond: rate, eta: eta)
        case "paused": return .paused(position: try reply.int(1))
        case "prequeue":
            return .preQueue(
                drawAt: Timestamp.date(epochMilliseconds: Int64(try reply.int(1))), entrants: try reply.int(2))
        case "admitted":
            let pass = try AdmissionPass(
                passId: try PassID(try reply.string(1)), dealId: deal, userId: user,
                issuedAt: Timestamp.date(epochMilliseconds: Int64(try reply.int(2))),
                expiresAt: Timestamp.date(epochMilliseconds: Int64(try reply.int(3))),
                keyId: try SigningKeyID(try reply.string(4)))
            return .admitted(IssuedPass(pass: pass, token: try keyring.sign(pass)))
        case "used": return .passUsed(orderId: try OrderID(try reply.string(1)))
        case "expired": return .expired
        case "soldout": return .soldOut
        case "ended": return .ended
        case "unknown": return .unknownTicket
        default: throw reply.invalid("unknown status")
        }
    }

    /// Binds the pass to `order` for `quantity` units, atomically (one function call on the pass's
    /// deal). The first binding takes the pass out of the active set, so its capacity returns; a
    /// retry with the same order and quantity is accepted again. Expiry is judged on Redis time.
    ///
    /// `request` is the order's OrderRequested as it will be published: the first binding keeps it and
    /// marks the order undecided, so the order worker can send it again should the broker lose it; a
    /// retry gets it back (``PassConsumption/alreadyAccepted(request:)``) to publish the same bytes.
    public func consume(pass: AdmissionPass, order: OrderID, quantity: Int, request: [UInt8], budget: Duration?)
        async throws -> PassConsumption
    {
        let arguments = [
            pass.passId.rawValue, pass.userId.rawValue, order.rawValue, String(quantity),
            String(decoding: request, as: UTF8.self),
        ]
        let raw = try await AdmissionFunctions.call(
            redis, AdmissionFunctions.consume, AdmissionKeys(pass.dealId),
            arguments, budget: budget)
        return try Self.parseConsumption(raw)
    }

    static func parseConsumption(_ raw: RedisValue) throws -> PassConsumption {
        let reply = try Reply(raw, from: AdmissionFunctions.consume)
        switch try reply.string(0) {
        case "accepted": return .accepted
        case "again":
            let stored = (try? reply.string(1)) ?? ""
            return .alreadyAccepted(request: stored.isEmpty ? nil : Array(stored.utf8))
        case "used": return .used(by: try OrderID(try reply.string(1)))
        case "conflict": return .conflictingRetry(quantity: try reply.int(1))
        case "unknown": return .unknown
        case "expired": return .expired
        default: throw reply.invalid("unknown consumption outcome")
        }
    }

    // MARK: Pacing

    /// One pacing step for one deal (one function call). Safe to call from any number of replicas
    /// at any moment: the allowance is a token bucket on Redis time since the previous step, at
    /// ``WaitingRoomSettings/admissionRatePerSecond`` × `lagFactor`, holding at most
    /// ``WaitingRoomSettings/admissionBurst``.
    ///
    /// Admits the next shoppers in line, never beyond ``WaitingRoomSettings/maxActivePasses``
    /// active admissions, and nobody while the stock is zero (or the deal is not open, or the draw
    /// is not done). Reclaims expired admissions, passes over abandoned places, and updates the
    /// measured admission rate.
    public func advance(deal: DealID, lagFactor: Double) async throws -> AdvanceResult {
        try await step(deal: deal, lagFactor: lagFactor).result
    }

    enum StepPhase: String {
        case ok, unknown, notopen, drawing, soldout, paused, ended
    }

    struct Step {
        let result: AdvanceResult
        let phase: StepPhase
    }

    func step(deal: DealID, lagFactor: Double) async throws -> Step {
        let arguments = stepArguments(lagFactor: lagFactor)
        let raw = try await AdmissionFunctions.call(redis, AdmissionFunctions.advance, AdmissionKeys(deal), arguments)
        return try Self.parseStep(raw)
    }

    // Kept synchronous and apart from `step`: the optimizer mishandles the async function otherwise.
    func stepArguments(lagFactor: Double) -> [String] {
        let rate = settings.admissionRatePerSecond * max(0, lagFactor.isFinite ? lagFactor : 1)
        return [
            String(rate), String(max(0, settings.admissionBurst)), String(max(0, settings.maxActivePasses)),
            String(Self.milliseconds(settings.passLifetime)), String(Self.milliseconds(settings.abandonAfter)),
            String(Self.maxReclaimPerStep), String(Self.maxSkipPerStep), String(Self.rateTimeConstant.seconds),
            String(Self.milliseconds(Self.retentionAfterEnd)), String(max(0, lagFactor.isFinite ? lagFactor : 1)),
        ]
    }

    static func parseStep(_ raw: RedisValue) throws -> Step {
        let reply = try Reply(raw, from: AdmissionFunctions.advance)
        guard let phase = StepPhase(rawValue: try reply.string(5)) else { throw reply.invalid("unknown phase") }
        let result = AdvanceResult(
            admitted: try reply.int(0), waiting: try reply.int(1), activePasses: try reply.int(2),
            reclaimedPasses: try reply.int(3), ratePerSecond: try reply.double(4))
        return Step(result: result, phase: phase)
    }

    // MARK: Pre-queue draw

    /// Runs the pre-queue draw once Redis time has reached `startsAt`: one function call per
    /// ``WaitingRoomSettings/drawChunk`` swaps, repeated until the draw is done. Returns `true`
    /// when the draw is complete (now or earlier), `false` when it is not due yet or the deal is
    /// unknown. Idempotent; concurrent callers share the work.
    public func drawIfDue(deal: DealID) async throws -> Bool {
        let keys = AdmissionKeys(deal)
        let arguments = [String(max(1, settings.drawChunk))]
        while true {
            let raw = try await AdmissionFunctions.call(redis, AdmissionFunctions.drawStep, keys, arguments)
            switch try Self.parseDrawStep(raw) {
            case .done(let entrants, let justFinished):
                if justFinished {
                    logger.info("pre-queue draw done", metadata: ["deal": "\(deal)", "entrants": "\(entrants)"])
                }
                return true
            case .notDue: return false
            case .running: try Task.checkCancellation()
            }
        }
    }

    enum DrawStep {
        case done(entrants: Int, justFinished: Bool)
        case notDue, running
    }

    static func parseDrawStep(_ raw: RedisValue) throws -> DrawStep {
        let reply = try Reply(raw, from: AdmissionFunctions.drawStep)
        if try reply.int(0) == 1 { return .done(entrants: try reply.int(1), justFinished: try reply.int(2) == 0) }
        switch try reply.string(3) {
        case "notdue", "unknown": return .notDue
        default: return .running
        }
    }

    /// The draw's public record: the seed commitment always, the seed once the draw is done.
    /// `nil` for a deal Redis does not know.
    public func draw(deal: DealID) async throws -> DrawRecord? {
        try await DealStateStore(redis: redis).draw(of: deal)
    }

    /// The pre-queue entrants in arrival order — with the revealed seed, the input of
    /// ``PreQueueDraw/order(entrants:seed:)``. Read in pages, so Redis is never blocked long.
    public func entrants(deal: DealID) async throws -> [UserID] {
        let key = AdmissionKeys(deal).entrants
        let page = 10_000
        var users: [UserID] = []
        while true {
            let reply = try await redis.send(["LRANGE", key, String(users.count), String(users.count + page - 1)])
            guard let values = reply.arrayValue else { throw AdmissionError("LRANGE \(key) replied \(reply)") }
            for value in values {
                guard let raw = value.stringValue else { throw AdmissionError("LRANGE \(key) returned \(value)") }
                users.append(try UserID(raw))
            }
            if values.count < page { return users }
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        Int64((duration.seconds * 1_000).rounded())
    }
}
