public import Domain

/// The Redis keys of one deal. Every key carries the deal's hash tag `{deal:<id>}`, so all of them
/// live in one Redis Cluster slot and one function call may touch any of them.
///
/// `deal:{deal:<id>}:*` is the deal's hot state (read by the gateway, stock written by the order
/// worker); `wr:{deal:<id>}:*` is its waiting room. docs/admission.md describes every key.
public struct AdmissionKeys: Sendable, Hashable {
    public let deal: DealID

    public init(_ deal: DealID) {
        self.deal = deal
    }

    /// `{deal:<id>}`.
    public var hashTag: String { "{deal:\(deal.rawValue)}" }

    /// Hash: `startsAt`, `endsAt` (epoch ms), `totalStock`, `perCustomerLimit`.
    public var info: String { "deal:\(hashTag):info" }
    /// Integer: units not yet reserved. Only the order worker decrements it.
    public var stock: String { "deal:\(hashTag):stock" }
    /// `1` while the worker considers the deal sold out; deleted when stock is released.
    public var soldOut: String { "deal:\(hashTag):soldout" }

    /// Hash: `commitment`, `seed`, `state` (`pending` | `running` | `done`), `n`, `cursor`, `steps`, `drawnAt`.
    public var draw: String { "wr:\(hashTag):draw" }
    /// Hash: serving counter, join counter, pacing bucket, measured rate, totals.
    public var room: String { "wr:\(hashTag):room" }
    /// List: user ids of the pre-queue entrants in arrival order (the draw's public input).
    public var entrants: String { "wr:\(hashTag):entrants" }
    /// Hash: line number (1-based) → ticket id.
    public var line: String { "wr:\(hashTag):line" }
    /// Hash: ticket id → `userId|joinedAtMs|preQueue(0/1)`.
    public var tickets: String { "wr:\(hashTag):tickets" }
    /// Hash: ticket id → line number.
    public var sequence: String { "wr:\(hashTag):seq" }
    /// Hash: ticket id → last poll (epoch ms).
    public var seen: String { "wr:\(hashTag):seen" }
    /// Hash: ticket id → `called` | `pass:<passId>` | `used:<orderId>` | `expired` | `abandoned` (absent: waiting).
    public var state: String { "wr:\(hashTag):state" }
    /// Hash: user id → the user's current ticket id.
    public var users: String { "wr:\(hashTag):users" }
    /// Sorted set: ticket ids admitted and not yet used, scored by the deadline (epoch ms).
    public var active: String { "wr:\(hashTag):active" }
    /// Hash: pass id → `ticketId|userId|issuedAtMs|expiresAtMs|keyId`.
    public var passes: String { "wr:\(hashTag):passes" }
    /// Hash: pass id → `orderId|quantity`, once the pass is consumed.
    public var bindings: String { "wr:\(hashTag):bindings" }

    /// Hash: order id → the accepted OrderRequested, exactly as the gateway published it (JSON).
    public var requests: String { "wr:\(hashTag):requests" }
    /// Sorted set: order ids accepted and not yet decided by the order worker, scored by when they
    /// were accepted (epoch ms) — or, once re-sent, by when they were last sent. The worker removes an
    /// order once its outcome is persisted and published; what stays past a bound is sent again.
    public var undecided: String { "wr:\(hashTag):undecided" }

    /// Every key, in the order the admission functions expect them as `KEYS`.
    public var all: [String] {
        [
            info, stock, soldOut, draw, room, entrants, line, tickets, sequence, seen, state, users, active, passes,
            bindings,
            requests, undecided,
        ]
    }

    /// The waiting room's keys (everything but the deal's info, stock and sold-out flag).
    public var waitingRoom: [String] { Array(all.dropFirst(3)) }
}
