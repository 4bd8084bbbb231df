import Admission
import DealData
import Domain
import Foundation
import Testing
import Twins

@testable import Gateway

/// The operators' GraphQL over the in-process gateway: who may call it, what each action does to the
/// sale a shopper sees, previews, refusals, and the audit written before anything changes.
@Suite struct OperatorActionsTests {
    static let operate = """
        mutation O($i: OperateSaleInput!) { operateSale(input: $i) {
          applied auditId before { paused closure pendingAdmissions admissionRateOverride startsAt endsAt }
          after { paused closure pendingAdmissions admissionRateOverride startsAt endsAt } } }
        """
    static let control = "query C($d: ID!) { saleControl(dealId: $d) { paused closure opened } }"
    static let audit =
        "query A($d: ID) { operatorAudit(dealId: $d) { actor action value reason outcome before { name value } after { name value } gateway } }"

    static func input(
        _ deal: DealID, _ action: String, _ value: String? = nil, reason: String = "test", dryRun: Bool = false
    )
        -> [String: Any]
    {
        var input: [String: Any] = ["dealId": deal.rawValue, "action": action, "reason": reason, "dryRun": dryRun]
        if let value { input["value"] = value }
        return ["i": input]
    }

    static func state(_ g: InProcessGateway, _ deal: DealID, _ ticket: String, _ token: String) async throws -> String?
    {
        let reply = try await g.post(InProcessGateway.admission, ["d": deal.rawValue, "t": ticket], token: token)
        return (reply.data?["admission"] as? [String: Any])?["state"] as? String
    }

    @Test func aShoppersTokenIsForbiddenEverywhereAndNoTokenIsUnauthenticated() async throws {
        try await InProcessGateway.with { g in
            let deal = try g.deal()
            let shopper = try await InProcessGateway.token(for: "shopper-1")
            for (query, variables) in [
                (Self.operate, Self.input(deal, "PAUSE")), (Self.control, ["d": deal.rawValue]),
                (Self.audit, ["d": deal.rawValue]),
            ] {
                let refused = try await g.post(query, variables, token: shopper)
                #expect(refused.status == 403, "\(refused.text)")
                #expect(refused.codes == ["FORBIDDEN"])
                let anonymous = try await g.post(query, variables, token: nil)
                #expect(anonymous.status == 401, "\(anonymous.text)")
            }
            #expect(try await g.room.control(of: deal)?.paused == false, "nothing changed")
            #expect(g.audit.all.isEmpty)
        }
    }

