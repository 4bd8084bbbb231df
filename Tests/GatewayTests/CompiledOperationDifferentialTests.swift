import Admission
import DealData
import Domain
import Foundation
import HTTPTypes
import PropertyBased
import RateLimiting
import Synchronization
import Testing
import Twins

@testable import Gateway

/// The compiled path (``CompiledOperation``) against the general GraphQL executor: two in-process
/// gateways started at the same instant on identical in-memory worlds, one with compiled operations
/// and one without, get the same generated requests — hot documents in several shapes (aliases,
/// `__typename`, nested selections, literal arguments, variable defaults), valid and invalid
/// variables, refusals of every kind, rate-limit answers, a moving clock — and must answer each
/// one with the same status, the same headers and the same body, byte for byte.
@Suite("Compiled operations answer as the general executor does")
struct CompiledOperationDifferentialTests {
    typealias G = InProcessGateway

    /// One generated step: what to do, and two numbers that pick its details.
    struct Step: Sendable, CustomStringConvertible {
        let kind: Int
        let a: Int
        let b: Int
        var description: String { "(\(kind), \(a), \(b))" }
    }

    static let step = zip(Gen.int(in: 0...9), Gen.int(in: 0...99), Gen.int(in: 0...99)).map {
        Step(kind: $0, a: $1, b: $2)
    }

    static let deals = ["diff-open", "diff-soon", "diff-later", "diff-gone", "diff-none"]

    /// The documents, by operation, in the shapes a client may send.
    static let joins = [
        "mutation J($d: ID!) { joinWaitingRoom(dealId: $d) { ticket state position pollAfterMs } }",
        "mutation ($d: ID!) { room: joinWaitingRoom(dealId: $d) { __typename s: state alreadyJoined ticket } }",
        "mutation J($d: ID!) { joinWaitingRoom(dealId: $d) { ticket dealId state alreadyJoined position etaSeconds "
            + "admissionRatePerSecond pass { token expiresAt keyId } orderId drawAt entrants pollAfterMs } }",
        "mutation { joinWaitingRoom(dealId: \"diff-open\") { ticket state } }",
        "mutation J($d: ID! = \"diff-open\") { joinWaitingRoom(dealId: $d) { ticket state pollAfterMs } }",
    ]
    static let admissions = [
        "query A($d: ID!, $t: ID!) { admission(dealId: $d, ticket: $t) { state position pollAfterMs pass { token } } }",
        "query ($t: ID!, $d: ID!) { a: admission(ticket: $t, dealId: $d) { __typename pass { __typename k: keyId } } }",
        "query A($d: ID!, $t: ID!) { admission(dealId: $d, ticket: $t) { ticket dealId state alreadyJoined position "
            + "etaSeconds admissionRatePerSecond pass { token expiresAt keyId } orderId drawAt entrants pollAfterMs } }",
        "query A($t: ID!) { admission(dealId: \"diff-open\", ticket: $t) { state orderId } }",
        "query A($d: ID! = \"diff-open\", $t: ID!) { admission(dealId: $d, ticket: $t) { state pollAfterMs } }",
    ]
    static let creates = [
        "mutation C($i: CreateOrderInput!) { createOrder(input: $i) { id status } }",
        "mutation ($i: CreateOrderInput!) { o: createOrder(input: $i) { __typename replayed q: quantity id } }",
        "mutation C($i: CreateOrderInput!) { createOrder(input: $i) { id dealId quantity status replayed } }",
        "mutation C($k: String!, $p: String) { createOrder(input: {dealId: \"diff-open\", idempotencyKey: $k, "
            + "pass: $p}) { id quantity status } }",
        "mutation C($d: ID!, $q: Int!, $k: String!, $p: String) { createOrder(input: {dealId: $d, quantity: $q, "
            + "idempotencyKey: $k, pass: $p}) { id status replayed } }",
    ]
    static let orders = [
        "query O($id: ID!) { order(id: $id) { status reason } }",
        "query ($id: ID!) { mine: order(id: $id) { __typename id dealId quantity status reason createdAt updatedAt } }",
        "query O($id: ID! = \"ord_0123456789abcdef0123456789abcdef\") { order(id: $id) { id status } }",
    ]

    /// What each world remembers of its own answers (equal in both while the answers are).
    final class Memory: @unchecked Sendable {
        var tickets: [String: String] = [:]
        var passes: [String: String] = [:]
        var orderIds: [String: String] = [:]
    }

