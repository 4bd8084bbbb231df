import DealData
public import Domain
public import Foundation
public import Infrastructure

/// Operators' controls of a deal's sale in Redis: a function library of its own (read, apply), on the
/// deal's keys (``AdmissionKeys/all``). The admission library's join, status and pacing read the same
/// fields, so an action takes effect on every gateway at its next call.
public final class SaleControlStore: Sendable {
    public static let read = "flashdeal_ctl_read"
    public static let apply = "flashdeal_ctl_apply"

    public static let library = RedisFunctionLibrary(
        name: "flashdeal_sale_control",
        source: #"""
            #!lua name=flashdeal_sale_control
            -- KEYS: the admission library's seventeen, of which these are used.
            local INFO, DRAW, ROOM = 1, 4, 5

            -- {paused 0|1, rateOverride or '', grant, closed or '', startsAtMs, endsAtMs, drawState} or false
            local function read(keys)
              local info = redis.call('HMGET', keys[INFO], 'startsAt', 'endsAt')
              local draw = redis.call('HGET', keys[DRAW], 'state')
              if not info[1] or not draw then return false end
              local room = redis.call('HMGET', keys[ROOM], 'paused', 'rateOverride', 'grant', 'closed')
              return {room[1] == '1' and 1 or 0, room[2] or '', tonumber(room[3] or '0') or 0, room[4] or '',
                info[1], info[2], draw}
            end

            redis.register_function{function_name = 'flashdeal_ctl_read', flags = {'no-writes'}, callback = function(keys, args)
              return read(keys)
            end}

            -- apply(action, a, b) -> {'unknown'} | {'opened'} | {'invalid'} | {'ok', before (7 values), after (7 values)}
            --   pause | resume | rate (a: per second, '' for the configured one) | admit (a: count)
            --   close | soldout | reopen | open (a: startsAtMs, b: endsAtMs; only before the opening and the draw)
            redis.register_function('flashdeal_ctl_apply', function(keys, args)
              local action, a, b = args[1], args[2], args[3]
              local before = read(keys)
              if not before then return {'unknown'} end
              if action == 'pause' then redis.call('HSET', keys[ROOM], 'paused', '1')
              elseif action == 'resume' then redis.call('HDEL', keys[ROOM], 'paused')
              elseif action == 'rate' then
                if a == '' then redis.call('HDEL', keys[ROOM], 'rateOverride')
                elseif tonumber(a) and tonumber(a) > 0 then redis.call('HSET', keys[ROOM], 'rateOverride', a)
                else return {'invalid'} end
              elseif action == 'admit' then
                if not tonumber(a) or tonumber(a) < 1 then return {'invalid'} end
                redis.call('HINCRBY', keys[ROOM], 'grant', a)
              elseif action == 'close' then redis.call('HSET', keys[ROOM], 'closed', 'queue')
              elseif action == 'soldout' then redis.call('HSET', keys[ROOM], 'closed', 'soldout')
              elseif action == 'reopen' then redis.call('HDEL', keys[ROOM], 'closed')
              elseif action == 'open' then
                local t = redis.call('TIME')
                local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
                if before[7] ~= 'pending' or now_ms >= tonumber(before[5]) then return {'opened'} end
                local starts, ends = tonumber(a), tonumber(b)
                if not starts or not ends or starts <= now_ms or ends <= starts then return {'invalid'} end
                redis.call('HSET', keys[INFO], 'startsAt', a, 'endsAt', b)
              else return {'invalid'} end
              local after = read(keys)
              local out = {'ok'}
              for i = 1, 7 do out[i + 1] = before[i] end
              for i = 1, 7 do out[i + 8] = after[i] end
              return out
            end)
            """#)

    private let redis: RedisClient

    public init(redis: RedisClient) {
        self.redis = redis
    }

    /// Loads the library (and registers it with the client for re-loading after a restart).
    public func prepare() async throws {
        try await redis.load(Self.library)
    }

    /// The deal's controls; `nil` for a deal Redis does not know.
    public func control(of deal: DealID) async throws -> SaleControl? {
        try Self.parseRead(try await call(Self.read, deal, []))
    }

    /// Applies `action` atomically and returns the controls before and after. Refused actions
    /// (``SaleControlRefusal``) change nothing. The guardrails are checked against the controls read
    /// first; the function checks again what may have changed since (the opening).
    public func apply(_ action: OperatorAction, to deal: DealID, now: Date, guardrails: OperatorGuardrails)
        async throws -> SaleControlChange
    {
        let current = try await control(of: deal)
        let arguments = try Self.plan(current, action, deal: deal, now: now, guardrails: guardrails)
        return try Self.parseChange(try await call(Self.apply, deal, arguments), deal: deal)
    }

    // Planning and parsing stay synchronous, apart from the async calls (as in DealStateStore: the
    // release optimizer mishandles typed throws inline in async functions).
    static func plan(
        _ current: SaleControl?, _ action: OperatorAction, deal: DealID, now: Date, guardrails: OperatorGuardrails
    ) throws -> [String] {
        guard let current else { throw SaleControlRefusal(.unknownDeal, "no deal \(deal) in the hot store") }
        return arguments(action, try current.applying(action, now: now, guardrails: guardrails))
    }

    private func call(_ function: String, _ deal: DealID, _ arguments: [String]) async throws -> RedisValue {
        let first = await Self.result(redis, function, deal, arguments)
        if case .failure(let error) = first, error.code == .server, error.message.contains("Function not found") {
            try await prepare()
            return try await Self.result(redis, function, deal, arguments).get()
        }
        return try first.get()
    }

    private static func result(_ redis: RedisClient, _ function: String, _ deal: DealID, _ arguments: [String])
        async -> Result<RedisValue, RedisError>
    {
        do {
            return .success(try await redis.fcall(function, keys: AdmissionKeys(deal).all, arguments: arguments))
        } catch {
            return .failure(error)
        }
    }

    static func parseRead(_ raw: RedisValue) throws -> SaleControl? {
        if raw.isNull { return nil }
        return try parseControl(try Reply(raw, from: read), from: 0)
    }

    static func arguments(_ action: OperatorAction, _ expected: SaleControl) -> [String] {
        switch action {
        case .pause: ["pause"]
        case .resume: ["resume"]
        case .setAdmissionRate(let rate): ["rate", rate.map { String($0) } ?? ""]
        case .admit(let count): ["admit", String(count)]
        case .closeQueue: ["close"]
        case .markSoldOut: ["soldout"]
        case .reopen: ["reopen"]
        case .moveOpening:
            [
                "open", String(Timestamp.epochMilliseconds(expected.startsAt)),
                String(Timestamp.epochMilliseconds(expected.endsAt)),
            ]
        }
    }

    static func parseChange(_ raw: RedisValue, deal: DealID) throws -> SaleControlChange {
        let reply = try Reply(raw, from: apply)
        switch try reply.string(0) {
        case "ok":
            return SaleControlChange(before: try parseControl(reply, from: 1), after: try parseControl(reply, from: 8))
        case "opened": throw SaleControlRefusal(.opened, "deal \(deal) has opened: its opening cannot move")
        case "unknown": throw SaleControlRefusal(.unknownDeal, "no deal \(deal) in the hot store")
        default: throw SaleControlRefusal(.invalid, "the hot store refused the action")
        }
    }

    static func parseControl(_ reply: Reply, from start: Int) throws -> SaleControl {
        let rate = try reply.string(start + 1)
        let closure = try reply.string(start + 3)
        return SaleControl(
            paused: try reply.int(start) == 1, admissionRateOverride: rate.isEmpty ? nil : Double(rate),
            pendingAdmissions: try reply.int(start + 2),
            closure: closure.isEmpty ? nil : SaleClosure(rawValue: closure),
            startsAt: Timestamp.date(epochMilliseconds: Int64(try reply.int(start + 4))),
            endsAt: Timestamp.date(epochMilliseconds: Int64(try reply.int(start + 5))),
            opened: try reply.string(start + 6) != "pending")
    }
}
