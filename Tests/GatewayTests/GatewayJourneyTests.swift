import Admission
import Credentials
import Crypto
import Domain
import Foundation
import Gateway
import Infrastructure
import TestSupport
import Testing

/// Black-box tests of the gateway over HTTP against the real stack. Serialized: some stop servers.
@Suite("Gateway over HTTP", .serialized, .timeLimit(.minutes(5)))
struct StackTests {

    @Suite("Shopper journey") struct Journey {
        @Test func joinWaitAdmitOrderAndTheMessageInKafkaValidates() async throws {
            try await GatewayHarness.with { gw in
                let deal = try await gw.seedDeal(stock: 50)
                let token = try await GatewayHarness.token(for: "journey-user")
                let pass = try await gw.admit(deal, token: token)
                let key = "intent-\(UUID().uuidString)"
                let reply = try await gw.order(deal, token: token, pass: pass, key: key, quantity: 2)
                #expect(reply.status == 200, "\(reply.text)")
                let receipt = try #require(reply.data?["createOrder"] as? [String: Any], "\(reply.text)")
                let expectedId = OrderID.derive(
                    userId: try UserID("journey-user"), dealId: deal,
                    idempotencyKey: try IdempotencyKey(key))
                #expect(receipt["id"] as? String == expectedId.rawValue)
                #expect(receipt["status"] as? String == "PENDING")
                #expect(receipt["replayed"] as? Bool == false)
                #expect(reply.header("content-type")?.hasPrefix("application/graphql-response+json") == true)

                let messages = try await gw.messages(expecting: 1)
                #expect(messages.count == 1)
                let message = try #require(messages.first)
                #expect(message.key.map { String(decoding: $0, as: UTF8.self) } == expectedId.rawValue)
                let traceparent = message.headers.first { $0.name == "traceparent" }?.stringValue
                #expect(traceparent.map { $0.split(separator: "-").count == 4 && $0.hasPrefix("00-") } == true)
                let json = try JSONSerialization.jsonObject(with: Data(message.value))
                let validator = try JSONSchemaValidator.forEvent("OrderRequested")
                #expect(validator.validate(json) == [])
                let event = try DomainEvent.decode(Data(message.value))
                guard case .orderRequested(let requested) = event else {
                    Issue.record("not an OrderRequested: \(event)")
                    return
                }
                #expect(requested.quantity == 2)
                #expect(requested.userId.rawValue == "journey-user")
                #expect(requested.dealId == deal)
            }
        }

        @Test func theSameIdempotencyKeyTwiceGivesOneOrderId() async throws {
            try await GatewayHarness.with { gw in
                let deal = try await gw.seedDeal()
                let token = try await GatewayHarness.token(for: "retry-user")
                let pass = try await gw.admit(deal, token: token)
                let first = try await gw.order(deal, token: token, pass: pass, key: "same-key")
                let second = try await gw.order(deal, token: token, pass: pass, key: "same-key")
                let a = try #require(first.data?["createOrder"] as? [String: Any], "\(first.text)")
                let b = try #require(second.data?["createOrder"] as? [String: Any], "\(second.text)")
                #expect(a["id"] as? String == b["id"] as? String)
                #expect(b["replayed"] as? Bool == true)
                // A different quantity under the same key is a conflict, not a second order.
                let conflicting = try await gw.order(deal, token: token, pass: pass, key: "same-key", quantity: 2)
                #expect(conflicting.codes == ["IDEMPOTENCY_CONFLICT"], "\(conflicting.text)")
                let messages = try await gw.messages(expecting: 2)
                #expect(Set(messages.compactMap { $0.key.map { String(decoding: $0, as: UTF8.self) } }).count == 1)
            }
        }

