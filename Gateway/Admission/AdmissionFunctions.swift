import DealData
public import Infrastructure

/// The Redis functions of the admission library: deal seeding and state, the waiting room (join,
/// status, pacing, pre-queue draw) and admission passes. One Lua library, loaded with
/// `FUNCTION LOAD REPLACE` by ``DealStateStore/prepare()`` (or on first use), and re-loaded by
/// `RedisClient` when a server comes back without it.
///
/// Every function takes the same seventeen keys, ``AdmissionKeys/all`` in that order, all under the
/// deal's hash tag. Time is Redis server time (`TIME`), never the caller's. docs/admission.md
/// describes each function, its arguments and its reply.
public enum AdmissionFunctions {
    public static let seed = "flashdeal_adm_seed"
    public static let state = "flashdeal_adm_state"
    public static let join = "flashdeal_adm_join"
    public static let status = "flashdeal_adm_status"
    public static let consume = "flashdeal_adm_consume"
    public static let advance = "flashdeal_adm_advance"
    public static let drawStep = "flashdeal_adm_draw_step"
    public static let drawRecord = "flashdeal_adm_draw_record"

    public static let library = RedisFunctionLibrary(
        name: "flashdeal_admission",
        source: #"""
            #!lua name=flashdeal_admission
            -- KEYS, in this order, for every function (all under the hash tag {deal:<id>}):
            local INFO, STOCK, SOLDOUT, DRAW, ROOM, ENTRANTS, LINE, TICKETS, SEQ, SEEN, STATE, USERS, ACTIVE, PASSES, BINDINGS,
              REQUESTS, UNDECIDED = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17

            -- Redis server time: epoch milliseconds and epoch microseconds.
            local function now()
              local t = redis.call('TIME')
              local s, us = tonumber(t[1]), tonumber(t[2])
              return s * 1000 + math.floor(us / 1000), s * 1000000 + us
            end

            local function int(x)
              return string.format('%d', x)
            end

            local function is_sold_out(keys)
              local stock = tonumber(redis.call('GET', keys[STOCK]) or '0') or 0
              local flag = redis.call('GET', keys[SOLDOUT])
              return stock <= 0 or (flag ~= false and flag ~= '0') or redis.call('HGET', keys[ROOM], 'closed') == 'soldout'
            end

            -- tickets: userId|joinedAtMs|preQueue
            local function parse_ticket(record)
              return string.match(record, '^(.*)|(%d+)|(%d)$')
            end

            -- passes: ticketId|userId|issuedAtMs|expiresAtMs|keyId
            local function parse_pass(record)
              local ticket, user, issued, expires, key = string.match(record, '^([^|]*)|([^|]*)|(%d+)|(%d+)|(.*)$')
              return ticket, user, tonumber(issued), tonumber(expires), key
            end

            local function starts_with(s, prefix)
              return s ~= false and s ~= nil and string.sub(s, 1, #prefix) == prefix
            end

            -- An admitted ticket whose pass (or pick-up window) ran out: its capacity returns.
            local function expire_ticket(keys, ticket)
              redis.call('HSET', keys[STATE], ticket, 'expired')
              redis.call('ZREM', keys[ACTIVE], ticket)
            end

            -- Whether a ticket still holds its place (waiting, admitted within its deadline, or used).
            local function is_live(keys, ticket, now_ms)
              local st = redis.call('HGET', keys[STATE], ticket)
              if st == 'expired' or st == 'abandoned' then return false end
              if starts_with(st, 'pass:') or st == 'called' then
                local deadline = tonumber(redis.call('ZSCORE', keys[ACTIVE], ticket))
                if deadline == nil or deadline <= now_ms then
                  expire_ticket(keys, ticket)
                  return false
                end
              end
              return true
            end

            -- seed(startsAtMs, endsAtMs, totalStock, perCustomerLimit, seed, commitment, reset, paymentWindowMs)
            -- -> {createdStock 0|1, remaining, commitment}
            redis.register_function('flashdeal_adm_seed', function(keys, args)
              local reset = args[7] == '1'
              if reset then
                redis.call('UNLINK', keys[STOCK], keys[SOLDOUT], keys[DRAW], keys[ROOM], keys[ENTRANTS], keys[LINE],
                  keys[TICKETS], keys[SEQ], keys[SEEN], keys[STATE], keys[USERS], keys[ACTIVE], keys[PASSES], keys[BINDINGS],
                  keys[REQUESTS], keys[UNDECIDED])
              else
                -- A deal seeded again (e.g. its window moved) keeps its room for as long as it runs.
                for i = DRAW, UNDECIDED do redis.call('PERSIST', keys[i]) end
                redis.call('HDEL', keys[ROOM], 'retained')
              end
              redis.call('HSET', keys[INFO], 'startsAt', args[1], 'endsAt', args[2], 'totalStock', args[3],
                'perCustomerLimit', args[4], 'paymentWindowMs', args[8] or '0')
              local created = redis.call('SET', keys[STOCK], args[3], 'NX')
              if redis.call('EXISTS', keys[DRAW]) == 0 then
                redis.call('HSET', keys[DRAW], 'commitment', args[6], 'seed', args[5], 'state', 'pending')
              end
              return {created and 1 or 0, tonumber(redis.call('GET', keys[STOCK])), redis.call('HGET', keys[DRAW], 'commitment')}
            end)

            -- state() -> nil | {startsAtMs, endsAtMs, totalStock, perCustomerLimit, remaining, soldOutFlag 0|1}
            redis.register_function{function_name = 'flashdeal_adm_state', flags = {'no-writes'}, callback = function(keys, args)
              local info = redis.call('HMGET', keys[INFO], 'startsAt', 'endsAt', 'totalStock', 'perCustomerLimit')
              if not info[1] then return false end
              local flag = redis.call('GET', keys[SOLDOUT])
              local marked = redis.call('HGET', keys[ROOM], 'closed') == 'soldout'
              return {info[1], info[2], info[3], info[4], redis.call('GET', keys[STOCK]) or '0',
                ((flag ~= false and flag ~= '0') or marked) and 1 or 0}
            end}

            -- join(userId, newTicketId, preQueueWindowMs)
            -- -> {'unknown'} | {'ended'} | {'notyet', opensAtMs} | {'soldout'} | {'closed'}
            --  | {'joined' | 'again', ticketId, joinedAtMs, preQueue 0|1}
            redis.register_function('flashdeal_adm_join', function(keys, args)
              local user, candidate, window = args[1], args[2], tonumber(args[3])
              local info = redis.call('HMGET', keys[INFO], 'startsAt', 'endsAt')
              local draw_state = redis.call('HGET', keys[DRAW], 'state')
              if not info[1] or not draw_state then return {'unknown'} end
              local starts, ends = tonumber(info[1]), tonumber(info[2])
              local now_ms = now()
              if now_ms >= ends then return {'ended'} end
              local opened = now_ms >= starts or draw_state ~= 'pending'
              if not opened and now_ms < starts - window then return {'notyet', starts - window} end

              local existing = redis.call('HGET', keys[USERS], user)
              if existing and is_live(keys, existing, now_ms) then
                local _, joined, pq = parse_ticket(redis.call('HGET', keys[TICKETS], existing))
                if redis.call('HGET', keys[STATE], existing) == false then
                  redis.call('HSET', keys[SEEN], existing, now_ms)
                end
                return {'again', existing, tonumber(joined), tonumber(pq)}
              end
              if is_sold_out(keys) then return {'soldout'} end
              if redis.call('HGET', keys[ROOM], 'closed') == 'queue' then return {'closed'} end

              local pq, seq = 0, 0
              if opened then
                -- The pre-queue is closed once Redis time reaches startsAt: its size is final.
                seq = redis.call('LLEN', keys[ENTRANTS]) + redis.call('HINCRBY', keys[ROOM], 'joined', 1)
              else
                pq = 1
                seq = redis.call('RPUSH', keys[ENTRANTS], user)
              end
              redis.call('HSET', keys[LINE], seq, candidate)
              redis.call('HSET', keys[TICKETS], candidate, user .. '|' .. int(now_ms) .. '|' .. pq)
              redis.call('HSET', keys[SEQ], candidate, seq)
              redis.call('HSET', keys[SEEN], candidate, now_ms)
              redis.call('HSET', keys[USERS], user, candidate)
              return {'joined', candidate, now_ms, pq}
            end)

            -- status(ticketId, userId, newPassId, keyId, passLifetimeMs)
            -- -> {'unknown'} | {'used', orderId} | {'ended'} | {'expired'} | {'soldout'}
            --  | {'prequeue', drawAtMs, entrants} | {'waiting' | 'paused', position, ratePerSecond}
            --  | {'admitted', passId, issuedAtMs, expiresAtMs, keyId}
            redis.register_function('flashdeal_adm_status', function(keys, args)
              local ticket, user, candidate, key_id, lifetime = args[1], args[2], args[3], args[4], tonumber(args[5])
              local record = redis.call('HGET', keys[TICKETS], ticket)
              if not record then return {'unknown'} end
              local owner, _, pq = parse_ticket(record)
              if owner ~= user then return {'unknown'} end
              local info = redis.call('HMGET', keys[INFO], 'startsAt', 'endsAt')
              if not info[1] then return {'unknown'} end
              local starts, ends = tonumber(info[1]), tonumber(info[2])
              local now_ms = now()

              local st = redis.call('HGET', keys[STATE], ticket)
              if starts_with(st, 'used:') then return {'used', string.sub(st, 6)} end
              if now_ms >= ends then return {'ended'} end
              if not is_live(keys, ticket, now_ms) then return {'expired'} end
              redis.call('HSET', keys[SEEN], ticket, now_ms)
              if is_sold_out(keys) then return {'soldout'} end

              if starts_with(st, 'pass:') then
                local pass_id = string.sub(st, 6)
                local _, _, issued, expires, key = parse_pass(redis.call('HGET', keys[PASSES], pass_id))
                return {'admitted', pass_id, issued, expires, key}
              end
              if st == 'called' then
                local expires = now_ms + lifetime
                redis.call('HSET', keys[PASSES], candidate,
                  ticket .. '|' .. user .. '|' .. int(now_ms) .. '|' .. int(expires) .. '|' .. key_id)
                redis.call('HSET', keys[STATE], ticket, 'pass:' .. candidate)
                redis.call('ZADD', keys[ACTIVE], expires, ticket)
                redis.call('HINCRBY', keys[ROOM], 'issued', 1)
                return {'admitted', candidate, now_ms, expires, key_id}
              end
              if pq == '1' and redis.call('HGET', keys[DRAW], 'state') ~= 'done' then
                return {'prequeue', starts, redis.call('LLEN', keys[ENTRANTS])}
              end
              local seq = tonumber(redis.call('HGET', keys[SEQ], ticket))
              local room = redis.call('HMGET', keys[ROOM], 'served', 'rate', 'paused')
              local position = math.max(1, seq - tonumber(room[1] or '0'))
              return {room[3] == '1' and 'paused' or 'waiting', position, room[2] or '0'}
            end)

            -- consume(passId, userId, orderId, quantity, request)
            -- -> {'accepted'} | {'again', request or ''} | {'conflict', quantity} | {'used', orderId} | {'unknown'} | {'expired'}
            -- `request` is the OrderRequested exactly as the gateway publishes it: kept with the binding
            -- (REQUESTS) and marked undecided (UNDECIDED, scored by Redis time) until the order worker has
            -- decided the order, so a request the broker loses is sent again (docs/worker.md, "Re-sending").
            -- A retry of the same order gets the stored request back, to publish the same bytes again.
            redis.register_function('flashdeal_adm_consume', function(keys, args)
              local pass_id, user, order, quantity, request = args[1], args[2], args[3], args[4], args[5] or ''
              local record = redis.call('HGET', keys[PASSES], pass_id)
              if not record then return {'unknown'} end
              local ticket, owner, _, expires = parse_pass(record)
              if owner ~= user then return {'unknown'} end
              local binding = redis.call('HGET', keys[BINDINGS], pass_id)
              if binding then
                local bound_order, bound_quantity = string.match(binding, '^(.*)|(%d+)$')
                if bound_order ~= order then return {'used', bound_order} end
                if bound_quantity == quantity then return {'again', redis.call('HGET', keys[REQUESTS], order) or ''} end
                return {'conflict', tonumber(bound_quantity)}
              end
              local now_ms = now()
              if expires <= now_ms then
                if redis.call('HGET', keys[STATE], ticket) == 'pass:' .. pass_id then expire_ticket(keys, ticket) end
                return {'expired'}
              end
              redis.call('HSET', keys[BINDINGS], pass_id, order .. '|' .. quantity)
              redis.call('HSET', keys[STATE], ticket, 'used:' .. order)
              redis.call('ZREM', keys[ACTIVE], ticket)
              redis.call('HINCRBY', keys[ROOM], 'used', 1)
              if request ~= '' then
                redis.call('HSET', keys[REQUESTS], order, request)
                redis.call('ZADD', keys[UNDECIDED], 'NX', now_ms, order)
              end
              return {'accepted'}
            end)

            -- advance(ratePerSecond, burst, maxActive, claimMs, abandonAfterMs, maxReclaim, maxSkip, tauSeconds, retentionMs,
            --         lagFactor)   ratePerSecond already carries lagFactor; an operator's rate (ROOM rateOverride) gets it here
            -- -> {admitted, waiting, active, reclaimed, ratePerSecond, code, served, skipped}
            --    code: 'ok' | 'unknown' | 'notopen' | 'drawing' | 'soldout' | 'paused' | 'ended'
            -- Operator controls (flashdeal_sale_control): while `paused` only `grant` admissions are made.
            redis.register_function('flashdeal_adm_advance', function(keys, args)
              local rate, burst, max_active = tonumber(args[1]), tonumber(args[2]), tonumber(args[3])
              local claim, abandon_after = tonumber(args[4]), tonumber(args[5])
              local max_reclaim, max_skip, tau, retention = tonumber(args[6]), tonumber(args[7]), tonumber(args[8]), tonumber(args[9])
              local info = redis.call('HMGET', keys[INFO], 'startsAt', 'endsAt')
              local draw_state = redis.call('HGET', keys[DRAW], 'state')
              if not info[1] or not draw_state then return {0, 0, 0, 0, '0', 'unknown', 0, 0} end
              local starts, ends = tonumber(info[1]), tonumber(info[2])
              local now_ms, now_us = now()

              -- Reclaim admissions whose pass (or pick-up window) expired unused.
              local reclaimed = 0
              local due = redis.call('ZRANGEBYSCORE', keys[ACTIVE], '-inf', now_ms, 'LIMIT', 0, max_reclaim)
              for _, ticket in ipairs(due) do
                expire_ticket(keys, ticket)
                reclaimed = reclaimed + 1
              end
              if reclaimed > 0 then redis.call('HINCRBY', keys[ROOM], 'reclaimed', reclaimed) end

              local room = redis.call('HMGET', keys[ROOM], 'served', 'joined', 'tokens', 'tat', 'rate', 'rateAt', 'retained',
                'paused', 'rateOverride', 'grant')
              local paused, grant = room[8] == '1', tonumber(room[10] or '0') or 0
              if tonumber(room[9] or '') then rate = tonumber(room[9]) * (tonumber(args[10] or '') or 1) end
              local served = tonumber(room[1] or '0')
              local line_length = redis.call('LLEN', keys[ENTRANTS]) + tonumber(room[2] or '0')
              local waiting_before = line_length - served

              -- Pacing bucket: starts full, refills at `rate` per second up to `burst`.
              local tokens = tonumber(room[3] or '') or burst
              local tat = tonumber(room[4] or '')
              if tat ~= nil and now_us > tat then
                tokens = math.min(burst, tokens + (now_us - tat) * rate / 1000000)
              end
              tokens = math.min(burst, tokens)

              local code = 'ok'
              if now_ms >= ends then code = 'ended'
              elseif now_ms < starts then code = 'notopen'
              elseif draw_state ~= 'done' then code = 'drawing'
              elseif is_sold_out(keys) then code = 'soldout'
              elseif paused then code = 'paused'
              end

              local admitted, skipped = 0, 0
              if code == 'ok' or (code == 'paused' and grant > 0) then
                local paced = code == 'ok' and math.floor(tokens) or 0
                local quota = math.min(paced + grant, max_active - redis.call('ZCARD', keys[ACTIVE]))
                while admitted < quota and served < line_length and skipped < max_skip do
                  served = served + 1
                  local ticket = redis.call('HGET', keys[LINE], served)
                  if ticket then
                    if redis.call('HGET', keys[STATE], ticket) then
                      skipped = skipped + 1
                    else
                      local seen = tonumber(redis.call('HGET', keys[SEEN], ticket) or '0')
                      if now_ms - seen > abandon_after then
                        redis.call('HSET', keys[STATE], ticket, 'abandoned')
                        skipped = skipped + 1
                      else
                        redis.call('HSET', keys[STATE], ticket, 'called')
                        redis.call('ZADD', keys[ACTIVE], now_ms + claim, ticket)
                        admitted = admitted + 1
                      end
                    end
                  end
                end
                local granted = math.min(grant, admitted)
                if granted > 0 then redis.call('HSET', keys[ROOM], 'grant', grant - granted) end
                if code == 'ok' then tokens = tokens - (admitted - granted) end
              end

              -- Measured admission rate: an exponentially weighted moving average over time (tau seconds),
              -- updated only while someone waits, so an empty line does not read as a slow one.
              local measured = tonumber(room[5] or '0')
              local rate_at = tonumber(room[6] or '') or now_us
              if code == 'ok' and (waiting_before > 0 or admitted > 0) then
                local dt = math.max(0, now_us - rate_at) / 1000000
                if dt > 0 then
                  local decay = math.exp(-dt / tau)
                  measured = measured * decay + admitted * (1 - decay) / dt
                else
                  measured = measured + admitted / tau
                end
              end

              local rate_text = string.format('%.6f', measured)
              redis.call('HSET', keys[ROOM], 'served', served, 'tokens', string.format('%.6f', tokens), 'tat', int(now_us),
                'rate', rate_text, 'rateAt', int(now_us))
              if admitted > 0 then redis.call('HINCRBY', keys[ROOM], 'admitted', admitted) end
              if skipped > 0 then redis.call('HINCRBY', keys[ROOM], 'skipped', skipped) end

              -- After the deal ends its room is kept for `retention`, then Redis drops it.
              if code == 'ended' and room[7] ~= '1' then
                redis.call('HSET', keys[ROOM], 'retained', '1')
                for i = DRAW, UNDECIDED do redis.call('PEXPIRE', keys[i], retention) end
              end

              return {admitted, line_length - served, redis.call('ZCARD', keys[ACTIVE]), reclaimed, rate_text, code, served, skipped}
            end)

            -- draw_step(chunk) -> {done 0|1, entrants, cursor, code}   code: 'unknown' | 'notdue' | 'drawing' | 'done'
            -- Fisher-Yates from the end over the line's first n places, `chunk` swaps per call:
            -- i = n-1 .. 1, j = int(first 12 hex digits of SHA1(seed .. ':' .. i)) mod (i + 1), swap places i+1 and j+1.
            redis.register_function('flashdeal_adm_draw_step', function(keys, args)
              local chunk = math.max(1, tonumber(args[1]))
              local starts = tonumber(redis.call('HGET', keys[INFO], 'startsAt') or '')
              local draw = redis.call('HMGET', keys[DRAW], 'state', 'seed', 'n', 'cursor')
              if starts == nil or not draw[1] then return {0, 0, -1, 'unknown'} end
              if draw[1] == 'done' then return {1, tonumber(draw[3]), -1, 'done'} end
              local now_ms = now()
              if now_ms < starts then return {0, redis.call('LLEN', keys[ENTRANTS]), -1, 'notdue'} end

              local n, cursor = tonumber(draw[3] or ''), tonumber(draw[4] or '')
              if draw[1] == 'pending' then
                n = redis.call('LLEN', keys[ENTRANTS])
                cursor = n - 1
              end
              local seed = draw[2]
              local stop = math.max(1, cursor - chunk + 1)
              for i = cursor, stop, -1 do
                local j = tonumber(string.sub(redis.sha1hex(seed .. ':' .. int(i)), 1, 12), 16) % (i + 1)
                if j ~= i then
                  local a = redis.call('HGET', keys[LINE], i + 1)
                  local b = redis.call('HGET', keys[LINE], j + 1)
                  redis.call('HSET', keys[LINE], i + 1, b, j + 1, a)
                  redis.call('HSET', keys[SEQ], b, i + 1, a, j + 1)
                end
              end
              cursor = math.min(cursor, stop - 1)
              redis.call('HINCRBY', keys[DRAW], 'steps', 1)
              if cursor < 1 then
                redis.call('HSET', keys[DRAW], 'state', 'done', 'n', n, 'cursor', 0, 'drawnAt', now_ms)
                return {1, n, 0, 'done'}
              end
              redis.call('HSET', keys[DRAW], 'state', 'running', 'n', n, 'cursor', cursor)
              return {0, n, cursor, 'drawing'}
            end)

            -- draw_record() -> nil | {commitment, seed or '', entrants, drawnAtMs or '', state}
            redis.register_function{function_name = 'flashdeal_adm_draw_record', flags = {'no-writes'}, callback = function(keys, args)
              local draw = redis.call('HMGET', keys[DRAW], 'commitment', 'seed', 'state', 'drawnAt')
              if not draw[1] then return false end
              local done = draw[3] == 'done'
              return {draw[1], done and draw[2] or '', redis.call('LLEN', keys[ENTRANTS]), done and draw[4] or '', draw[3]}
            end}
            """#)
}
