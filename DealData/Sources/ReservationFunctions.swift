public import Infrastructure

/// The Redis function library `flashdeal_orders`: the order worker's stock reservation and release,
/// and the bookkeeping of its re-sender (orders accepted and undecided, outcomes not yet seen in the log).
///
/// Every function takes the same ten keys, ``OrderKeys/all`` in that order, all under the deal's
/// hash tag `{deal:<id>}`; time is Redis server time. docs/worker.md describes each function.
///
/// A reservation record (`ord:T:res`, order id → record) is
/// `outcome|quantity|userId|announced|released|published|decidedAtMs`:
/// - `outcome`: `RESERVED`, `SOLD_OUT`, `LIMIT_EXCEEDED` or `DEAL_CLOSED` — the first answer, which a
///   replay of the same order id gets again;
/// - `announced`: `1` when this reservation took the last unit (it set the sold-out flag);
/// - `released`: empty, or why the reserved units went back (`FAILED`, `CANCELLED`, `EXPIRED`);
/// - `published`: `1` once the outcome's events were acknowledged by Kafka and the order persisted;
/// - `decidedAtMs`: when the outcome was decided (Redis time, epoch ms): the order's decision time in
///   MongoDB and its outcome events, the same on every replay. Records written before this field
///   existed have six fields and read as 0.
///
/// When the deal has a payment window (`paymentWindowMs` in its info), a reservation is also due
/// for payment in `ord:T:unpaid` (order id → deadline, ms). `pay` takes it out; past the deadline
/// `expire` releases it (`EXPIRED`) and parks it in `ord:T:expired` until the worker has recorded
/// the CANCELLED order and published StockReleased (`expired_done`).
///
/// A decided order enters `ord:T:unseen` (unscored until published, then scored by when) and stays
/// until the worker's event watcher reads its outcome event back from the log (`seen`); once published
/// it also leaves the gateway's undecided set (`wr:T:undecided`). `due` hands out what stayed too long
/// in either set, to be sent again.
public enum ReservationFunctions {
    public static let reserve = "flashdeal_ord_reserve"
    public static let release = "flashdeal_ord_release"
    public static let markPublished = "flashdeal_ord_published"
    public static let restore = "flashdeal_ord_restore"
    public static let pay = "flashdeal_ord_pay"
    public static let expire = "flashdeal_ord_expire"
    public static let expiredDone = "flashdeal_ord_expired_done"
    public static let due = "flashdeal_ord_due"
    public static let seen = "flashdeal_ord_seen"
    public static let verified = "flashdeal_ord_verified"