        @Test func aPassIsSingleUseAndAReplayNamesTheOriginalOrder() async throws {
            try await GatewayHarness.with { gw in
                let deal = try await gw.seedDeal()
                let token = try await GatewayHarness.token(for: "replay-user")
                let pass = try await gw.admit(deal, token: token)
                let first = try await gw.order(deal, token: token, pass: pass, key: "first")
                let original = try #require(
                    (first.data?["createOrder"] as? [String: Any])?["id"] as? String, "\(first.text)")
                let replay = try await gw.order(deal, token: token, pass: pass, key: "second")
                #expect(replay.codes == ["PASS_USED"], "\(replay.text)")
                #expect(replay.firstExtensions["orderId"] as? String == original)
                // The room now says so too.
                let joined = try await gw.post(GatewayHarness.join, variables: ["d": deal.rawValue], token: token)
                let room = try #require(joined.data?["joinWaitingRoom"] as? [String: Any], "\(joined.text)")
                #expect(room["alreadyJoined"] as? Bool == true)
                #expect(room["state"] as? String == "PASS_USED")
            }
        }

        @Test func forgedWrongDealWrongUserAndMissingPassesAreRefusedWithoutAnOrder() async throws {
            try await GatewayHarness.with { gw in
                let deal = try await gw.seedDeal()
                let other = try await gw.seedDeal()
                let alice = try await GatewayHarness.token(for: "alice")
                let bob = try await GatewayHarness.token(for: "bob")
                let pass = try await gw.admit(deal, token: alice)

                var forged = Array(pass)
                let last = forged.count - 3
                forged[last] = forged[last] == "A" ? "B" : "A"
                let badSignature = try await gw.order(deal, token: alice, pass: String(forged), key: "k1")
                #expect(badSignature.codes == ["PASS_INVALID"], "\(badSignature.text)")

                // A pass signed with a key the gateway holds, but never issued by the room.
                let keyring = try GatewayHarness.keyring()
                let stray = try keyring.sign(
                    try keyring.makePass(
                        passId: try PassID("pass-never-issued"), user: try UserID("alice"),
                        deal: deal, issuedAt: Date(), lifetime: .seconds(60)))
                let unknown = try await gw.order(deal, token: alice, pass: stray, key: "k2")
                #expect(unknown.codes == ["PASS_INVALID"], "\(unknown.text)")
                #expect(unknown.firstExtensions["reason"] as? String == "UNKNOWN")

                let wrongDeal = try await gw.order(other, token: alice, pass: pass, key: "k3")
                #expect(wrongDeal.codes == ["PASS_INVALID"])
                #expect(wrongDeal.firstExtensions["reason"] as? String == "WRONG_DEAL")

                let wrongUser = try await gw.order(deal, token: bob, pass: pass, key: "k4")
                #expect(wrongUser.codes == ["PASS_INVALID"])
                #expect(wrongUser.firstExtensions["reason"] as? String == "WRONG_USER")

                let missing = try await gw.order(deal, token: alice, pass: nil, key: "k5")
                #expect(missing.codes == ["PASS_REQUIRED"])

                // None of that consumed the pass: it still places exactly one order.
                let good = try await gw.order(deal, token: alice, pass: pass, key: "k6")
                #expect(good.data?["createOrder"] != nil, "\(good.text)")
                let messages = try await gw.messages(expecting: 1)
                #expect(messages.count == 1)
            }
        }

        @Test func anExpiredPassIsRefused() async throws {
            try await GatewayHarness.with(environment: ["FLASHDEAL_PASS_LIFETIME_S": "1"]) { gw in
                let deal = try await gw.seedDeal()
                let token = try await GatewayHarness.token(for: "slow-user")
                let pass = try await gw.admit(deal, token: token)
                try await Task.sleep(for: .milliseconds(3_200))
                let late = try await gw.order(deal, token: token, pass: pass, key: "late")
                #expect(late.codes == ["PASS_EXPIRED"], "\(late.text)")
                let messages = try await gw.messages(expecting: 0, timeout: .milliseconds(500))
                #expect(messages.isEmpty)
            }
        }

