import Credentials
import Domain
import Foundation
import TestSupport
import Testing

extension StackTests {
    /// Two gateways (built as the executable builds them) on the real stack: an action through one
    /// is obeyed by both, and the audit in MongoDB records who did it through which gateway.
    @Suite("Operator actions across gateway replicas", .timeLimit(.minutes(3)))
    struct OperatorReplicaTests {
        static let operate =
            "mutation O($i: OperateSaleInput!) { operateSale(input: $i) { applied auditId after { paused pendingAdmissions } } }"
        static let audit =
            "query A($d: ID) { operatorAudit(dealId: $d) { actor action outcome reason gateway } }"

        static func operatorToken(_ name: String) async throws -> String {
            let issuer = try await ShopperTokenIssuer(
                key: .hs256(secret: Array(GatewayHarness.jwtSecret.utf8)), issuer: "flashdeal",
                audience: "flashdeal-gateway", lifetime: .seconds(600))
            return try await issuer.issue(for: try UserID(name), at: Date(), role: ShopperClaims.operatorRole)
        }

        static func state(_ gateway: GatewayHarness, _ deal: DealID, _ ticket: String, _ token: String) async throws
            -> String?
        {
            let reply = try await gateway.post(
                GatewayHarness.admission, variables: ["d": deal.rawValue, "t": ticket], token: token)
            return (reply.data?["admission"] as? [String: Any])?["state"] as? String
        }

        @Test func bothReplicasObeyAnActionTakenThroughEitherAndTheAuditNamesWhichCarriedItOut() async throws {
            try await GatewayHarness.with(environment: ["FLASHDEAL_INSTANCE_ID": "gw-a"]) { a in
                try await GatewayHarness.with(environment: ["FLASHDEAL_INSTANCE_ID": "gw-b"]) { b in
                    let deal = try await a.seedDeal(stock: 100)
                    let sre = try await Self.operatorToken("sre-replicas")
                    let paused = try await a.post(
                        Self.operate,
                        variables: ["i": ["dealId": deal.rawValue, "action": "PAUSE", "reason": "replica test"]],
                        token: sre)
                    #expect(
                        (paused.data?["operateSale"] as? [String: Any])?["applied"] as? Bool == true, "\(paused.text)")

                    let shopper = try await GatewayHarness.token(for: "replica-shopper")
                    let joined = try await b.post(GatewayHarness.join, variables: ["d": deal.rawValue], token: shopper)
                    let ticket = try #require(
                        (joined.data?["joinWaitingRoom"] as? [String: Any])?["ticket"] as? String, "\(joined.text)")
                    // Both pacers run (every 100 ms); neither admits while paused.
                    try await Task.sleep(for: .milliseconds(1_000))
                    #expect(try await Self.state(a, deal, ticket, shopper) == "PAUSED")
                    #expect(try await Self.state(b, deal, ticket, shopper) == "PAUSED")

                    let resumed = try await b.post(
                        Self.operate,
                        variables: ["i": ["dealId": deal.rawValue, "action": "RESUME", "reason": "replica test done"]],
                        token: sre)
                    #expect((resumed.data?["operateSale"] as? [String: Any])?["applied"] as? Bool == true)
                    var admitted = false
                    for _ in 0..<50 where !admitted {
                        admitted = try await Self.state(a, deal, ticket, shopper) == "ADMITTED"
                        if !admitted { try await Task.sleep(for: .milliseconds(100)) }
                    }
                    #expect(admitted, "admitted once resumed through the other gateway")

                    let entries = try await a.post(Self.audit, variables: ["d": deal.rawValue], token: sre)
                    let list = try #require(entries.data?["operatorAudit"] as? [[String: Any]], "\(entries.text)")
                    #expect(list.map { $0["action"] as? String } == ["RESUME", "PAUSE"])
                    #expect(list.map { $0["gateway"] as? String } == ["gw-b", "gw-a"])
                    #expect(
                        list.allSatisfy {
                            $0["outcome"] as? String == "applied" && $0["actor"] as? String == "sre-replicas"
                        })

                    let forbidden = try await b.post(
                        Self.operate,
                        variables: ["i": ["dealId": deal.rawValue, "action": "PAUSE", "reason": "a shopper tries"]],
                        token: shopper)
                    #expect(forbidden.status == 403)
                }
            }
        }
    }
}