    @Test("generated request sequences: the same status, headers and body on both paths")
    func bothPathsAnswerAlike() async throws {
        let shoppers = ["diff-ann", "diff-bob", "diff-cyd"]
        var issued: [String] = []
        for shopper in shoppers { issued.append(try await G.token(for: shopper)) }
        let tokens = issued
        let runs = Mutex((compiled: 0.0, general: 0.0, compared: 0))
        await propertyCheck(count: 60, input: Self.step.array(of: 1...14)) { steps in
            let start = Date()
            do {
                try await G.with(compiled: true, start: start) { fast in
                    try await G.with(compiled: false, start: start) { reference in
                        let worlds = [fast, reference]
                        let memories = [Memory(), Memory()]
                        for world in worlds { try Self.furnish(world) }
                        for (index, step) in steps.enumerated() {
                            var replies: [G.Reply?] = []
                            for (world, memory) in zip(worlds, memories) {
                                replies.append(
                                    try await Self.perform(step, world, memory, shoppers: shoppers, tokens: tokens))
                            }
                            guard let mine = replies[0], let theirs = replies[1] else { continue }
                            runs.withLock { $0.compared += 1 }
                            let same =
                                mine.status == theirs.status && mine.body == theirs.body
                                && Array(mine.headers) == Array(theirs.headers)
                            if !same {
                                Issue.record(
                                    """
                                    step \(index) \(step) of \(steps): the paths differ
                                    compiled: \(mine.status) \(mine.headers) \(mine.text)
                                    general:  \(theirs.status) \(theirs.headers) \(theirs.text)
                                    """)
                                return
                            }
                        }
                        let used = fast.metric("flashdeal_gateway_graphql_executions_total{path=\"compiled\"}")
                        let refused = reference.metric("flashdeal_gateway_graphql_executions_total{path=\"compiled\"}")
                        #expect(refused == 0, "the reference gateway ran something compiled")
                        let general = fast.metric("flashdeal_gateway_graphql_executions_total{path=\"general\"}")
                        runs.withLock {
                            $0.compiled += used
                            $0.general += general
                        }
                    }
                }
            } catch {
                Issue.record(error, "steps \(steps)")
            }
        }
        let totals = runs.withLock { $0 }
        // Both paths were exercised on the compiled gateway: the ordinary requests compiled, the odd
        // ones (bad variables) by the executor.
        #expect(totals.compiled > Double(totals.compared) / 3, "\(totals)")
        #expect(totals.general > 0, "\(totals)")
    }

    /// The same deals in both worlds, by name, at the same instants.
    static func furnish(_ world: G) throws {
        _ = try world.deal(id: "diff-open", stock: 3, limit: 2)
        _ = try world.deal(id: "diff-soon", opensIn: .seconds(60))
        _ = try world.deal(id: "diff-later", opensIn: .seconds(7_200))
        let gone = try world.deal(id: "diff-gone")
        world.deals.setRemaining(gone, 0)
    }