        @Test func soldOutShortCircuitsBeforeThePassAndKafka() async throws {
            try await GatewayHarness.with { gw in
                let deal = try await gw.seedDeal(stock: 5)
                let token = try await GatewayHarness.token(for: "late-shopper")
                let pass = try await gw.admit(deal, token: token)
                try await gw.redis.send("SET", "deal:{deal:\(deal.rawValue)}:stock", "0")
                // The local copy is at most ~100 ms stale.
                try await Task.sleep(for: .milliseconds(250))
                let reply = try await gw.order(deal, token: token, pass: pass, key: "too-late")
                #expect(reply.codes == ["SOLD_OUT"], "\(reply.text)")
                #expect(reply.status == 200)
                let stock = try await gw.post(
                    "query S($d: ID!) { stock(dealId: $d) { remaining soldOut phase } }",
                    variables: ["d": deal.rawValue])
                let state = try #require(stock.data?["stock"] as? [String: Any], "\(stock.text)")
                #expect(state["soldOut"] as? Bool == true)
                #expect(state["phase"] as? String == "SOLD_OUT")
                #expect(try await gw.messages(expecting: 0, timeout: .milliseconds(500)).isEmpty)
                // Stock returns: the same pass works (it was never bound).
                try await gw.redis.send("SET", "deal:{deal:\(deal.rawValue)}:stock", "3")
                try await Task.sleep(for: .milliseconds(250))
                let again = try await gw.order(deal, token: token, pass: pass, key: "too-late")
                #expect(again.data?["createOrder"] != nil, "\(again.text)")
            }
        }