    @Test func pauseIsSeenByAWaitingShopperWithThePlaceKeptAndEveryActionIsAudited() async throws {
        try await InProcessGateway.with { g in
            let deal = try g.deal(stock: 50)
            let sre = try await InProcessGateway.token(for: "sre-kim", role: "operator")
            let shopper = try await InProcessGateway.token(for: "shopper-2")
            let joined = try await g.post(InProcessGateway.join, ["d": deal.rawValue], token: shopper)
            let ticket = try #require((joined.data?["joinWaitingRoom"] as? [String: Any])?["ticket"] as? String)

            let preview = try await g.post(Self.operate, Self.input(deal, "PAUSE", dryRun: true), token: sre)
            let previewed = try #require(preview.data?["operateSale"] as? [String: Any], "\(preview.text)")
            #expect(previewed["applied"] as? Bool == false)
            #expect((previewed["after"] as? [String: Any])?["paused"] as? Bool == true)
            #expect(try await g.room.control(of: deal)?.paused == false, "a preview writes nothing")
            #expect(g.audit.all.isEmpty)

            let paused = try await g.post(
                Self.operate, Self.input(deal, "PAUSE", reason: "payment provider slow"), token: sre)
            #expect((paused.data?["operateSale"] as? [String: Any])?["applied"] as? Bool == true, "\(paused.text)")
            #expect(try await Self.state(g, deal, ticket, shopper) == "PAUSED")
            #expect(try g.room.advance(deal: deal) == 0)

            let granted = try await g.post(Self.operate, Self.input(deal, "ADMIT", "1"), token: sre)
            #expect(
                ((granted.data?["operateSale"] as? [String: Any])?["after"] as? [String: Any])?["pendingAdmissions"]
                    as? Int == 1)
            #expect(try g.room.advance(deal: deal) == 1)
            #expect(try await Self.state(g, deal, ticket, shopper) == "ADMITTED")

            let entries = try await g.post(Self.audit, ["d": deal.rawValue], token: sre)
            let list = try #require(entries.data?["operatorAudit"] as? [[String: Any]], "\(entries.text)")
            #expect(list.map { $0["action"] as? String } == ["ADMIT", "PAUSE"], "newest first")
            let pause = list[1]
            #expect(pause["actor"] as? String == "sre-kim")
            #expect(pause["reason"] as? String == "payment provider slow")
            #expect(pause["outcome"] as? String == "applied")
            #expect(
                (pause["before"] as? [[String: Any]])?.contains {
                    $0["name"] as? String == "paused" && $0["value"] as? String == "false"
                } == true)
            #expect(
                (pause["after"] as? [[String: Any]])?.contains {
                    $0["name"] as? String == "paused" && $0["value"] as? String == "true"
                } == true)
            #expect(pause["gateway"] as? String == "in-process")
        }
    }

    @Test func closingTheLineAndMarkingSoldOutAnswerShoppersAsDesigned() async throws {
        try await InProcessGateway.with { g in
            let deal = try g.deal(stock: 50)
            let sre = try await InProcessGateway.token(for: "sre-lee", role: "operator")
            let first = try await InProcessGateway.token(for: "shopper-3")
            let joined = try await g.post(InProcessGateway.join, ["d": deal.rawValue], token: first)
            let ticket = try #require((joined.data?["joinWaitingRoom"] as? [String: Any])?["ticket"] as? String)

            _ = try await g.post(Self.operate, Self.input(deal, "CLOSE_QUEUE"), token: sre)
            let late = try await g.post(
                InProcessGateway.join, ["d": deal.rawValue], token: try await InProcessGateway.token(for: "shopper-4"))
            #expect(late.codes == ["QUEUE_CLOSED"], "\(late.text)")
            #expect(try await Self.state(g, deal, ticket, first) == "WAITING")

            _ = try await g.post(Self.operate, Self.input(deal, "MARK_SOLD_OUT"), token: sre)
            #expect(try await Self.state(g, deal, ticket, first) == "SOLD_OUT")
        }
    }

    @Test func refusalsChangeNothingAndAreExplained() async throws {
        try await InProcessGateway.with { g in
            let open = try g.deal()
            let sre = try await InProcessGateway.token(for: "sre-park", role: "operator")
            for (action, value, expected) in [
                ("SET_ADMISSION_RATE", "0", "ACTION_REFUSED"), ("SET_ADMISSION_RATE", "1e9", "ACTION_REFUSED"),
                ("SET_ADMISSION_RATE", "many", "ACTION_REFUSED"), ("ADMIT", "0", "ACTION_REFUSED"),
                ("MOVE_OPENING", "2030-01-01T00:00:00Z", "ACTION_REFUSED"), ("MOVE_OPENING", "soon", "ACTION_REFUSED"),
            ] {
                let reply = try await g.post(Self.operate, Self.input(open, action, value), token: sre)
                #expect(reply.codes == [expected], "\(action) \(value): \(reply.text)")
            }
            let noReason = try await g.post(Self.operate, Self.input(open, "PAUSE", reason: "  "), token: sre)
            #expect(noReason.codes == ["BAD_REQUEST"])
            let unknown = try await g.post(Self.operate, Self.input(try DealID("no-such-deal"), "PAUSE"), token: sre)
            #expect(unknown.codes == ["NOT_FOUND"])
            let unchanged = try #require(try await g.room.control(of: open))
            #expect(!unchanged.paused && unchanged.closure == nil && unchanged.pendingAdmissions == 0)
            #expect(unchanged.admissionRateOverride == nil)
            #expect(g.audit.all.isEmpty, "refused before any record: nothing to audit")

            g.audit.setDown(true)
            let unaudited = try await g.post(Self.operate, Self.input(open, "PAUSE"), token: sre)
            #expect(unaudited.codes == ["UNAVAILABLE"], "\(unaudited.text)")
            #expect(try await g.room.control(of: open)?.paused == false, "no action without its record")
        }
    }

    @Test func movingTheOpeningMovesTheCatalogAndTheRoomTogether() async throws {
        try await InProcessGateway.with { g in
            let deal = try g.deal(opensIn: .seconds(3_600), lasts: .seconds(1_800))
            let sre = try await InProcessGateway.token(for: "sre-choi", role: "operator")
            let target = g.clock.now.addingTimeInterval(7_200)
            let reply = try await g.post(
                Self.operate, Self.input(deal, "MOVE_OPENING", Timestamp.format(target)), token: sre)
            #expect((reply.data?["operateSale"] as? [String: Any])?["applied"] as? Bool == true, "\(reply.text)")
            let stored = try #require(try await g.deals.deal(deal))
            #expect(stored.startsAt == Timestamp.normalized(target))
            #expect(stored.endsAt.timeIntervalSince(stored.startsAt) == 1_800)
            #expect(try await g.room.control(of: deal)?.startsAt == stored.startsAt)
        }
    }
}