    static func perform(_ step: Step, _ world: G, _ memory: Memory, shoppers: [String], tokens: [String])
        async throws -> G.Reply?
    {
        let who = step.a % shoppers.count
        let shopper = shoppers[who]
        let token: String? = step.b % 23 == 0 ? nil : (step.b % 29 == 0 ? "not-a-token" : tokens[who])
        let deal = deals[step.b % deals.count]
        switch step.kind {
        case 0:
            let reply = try await world.post(joins[step.b % joins.count], ["d": deal], token: token)
            if let ticket = (reply.root?["ticket"] as? String) { memory.tickets[shopper] = ticket }
            return reply
        case 1:
            let ticket = step.a % 7 == 0 ? "no-such-ticket" : (memory.tickets[shopper] ?? "twin-ticket-1")
            let reply = try await world.post(
                admissions[step.b % admissions.count], ["d": deal, "t": ticket], token: token)
            if let pass = (reply.root?["pass"] as? [String: Any])?["token"] as? String { memory.passes[shopper] = pass }
            return reply
        case 2, 3:
            let document = creates[step.b % creates.count]
            let pass: Any? =
                switch step.a % 6 {
                case 0: nil
                case 1: "fdp1.bm90.YQ"
                case 2: memory.passes[shoppers[(who + 1) % shoppers.count]]
                default: memory.passes[shopper]
                }
            let quantity: Any = [1, 1, 2, 0, 11, "3", 2.5, 2_147_483_648, NSNull()][step.b % 9]
            let key = "key-\(step.a % 3)"
            var input: [String: Any] = ["dealId": deal, "quantity": quantity, "idempotencyKey": key]
            if let pass { input["pass"] = pass }
            if step.kind == 3, step.a % 5 == 0 { input["extra"] = "unknown field" }
            if step.kind == 3, step.a % 5 == 1 { input.removeValue(forKey: "idempotencyKey") }
            if step.kind == 3, step.a % 5 == 2 { input["dealId"] = 42 }
            let variables: [String: Any] =
                document.contains("$i") ? ["i": input] : ["d": deal, "q": quantity, "k": key, "p": pass ?? NSNull()]
            let reply = try await world.post(document, variables, token: token)
            if let id = reply.root?["id"] as? String { memory.orderIds[shopper] = id }
            return reply
        case 4:
            let id: Any =
                switch step.a % 4 {
                case 0: "not an order id"
                case 1: 12
                default: memory.orderIds[shopper] ?? "ord_00000000000000000000000000000000"
                }
            let document = orders[step.b % orders.count]
            return try await world.post(document, step.a % 9 == 3 ? [:] : ["id": id], token: token)
        case 5:
            for name in ["diff-open", "diff-soon"] { _ = try? world.room.advance(deal: try DealID(name)) }
            return nil
        case 6:
            // The worker has recorded this shopper's last order.
            guard let raw = memory.orderIds[shopper], let id = try? OrderID(raw) else { return nil }
            let status: OrderStatus = [.pending, .confirmed, .rejected][step.b % 3]
            world.orders.store(
                OrderDocument(
                    orderId: id, dealId: try DealID("diff-open"), userId: try UserID(shopper), quantity: 1,
                    idempotencyKey: try IdempotencyKey("key-0"), status: status,
                    reason: status == .rejected ? "SOLD_OUT" : nil, createdAt: world.clock.now,
                    updatedAt: world.clock.now))
            return nil
        case 7:
            let operation = ["createOrder", "admission", "joinWaitingRoom", "order"][step.a % 4]
            let outcomes: [RateLimitDecision.Outcome] = [.allowed, .limited, .queued, .unavailable]
            world.limiter.answer(operation, outcomes[step.b % 4], policy: "diff-policy")
            return nil
        case 8:
            world.clock.advance(step.a % 2 == 0 ? .seconds(30) : world.configuration.waitingRoom.passLifetime)
            return nil
        default:
            // Variables that are not the ordinary ones: missing, null, of another type.
            let variables: [String: Any] =
                switch step.a % 4 {
                case 0: [:]
                case 1: ["d": NSNull(), "t": NSNull()]
                case 2: ["d": 7, "t": 8]
                default: ["d": ["nested": true], "t": [1, 2]]
                }
            let document = step.b % 2 == 0 ? admissions[0] : joins[0]
            return try await world.post(document, variables, token: token)
        }
    }

    @Test("the documents the load scripts send run compiled; a fragment or a directive runs on the executor")
    func hotDocumentsCompile() async throws {
        try await G.with { gw in
            let token = try await G.token(for: "diff-hot")
            let deal = try gw.deal(id: "diff-hot")
            let metric = "flashdeal_gateway_graphql_executions_total{path=\"compiled\"}"
            let pass = try await gw.admit(deal, token: token)  // join and admission
            _ = try await gw.order(deal, token: token, pass: pass, key: "hot")
            _ = try await gw.post(G.order, ["id": "ord_00000000000000000000000000000000"], token: token)
            #expect(gw.metric(metric) == 4)
            _ = try await gw.post(
                "query A($d: ID!, $t: ID!) { admission(dealId: $d, ticket: $t) { ...F } } fragment F on Admission { state }",
                ["d": deal.rawValue, "t": "x"], token: token)
            _ = try await gw.post(
                "query O($id: ID!, $r: Boolean!) { order(id: $id) { status reason @include(if: $r) } }",
                ["id": "ord_00000000000000000000000000000000", "r": true], token: token)
            #expect(gw.metric(metric) == 4)
            #expect(gw.metric("flashdeal_gateway_graphql_executions_total{path=\"general\"}") == 2)
        }
    }
}

extension InProcessGateway.Reply {
    /// The first root field's object in `data`, whatever its response key.
    var root: [String: Any]? { data?.values.first as? [String: Any] }
}