        @Test func anAcceptedOrderCostsAtMostTwoRedisRoundTrips() async throws {
            // The same policy shape as production: three buckets with three hash tags.
            let policies = """
                version: 1
                defaults: {failMode: closed, action: reject}
                policies:
                  - name: global-orders
                    match: {operations: [createOrder]}
                    key: global
                    bucket: {capacity: 100000, refillPerSecond: 100000}
                  - name: per-ip
                    key: clientIP
                    bucket: {capacity: 100000, refillPerSecond: 100000}
                  - name: per-user
                    match: {operations: [createOrder]}
                    key: user
                    bucket: {capacity: 100, refillPerSecond: 100}
                """
            try await GatewayHarness.with(policies: policies) { gw in
                let deal = try await gw.seedDeal()
                var measured: [Double] = []
                for index in 0..<5 {
                    let token = try await GatewayHarness.token(for: "rt-user-\(index)")
                    let pass = try await gw.admit(deal, token: token)
                    try await Task.sleep(for: .milliseconds(300))
                    let before = try await gw.metric("flashdeal_redis_round_trips_total", labels: "client=\"requests\"")
                    let reply = try await gw.order(deal, token: token, pass: pass, key: "rt-\(index)")
                    #expect(reply.data?["createOrder"] != nil, "\(reply.text)")
                    try await Task.sleep(for: .milliseconds(300))
                    let after = try await gw.metric("flashdeal_redis_round_trips_total", labels: "client=\"requests\"")
                    measured.append(after - before)
                }
                #expect(
                    measured.allSatisfy { $0 == 2 },
                    "round trips per accepted order (rate policies, then the pass binding): \(measured)")
            }
        }
    }

    @Suite("Rate limits") struct RateLimits {
        @Test func overThePerUserPolicyTheAnswerIs429WithHeaders() async throws {
            let policies = """
                version: 1
                defaults: {failMode: closed, action: reject}
                policies:
                  - name: per-user-orders
                    match: {operations: [createOrder]}
                    key: user
                    bucket: {capacity: 2, refillPerSecond: 0.1}
                """
            try await GatewayHarness.with(policies: policies) { gw in
                let deal = try await gw.seedDeal()
                let token = try await GatewayHarness.token(for: "eager-user")
                var replies: [GatewayHarness.Reply] = []
                for index in 0..<3 {
                    replies.append(try await gw.order(deal, token: token, pass: nil, key: "r\(index)"))
                }
                // The first two pass the policy (and stop at the missing pass); the third is limited.
                #expect(replies[0].codes == ["PASS_REQUIRED"])
                #expect(replies[1].codes == ["PASS_REQUIRED"])
                let limited = replies[2]
                #expect(limited.status == 429, "\(limited.text)")
                #expect(limited.codes == ["RATE_LIMITED"])
                let retryAfter = try #require(limited.header("Retry-After").flatMap(Int.init))
                #expect(retryAfter >= 1 && retryAfter <= 10)
                #expect((limited.firstExtensions["retryAfter"] as? Int).map { $0 >= 1 } == true)
                #expect(limited.header("RateLimit-Policy")?.contains("\"per-user-orders\";q=2") == true)
                #expect(limited.header("RateLimit")?.contains("\"per-user-orders\";r=0") == true)
                #expect(replies[0].header("RateLimit")?.contains("\"per-user-orders\";r=1") == true)
            }
        }
    }

    @Suite("Pre-queue draw") struct Draw {
        @Test func theDrawIsReproducibleFromTheRevealedSeed() async throws {
            try await GatewayHarness.with(environment: [
                "FLASHDEAL_ADMISSION_RATE": "0.01", "FLASHDEAL_ADMISSION_BURST": "1",
            ]) { gw in
                let deal = try await gw.seedDeal(stock: 100, opensIn: .seconds(3))
                let users = (0..<12).map { "early-\($0)" }
                var tickets: [String: String] = [:]
                var tokens: [String: String] = [:]
                for user in users {
                    let token = try await GatewayHarness.token(for: user)
                    tokens[user] = token
                    let joined = try await gw.post(GatewayHarness.join, variables: ["d": deal.rawValue], token: token)
                    let room = try #require(joined.data?["joinWaitingRoom"] as? [String: Any], "\(joined.text)")
                    #expect(room["state"] as? String == "PRE_QUEUE")
                    tickets[user] = room["ticket"] as? String
                }
                let before = try await gw.post(
                    "query W($d: ID!) { waitingRoom(dealId: $d) { seedCommitment seed entrants } }",
                    variables: ["d": deal.rawValue])
                let committed = try #require(before.data?["waitingRoom"] as? [String: Any], "\(before.text)")
                #expect(committed["seed"] is NSNull || committed["seed"] == nil)
                #expect(committed["entrants"] as? Int == users.count)
                let commitment = try #require(committed["seedCommitment"] as? String)

                let revealed = try await eventually(timeout: .seconds(20)) {
                    let after = try await gw.post(
                        "query W($d: ID!) { waitingRoom(dealId: $d) { seedCommitment seed entrants drawnAt } }",
                        variables: ["d": deal.rawValue])
                    let room = try need(after.data?["waitingRoom"] as? [String: Any])
                    return try need(room["seed"] as? String, "not drawn yet")
                }
                let digest = SHA256.hash(data: Data(revealed.utf8)).map { String(format: "%02x", $0) }.joined()
                #expect(digest == commitment, "the revealed seed must match the commitment")

                // Everyone's place follows the published algorithm: with a burst of one, the first
                // drawn is admitted and the others wait at exactly their drawn rank.
                let expected = PreQueueDraw.order(entrants: try users.map { try UserID($0) }, seed: revealed)
                #expect(Set(expected.map(\.rawValue)) == Set(users))
                for (rank, user) in expected.enumerated() {
                    let polled = try await gw.post(
                        GatewayHarness.admission,
                        variables: ["d": deal.rawValue, "t": tickets[user.rawValue]!],
                        token: tokens[user.rawValue]!)
                    let status = try #require(polled.data?["admission"] as? [String: Any], "\(polled.text)")
                    if rank == 0 {
                        #expect(status["state"] as? String == "ADMITTED", "\(user): \(status)")
                    } else {
                        #expect(status["state"] as? String == "WAITING", "\(user): \(status)")
                        #expect(status["position"] as? Int == rank, "\(user) drew rank \(rank): \(status)")
                    }
                }
            }
        }
    }
}
