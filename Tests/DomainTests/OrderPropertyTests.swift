import Domain
import PropertyBased
import Testing

enum OrderCommand: Sendable, CustomStringConvertible {
    case confirm
    case reject(RejectionReason)
    case fail(stockWasReserved: Bool)
    case cancel(CancellationReason)
    case apply(ReservationOutcome)

    var target: OrderStatus {
        switch self {
        case .confirm: .confirmed
        case .reject: .rejected
        case .fail: .failed
        case .cancel: .cancelled
        case .apply(let outcome): outcome == .reserved ? .confirmed : .rejected
        }
    }

    var description: String {
        switch self {
        case .confirm: "confirm"
        case .reject(let r): "reject(\(r.rawValue))"
        case .fail(let held): "fail(held: \(held))"
        case .cancel(let r): "cancel(\(r.rawValue))"
        case .apply(let o): "apply(\(o.rawValue))"
        }
    }
}

let orderCommand = zip(Gen.int(in: 0...4), Gen.int(in: 0...3)).map { (kind: Int, n: Int) -> OrderCommand in
    switch kind {
    case 0: .confirm
    case 1: .reject(RejectionReason.allCases[n % 3])
    case 2: .fail(stockWasReserved: n % 2 == 0)
    case 3: .cancel(CancellationReason.allCases[n % 2])
    default: .apply(ReservationOutcome.allCases[n])
    }
}

@Suite("Order properties")
struct OrderPropertyTests {
    /// Written out independently of `OrderStatus.successors`.
    static let legalEdges: Set<[OrderStatus]> = [
        [.pending, .confirmed], [.pending, .rejected], [.pending, .failed], [.confirmed, .cancelled],
    ]

    @Test("random command sequences only ever follow legal edges; terminal states stay terminal")
    func noIllegalStateReachable() async throws {
        await propertyCheck(count: 300, input: orderCommand.array(of: 0...12)) { commands in
            failOnThrow {
                var order = try makeOrder()
                var terminalReached = false
                for (step, command) in commands.enumerated() {
                    let before = order
                    let legal = Self.legalEdges.contains([before.status, command.target])
                    do {
                        let events = try Self.run(command, on: &order, step: step)
                        #expect(legal, "\(before.status) → \(command.target) should have been refused")
                        #expect(order.status == command.target)
                        #expect(order.version == before.version + 1)
                        #expect(
                            !events.isEmpty && events.allSatisfy { $0.orderId == order.id && $0.dealId == order.dealId }
                        )
                    } catch let error as OrderTransitionError {
                        #expect(!legal, "\(before.status) → \(command.target) is legal but was refused")
                        #expect(
                            error == OrderTransitionError(orderId: order.id, from: before.status, to: command.target))
                        #expect(order == before)
                    }
                    if terminalReached { #expect(order == before, "a terminal order changed") }
                    terminalReached = order.status == .rejected || order.status == .failed || order.status == .cancelled
                }
            }
        }
    }

    private static func run(_ command: OrderCommand, on order: inout Order, step: Int) throws -> [DomainEvent] {
        let now = at(Double(step + 1))
        switch command {
        case .confirm: return try order.confirm(at: now)
        case .reject(let reason): return try order.reject(reason, at: now)
        case .fail(let held): return try order.fail(reason: "step \(step)", stockWasReserved: held, at: now)
        case .cancel(let reason): return try order.cancel(reason, at: now)
        case .apply(let outcome): return try order.apply(outcome, at: now)
        }
    }
}