    public static let library = RedisFunctionLibrary(
        name: "flashdeal_orders",
        source: #"""
            #!lua name=flashdeal_orders
            local INFO, STOCK, SOLDOUT, RES, HELD, UNPAID, EXPIRED, UNDECIDED, UNSEEN, REQUESTS = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
            -- The unseen set's score of an outcome decided but not yet published: never due.
            local UNPUBLISHED = 9000000000000000
            -- Whether this Redis process's stock may be trusted: false whenever the library is loaded,
            -- that is after every start of the server (from its append-only file, which may lack the
            -- last writes before a crash) and every new version of the library; set by
            -- flashdeal_ord_verified once the worker has rebuilt the open deals from MongoDB. Kept in
            -- the Lua state, never in the data, so no restored file can bring it back.
            local verified = false
            -- The rebuild under way on this process (its nonce): only a rebuild begun on the same
            -- process may set verified, so one that straddles a restart starts again.
            local rebuilding = nil

            local function now_ms()
              local t = redis.call('TIME')
              return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            end

            local function int(x) return string.format('%d', x) end

            -- outcome|quantity|userId|announced|released|published|decidedAtMs (six fields before decidedAtMs existed)
            local function parse(record)
              local outcome, qty, user, announced, released, published, decided =
                string.match(record, '^([^|]*)|(%d+)|([^|]*)|(%d)|([^|]*)|(%d)|(%d+)$')
              if not outcome then
                outcome, qty, user, announced, released, published =
                  string.match(record, '^([^|]*)|(%d+)|([^|]*)|(%d)|([^|]*)|(%d)$')
                decided = '0'
              end
              return outcome, tonumber(qty), user, announced, released, published, decided
            end

            local function pack(outcome, qty, user, announced, released, published, decided)
              return outcome .. '|' .. int(qty) .. '|' .. user .. '|' .. announced .. '|' .. released .. '|' .. published
                .. '|' .. decided
            end

            -- Sets the sold-out flag; '1' when this call set it (the caller announces DealSoldOut).
            local function mark_sold_out(keys)
              local flag = redis.call('GET', keys[SOLDOUT])
              if flag == false or flag == '0' then
                redis.call('SET', keys[SOLDOUT], '1')
                return '1'
              end
              return '0'
            end

            local function stock_of(keys)
              return tonumber(redis.call('GET', keys[STOCK]) or '0') or 0
            end

            -- Puts a reservation's units back on sale and records why; returns the stock after.
            local function give_back(keys, order, outcome, qty, owner, announced, reason, published, decided)
              local stock = redis.call('INCRBY', keys[STOCK], qty)
              local held = redis.call('HINCRBY', keys[HELD], owner, -qty)
              if held <= 0 then redis.call('HDEL', keys[HELD], owner) end
              if stock > 0 then redis.call('DEL', keys[SOLDOUT]) end
              redis.call('HSET', keys[RES], order, pack(outcome, qty, owner, announced, reason, published, decided))
              redis.call('ZREM', keys[UNPAID], order)
              return stock
            end

            -- ARGV: orderId, userId, quantity, graceMs (orders are still taken this long after endsAt:
            -- they were accepted before the end and waited in the queue).
            -- Reply: {outcome, replay, announced, remaining, released, published, paymentDueMs (0: none), decidedAtMs};
            -- outcome NO_STATE when Redis does not hold the deal, UNVERIFIED when the server (or the
            -- library) started since the stock was last rebuilt (nothing is written then; a replay of a
            -- recorded decision is answered either way).
            redis.register_function('flashdeal_ord_reserve', function(keys, args)
              local order, user, qty, grace = args[1], args[2], tonumber(args[3]), tonumber(args[4])
              local record = redis.call('HGET', keys[RES], order)
              if record then
                local outcome, _, _, announced, released, published, decided = parse(record)
                local due = tonumber(redis.call('ZSCORE', keys[UNPAID], order) or '0')
                return {outcome, 1, tonumber(announced), stock_of(keys), released, tonumber(published), due, tonumber(decided)}
              end
              if not verified then return {'UNVERIFIED', 0, 0, 0, '', 0, 0, 0} end
              local info = redis.call('HMGET', keys[INFO], 'endsAt', 'perCustomerLimit', 'paymentWindowMs')
              local stock = redis.call('GET', keys[STOCK])
              if not info[1] or not info[2] or not stock then
                return {'NO_STATE', 0, 0, 0, '', 0, 0, 0}
              end
              stock = tonumber(stock)
              local outcome, announced, due = 'RESERVED', '0', 0
              local now = now_ms()
              local held = tonumber(redis.call('HGET', keys[HELD], user) or '0')
              if now >= tonumber(info[1]) + grace then
                outcome = 'DEAL_CLOSED'
              elseif held + qty > tonumber(info[2]) then
                outcome = 'LIMIT_EXCEEDED'
              elseif stock < qty then
                outcome = 'SOLD_OUT'
                if stock <= 0 then announced = mark_sold_out(keys) end
              else
                stock = redis.call('DECRBY', keys[STOCK], qty)
                redis.call('HINCRBY', keys[HELD], user, qty)
                if stock <= 0 then announced = mark_sold_out(keys) end
                local window = tonumber(info[3] or '0') or 0
                if window > 0 then
                  due = now + window
                  redis.call('ZADD', keys[UNPAID], due, order)
                end
              end
              redis.call('HSET', keys[RES], order, pack(outcome, qty, user, announced, '', '0', int(now)))
              -- Unseen from now on, but never due before it is published (then it is scored by that time).
              redis.call('ZADD', keys[UNSEEN], 'NX', UNPUBLISHED, order)
              return {outcome, 0, tonumber(announced), stock, '', 0, due, now}
            end)

            -- ARGV: orderId, userId ('' = any), reason (FAILED | CANCELLED | EXPIRED).
            -- Reply: {result, quantity, remaining, userId}; result RELEASED (now), ALREADY_RELEASED,
            -- NOT_HELD (the order was turned away: nothing to give back), UNKNOWN, WRONG_USER.
            redis.register_function('flashdeal_ord_release', function(keys, args)
              local order, user, reason = args[1], args[2], args[3]
              local record = redis.call('HGET', keys[RES], order)
              if not record then return {'UNKNOWN', 0, stock_of(keys), ''} end
              local outcome, qty, owner, announced, released, published, decided = parse(record)
              if user ~= '' and user ~= owner then return {'WRONG_USER', qty, stock_of(keys), owner} end
              if outcome ~= 'RESERVED' then return {'NOT_HELD', qty, stock_of(keys), owner} end
              if released ~= '' then return {'ALREADY_RELEASED', qty, stock_of(keys), owner} end
              local stock = give_back(keys, order, outcome, qty, owner, announced, reason, published, decided)
              return {'RELEASED', qty, stock, owner}
            end)

            -- ARGV: orderId, userId ('' = any). Reply: {result, released}; result PAID (the order no
            -- longer expires), NOT_DUE (paid before, or the deal has no payment window), RELEASED (too
            -- late: its units went back, `released` says why), NOT_HELD, UNKNOWN, WRONG_USER.
            redis.register_function('flashdeal_ord_pay', function(keys, args)
              local order, user = args[1], args[2]
              local record = redis.call('HGET', keys[RES], order)
              if not record then return {'UNKNOWN', ''} end
              local outcome, qty, owner, announced, released, published = parse(record)
              if user ~= '' and user ~= owner then return {'WRONG_USER', ''} end
              if outcome ~= 'RESERVED' then return {'NOT_HELD', ''} end
              if released ~= '' then return {'RELEASED', released} end
              if redis.call('ZREM', keys[UNPAID], order) == 1 then return {'PAID', ''} end
              return {'NOT_DUE', ''}
            end)

            -- ARGV: limit, endGraceMs. Releases (EXPIRED) up to `limit` reservations whose payment
            -- deadline passed and whose outcome is published, parks them in the expired set, and
            -- returns what the worker still has to record: {{orderId, quantity, userId}...}, unpaid
            -- count, finished (1 when nothing is due or parked and the deal takes no more orders).
            redis.register_function('flashdeal_ord_expire', function(keys, args)
              local limit, grace = tonumber(args[1]), tonumber(args[2])
              local now = now_ms()
              local due = redis.call('ZRANGEBYSCORE', keys[UNPAID], '-inf', now, 'LIMIT', 0, limit)
              for _, order in ipairs(due) do
                local record = redis.call('HGET', keys[RES], order)
                if not record then
                  redis.call('ZREM', keys[UNPAID], order)
                else
                  local outcome, qty, owner, announced, released, published, decided = parse(record)
                  if outcome ~= 'RESERVED' or released ~= '' then
                    redis.call('ZREM', keys[UNPAID], order)
                  elseif published == '1' then
                    give_back(keys, order, outcome, qty, owner, announced, 'EXPIRED', published, decided)
                    redis.call('SADD', keys[EXPIRED], order)
                  end
                end
              end
              local parked = {}
              for _, order in ipairs(redis.call('SRANDMEMBER', keys[EXPIRED], limit)) do
                local record = redis.call('HGET', keys[RES], order)
                if record then
                  local _, qty, owner = parse(record)
                  parked[#parked + 1] = {order, qty, owner}
                else
                  redis.call('SREM', keys[EXPIRED], order)
                end
              end
              local unpaid = redis.call('ZCARD', keys[UNPAID])
              local ends = tonumber(redis.call('HGET', keys[INFO], 'endsAt') or '0') or 0
              local finished = (unpaid == 0 and #parked == 0 and now >= ends + grace) and 1 or 0
              return {parked, unpaid, finished}
            end)

            -- ARGV: order ids whose CANCELLED document and StockReleased(EXPIRED) are recorded.
            redis.register_function('flashdeal_ord_expired_done', function(keys, args)
              return redis.call('SREM', keys[EXPIRED], unpack(args))
            end)

            -- ARGV: order ids whose outcome is persisted and published. Each leaves the undecided set and,
            -- the first time, is scored in the unseen set by now (it entered it, unscored, when reserved),
            -- so it is due once the bound passes without its outcome event read back (`seen`).
            -- Reply: how many were marked.
            redis.register_function('flashdeal_ord_published', function(keys, args)
              local marked = 0
              local now = now_ms()
              for i = 1, #args do
                local record = redis.call('HGET', keys[RES], args[i])
                if record then
                  local outcome, qty, user, announced, released, published, decided = parse(record)
                  if published ~= '1' then
                    redis.call('HSET', keys[RES], args[i], pack(outcome, qty, user, announced, released, '1', decided))
                    -- XX: if the event watcher has read the outcome back already, it stays out.
                    redis.call('ZADD', keys[UNSEEN], 'XX', now, args[i])
                    marked = marked + 1
                  end
                end
                redis.call('ZREM', keys[UNDECIDED], args[i])
              end
              return marked
            end)

            -- ARGV: order ids whose outcome event was read back from the log. Reply: how many left the unseen set.
            redis.register_function('flashdeal_ord_seen', function(keys, args)
              return redis.call('ZREM', keys[UNSEEN], unpack(args))
            end)

            -- ARGV: kind ('requests' | 'events'), boundMs, limit. Claims up to `limit` orders that have
            -- waited longer than boundMs (Redis time) in the undecided set ('requests') or the unseen set
            -- ('events'), and scores them now, so no other worker claims them again within the bound.
            -- Reply: {{orderId, payload}...}, still waiting in that set, the deal's endsAt (ms, 0 if unknown);
            -- payload: the stored request for 'requests' ('' when none is stored: it cannot be sent again
            -- and leaves the set),
            -- the reservation record for 'events'. Orders already decided (published) leave the undecided
            -- set here; orders without a reservation record leave the unseen set.
            redis.register_function('flashdeal_ord_due', function(keys, args)
              local kind, bound, limit = args[1], tonumber(args[2]), tonumber(args[3])
              local now = now_ms()
              local set = kind == 'requests' and UNDECIDED or UNSEEN
              local claimed = {}
              for _, order in ipairs(redis.call('ZRANGEBYSCORE', keys[set], '-inf', now - bound, 'LIMIT', 0, limit)) do
                local record = redis.call('HGET', keys[RES], order)
                if kind == 'requests' then
                  local published = record and select(6, parse(record))
                  local request = redis.call('HGET', keys[REQUESTS], order)
                  if published == '1' or not request then
                    redis.call('ZREM', keys[UNDECIDED], order)
                  else
                    redis.call('ZADD', keys[UNDECIDED], now, order)
                  end
                  if published ~= '1' then claimed[#claimed + 1] = {order, request or ''} end
                elseif not record then
                  redis.call('ZREM', keys[UNSEEN], order)
                else
                  redis.call('ZADD', keys[UNSEEN], now, order)
                  claimed[#claimed + 1] = {order, record}
                end
              end
              local ends = tonumber(redis.call('HGET', keys[INFO], 'endsAt') or '0') or 0
              return {claimed, redis.call('ZCARD', keys[set]), ends}
            end)

            -- The stock of every open deal is rebuilt after this library was loaded: ARGV 'begin', nonce
            -- before the rebuild reads anything; 'set', nonce once it has written everything (verified
            -- only if that rebuild began on this process); anything else only asks.
            -- Reply: 1 verified, 0 not.
            redis.register_function{function_name = 'flashdeal_ord_verified', flags = {'no-writes'},
              callback = function(keys, args)
                if args[1] == 'begin' then
                  rebuilding = args[2]
                elseif args[1] == 'set' and rebuilding ~= nil and rebuilding == args[2] then
                  verified = true
                  rebuilding = nil
                end
                return verified and 1 or 0
              end}

            -- Reconciliation (flashdeal reconcile --fix): sets the deal's stock, the units each shopper
            -- holds and the sold-out flag in one step, writes the deal's info fields when given, and
            -- adds the reservation records given. Records already present are kept unless listed.
            -- ARGV: stock, startsAt, endsAt, totalStock, perCustomerLimit, paymentWindowMs, nHeld, nRecords,
            --       then nHeld pairs (userId, units), then nRecords pairs (orderId, record).
            redis.register_function('flashdeal_ord_restore', function(keys, args)
              local stock = tonumber(args[1])
              redis.call('HSET', keys[INFO], 'startsAt', args[2], 'endsAt', args[3], 'totalStock', args[4],
                         'perCustomerLimit', args[5], 'paymentWindowMs', args[6])
              local nHeld, nRecords = tonumber(args[7]), tonumber(args[8])
              redis.call('DEL', keys[HELD])
              local i = 9
              for _ = 1, nHeld do
                redis.call('HSET', keys[HELD], args[i], args[i + 1])
                i = i + 2
              end
              for _ = 1, nRecords do
                redis.call('HSET', keys[RES], args[i], args[i + 1])
                i = i + 2
              end
              redis.call('SET', keys[STOCK], int(stock))
              if stock <= 0 then redis.call('SET', keys[SOLDOUT], '1') else redis.call('DEL', keys[SOLDOUT]) end
              return stock
            end)
            """#)
}
