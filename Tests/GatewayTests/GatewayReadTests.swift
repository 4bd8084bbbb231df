import Admission
import Crypto
import DealData
import Domain
import Foundation
import Gateway
import Infrastructure
import TestSupport
import Testing

extension StackTests {
    @Suite("Catalog, orders and cancellation") struct Reads {
        @Test func catalogQueriesAnswerFromMongoAndOrdersOnlyForTheirOwner() async throws {
            try await GatewayHarness.with { gw in
                let deal = try await gw.seedDeal(stock: 40, limit: 3)
                let token = try await GatewayHarness.token(for: "reader")
                let read = try await gw.post(
                    """
                    query D($d: ID!) { deal(id: $d) { id title totalStock perCustomerLimit price { amountMinor currency }
                                                       product { id name } stock { remaining phase } } }
                    """, variables: ["d": deal.rawValue], token: token)
                let body = try #require(read.data?["deal"] as? [String: Any], "\(read.text)")
                #expect(body["totalStock"] as? Int == 40)
                #expect(body["perCustomerLimit"] as? Int == 3)
                #expect((body["price"] as? [String: Any])?["amountMinor"] as? Int == 1999)
                #expect((body["product"] as? [String: Any])?["id"] as? String == "prod-\(deal.rawValue)")
                #expect((body["stock"] as? [String: Any])?["remaining"] as? Int == 40)
                let list = try await gw.post("{ deals(first: 100) { id } }")
                let ids = (list.data?["deals"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                #expect(ids.contains(deal.rawValue), "\(list.text)")
                let missing = try await gw.post("{ deal(id: \"no-such-deal\") { id } }")
                #expect(missing.status == 200)
                #expect((missing.data?["deal"]) is NSNull)

                // An order as the worker records it.
                let orderId = OrderID.derive(
                    userId: try UserID("reader"), dealId: deal, idempotencyKey: try IdempotencyKey("o1"))
                let now = Date()
                let document = OrderDocument(
                    orderId: orderId, dealId: deal, userId: try UserID("reader"), quantity: 2,
                    idempotencyKey: try IdempotencyKey("o1"), status: .confirmed, reason: nil,
                    createdAt: now, updatedAt: now)
                _ = try await gw.mongo.collection(OrderStore.collectionName).insert(document.bson)
                let mine = try await gw.post(
                    "query O($id: ID!) { order(id: $id) { id status quantity dealId } }",
                    variables: ["id": orderId.rawValue], token: token)
                let order = try #require(mine.data?["order"] as? [String: Any], "\(mine.text)")
                #expect(order["status"] as? String == "CONFIRMED")
                #expect(order["quantity"] as? Int == 2)
                let stranger = try await GatewayHarness.token(for: "stranger")
                let theirs = try await gw.post(
                    "query O($id: ID!) { order(id: $id) { id } }",
                    variables: ["id": orderId.rawValue], token: stranger)
                #expect(theirs.data?["order"] is NSNull, "another shopper's order reads as absent: \(theirs.text)")

                // Cancelling: refused for a stranger, accepted (as a Kafka request) for the owner.
                let cancelQuery = "mutation X($id: ID!) { cancelOrder(orderId: $id) { id status } }"
                let refused = try await gw.post(cancelQuery, variables: ["id": orderId.rawValue], token: stranger)
                #expect(refused.codes == ["NOT_FOUND"], "\(refused.text)")
                let cancelled = try await gw.post(cancelQuery, variables: ["id": orderId.rawValue], token: token)
                #expect(
                    (cancelled.data?["cancelOrder"] as? [String: Any])?["id"] as? String == orderId.rawValue,
                    "\(cancelled.text)")
                let messages = try await gw.messages(expecting: 1)
                #expect(messages.count == 1)
                let event = try DomainEvent.decode(Data(try #require(messages.first).value))
                guard case .orderCancellationRequested(let request) = event else {
                    Issue.record("expected a cancellation request, got \(event)")
                    return
                }
                #expect(request.orderId == orderId)
                #expect(messages.first?.key.map { String(decoding: $0, as: UTF8.self) } == orderId.rawValue)
                let json = try JSONSerialization.jsonObject(with: Data(try #require(messages.first).value))
                #expect(try JSONSchemaValidator.forEvent("OrderCancellationRequested").validate(json) == [])
            }
        }

        @Test func operationsAreCountedByOutcome() async throws {
            try await GatewayHarness.with { gw in
                let deal = try await gw.seedDeal()
                let token = try await GatewayHarness.token(for: "counted")
                let pass = try await gw.admit(deal, token: token)
                _ = try await gw.order(deal, token: token, pass: nil, key: "x")
                _ = try await gw.order(deal, token: token, pass: pass, key: "y")
                let metrics = try await gw.raw(method: "GET", path: "/metrics").text
                #expect(
                    metrics.contains("flashdeal_gateway_operations_total{operation=\"createOrder\",outcome=\"ok\"} 1"),
                    "\(metrics)")
                #expect(
                    metrics.contains(
                        "flashdeal_gateway_operations_total{operation=\"createOrder\",outcome=\"PASS_REQUIRED\"} 1"))
                #expect(
                    metrics.contains(
                        "flashdeal_gateway_operation_duration_seconds_bucket{operation=\"createOrder\",outcome=\"ok\""))
                #expect(metrics.contains("flashdeal_waitingroom_joins_total{deal=\"\(deal.rawValue)\"} 1"))
            }
        }
    }
}

extension StackTests.DependenciesDown {
    @Test func pastTheInFlightBoundOrdersAreShedAtOnceAndKeepTheirPass() async throws {
        try await GatewayHarness.with(environment: [
            "FLASHDEAL_MAX_IN_FLIGHT": "1", "FLASHDEAL_ORDER_DELIVERY_TIMEOUT_MS": "3000",
        ]) { gw in
            let deal = try await gw.seedDeal()
            let first = try await GatewayHarness.token(for: "first-in")
            let second = try await GatewayHarness.token(for: "second-in")
            let firstPass = try await gw.admit(deal, token: first)
            let secondPass = try await gw.admit(deal, token: second)
            let warm = try await GatewayHarness.token(for: "warm-in")
            _ = try await gw.order(deal, token: warm, pass: try await gw.admit(deal, token: warm), key: "warm")

            try TestStack.run("stop", "kafka")
            var restarted = false
            defer { if !restarted { try? TestStack.run("start", "kafka") } }
            // The first order holds the only in-flight slot while Kafka does not answer.
            async let stuck = gw.order(deal, token: first, pass: firstPass, key: "stuck")
            try await Task.sleep(for: .milliseconds(300))
            let started = ContinuousClock.now
            let shed = try await gw.order(deal, token: second, pass: secondPass, key: "shed")
            #expect(ContinuousClock.now - started < .milliseconds(500), "shedding must not wait")
            #expect(shed.status == 503, "\(shed.text)")
            #expect(shed.codes == ["UNAVAILABLE"])
            #expect(shed.firstExtensions["outcome"] as? String == "NOT_ACCEPTED")
            #expect(shed.header("Retry-After") != nil)
            let stuckReply = try await stuck
            #expect(stuckReply.codes == ["UNAVAILABLE"], "\(stuckReply.text)")

            try TestStack.run("start", "kafka")
            restarted = true
            // The shed shopper's pass was never bound: it still places the order. (While the broker
            // recovers, an attempt may bind the pass and end with an unknown outcome; the next
            // attempt with the same key is then a replay. Only the first attempt must be fresh.)
            var attempts = 0
            let placed = try await eventually(timeout: .seconds(60)) {
                attempts += 1
                let reply = try await gw.order(deal, token: second, pass: secondPass, key: "shed")
                return try need(reply.data?["createOrder"] as? [String: Any], "not yet: \(reply.text)")
            }
            let replayed = placed["replayed"] as? Bool
            #expect(
                replayed == false || (replayed == true && attempts > 1),
                "a replay on the first attempt after the restart means the shed order had bound the pass")
            let shedMetric = try await gw.metric(
                "flashdeal_gateway_operations_total", labels: "outcome=\"UNAVAILABLE\"")
            #expect(shedMetric >= 2)
        }
    }
}

extension StackTests.RateLimits {
    /// X-Forwarded-For decides the client address only when the peer is a trusted proxy.
    @Test func forwardedForCountsOnlyFromTrustedProxies() async throws {
        // A policy name of this run's own, so no bucket left by an earlier run is reused.
        let policies = """
            version: 1
            defaults: {failMode: closed, action: reject}
            policies:
              - name: \(TestStack.uniqueName("xff"))
                key: clientIP
                bucket: {capacity: 1, refillPerSecond: 0.01}
            """
        let query = "{ deals(first: 1) { id } }"
        // Trusted (the test connects from 127.0.0.1): each forwarded address has its own bucket.
        try await GatewayHarness.with(policies: policies, environment: ["FLASHDEAL_TRUSTED_PROXIES": "127.0.0.1/32"]) {
            gw in
            let first = try await gw.post(query, headers: ["X-Forwarded-For": "203.0.113.7"])
            let second = try await gw.post(query, headers: ["X-Forwarded-For": "203.0.113.8"])
            let again = try await gw.post(query, headers: ["X-Forwarded-For": "203.0.113.7"])
            #expect(first.status == 200, "\(first.text)")
            #expect(second.status == 200, "a different forwarded client has its own bucket: \(second.text)")
            #expect(again.status == 429, "the same forwarded client is limited: \(again.text)")
        }
        // Not trusted: the header is ignored, every request is the socket's address.
        try await GatewayHarness.with(policies: policies) { gw in
            let first = try await gw.post(query, headers: ["X-Forwarded-For": "198.51.100.1"])
            let spoofed = try await gw.post(query, headers: ["X-Forwarded-For": "198.51.100.2"])
            #expect(first.status == 200, "\(first.text)")
            #expect(spoofed.status == 429, "a spoofed header must not buy a new bucket: \(spoofed.text)")
        }
    }
}
