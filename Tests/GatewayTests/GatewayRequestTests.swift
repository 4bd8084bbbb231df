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
    /// Every class of bad input gets its status and code, and changes nothing.
    @Suite("Bad input") struct BadInput {
        /// The order topic stays empty and the deal's pass stays usable after each bad request.
        @Test func eachBadInputClassHasItsStatusAndCodeAndChangesNothing() async throws {
            try await GatewayHarness.with { gw in
                let deal = try await gw.seedDeal()
                let token = try await GatewayHarness.token(for: "careless-user")
                let pass = try await gw.admit(deal, token: token)
                let order = GatewayHarness.createOrder
                let input: [String: Any] = [
                    "dealId": deal.rawValue, "quantity": 1, "idempotencyKey": "k", "pass": pass,
                ]

                func check(_ name: String, _ reply: GatewayHarness.Reply, status: Int, code: String) {
                    #expect(reply.status == status, "\(name): status \(reply.status), body \(reply.text)")
                    #expect(reply.codes.contains(code), "\(name): codes \(reply.codes), body \(reply.text)")
                    // Every error says whether retrying can help (docs/api.md), the library's own included.
                    let retryable = reply.errors.map { ($0["extensions"] as? [String: Any])?["retryable"] as? Bool }
                    #expect(
                        !retryable.isEmpty && retryable.allSatisfy { $0 == false }, "\(name): retryable \(retryable)")
                }

                let auth = ["Authorization": "Bearer \(token)"]
                check(
                    "malformed JSON",
                    try await gw.raw(
                        method: "POST", path: "/graphql", body: Data("{\"query\": ".utf8),
                        headers: auth.merging(["Content-Type": "application/json"]) { a, _ in a }),
                    status: 400, code: "BAD_REQUEST")
                check(
                    "JSON that is not an object",
                    try await gw.raw(
                        method: "POST", path: "/graphql", body: Data("[1,2]".utf8),
                        headers: ["Content-Type": "application/json"]),
                    status: 400, code: "BAD_REQUEST")
                check(
                    "wrong content type",
                    try await gw.raw(
                        method: "POST", path: "/graphql",
                        body: Data("query { deals { id } }".utf8),
                        headers: ["Content-Type": "text/plain"]),
                    status: 415, code: "BAD_REQUEST")
                let huge = String(repeating: " ", count: 40_000) + "{ deals { id } }"
                check("oversize body", try await gw.post(huge), status: 413, code: "QUERY_TOO_LARGE")
                check(
                    "too deep", try await gw.post(Self.deepQuery(20)),
                    status: 400, code: "QUERY_TOO_DEEP")
                check(
                    "too complex",
                    try await gw.post(
                        "{ deals(first: 100) { id title startsAt endsAt totalStock perCustomerLimit price { amountMinor currency } } }"
                    ),
                    status: 400, code: "QUERY_TOO_COMPLEX")
                check(
                    "syntax error", try await gw.post("mutation { createOrder(input: {) }"), status: 400,
                    code: "GRAPHQL_PARSE_FAILED")
                check(
                    "unknown field", try await gw.post("{ stockz(dealId: \"x\") { remaining } }"), status: 400,
                    code: "GRAPHQL_VALIDATION_FAILED")
                check(
                    "unknown operation name",
                    try await gw.post(
                        order, variables: ["i": input], token: token,
                        operationName: "Nope"),
                    status: 400, code: "BAD_REQUEST")
                check(
                    "wrong variable types",
                    try await gw.post(
                        order,
                        variables: [
                            "i": [
                                "dealId": deal.rawValue, "quantity": "two",
                                "idempotencyKey": "k", "pass": pass,
                            ]
                        ],
                        token: token),
                    status: 400, code: "BAD_REQUEST")
                check("missing variable", try await gw.post(order, token: token), status: 400, code: "BAD_REQUEST")
                check(
                    "missing auth", try await gw.post(order, variables: ["i": input]), status: 401,
                    code: "UNAUTHENTICATED")
                check(
                    "garbage token", try await gw.post(order, variables: ["i": input], token: "not.a.jwt"),
                    status: 401, code: "UNAUTHENTICATED")
                for header in ["Basic \(token)", "Bearerx \(token)", "Bearer", "\(token)"] {
                    check(
                        "Authorization: \(header.prefix(8))…",
                        try await gw.post(order, variables: ["i": input], headers: ["Authorization": header]),
                        status: 401, code: "UNAUTHENTICATED")
                }
                let foreign = try await GatewayHarness.token(
                    for: "careless-user", secret: "another-secret-another-secret-0123456789")
                check(
                    "token signed by someone else", try await gw.post(order, variables: ["i": input], token: foreign),
                    status: 401, code: "UNAUTHENTICATED")
                check(
                    "zero quantity",
                    try await gw.post(
                        order, variables: ["i": input.merging(["quantity": 0]) { _, n in n }],
                        token: token),
                    status: 400, code: "BAD_REQUEST")
                check(
                    "bad deal id",
                    try await gw.post(
                        order, variables: ["i": input.merging(["dealId": "no spaces allowed"]) { _, n in n }],
                        token: token),
                    status: 400, code: "BAD_REQUEST")
                let getMutation = try await gw.raw(
                    method: "GET",
                    path: "/graphql?query="
                        + "mutation%20%7B%20joinWaitingRoom(dealId%3A%20%22x%22)%20%7B%20ticket%20%7D%20%7D")
                #expect(getMutation.status == 405)
                #expect(getMutation.header("Allow") == "POST")
                let notAcceptable = try await gw.raw(
                    method: "GET", path: "/graphql?query=%7B%20deals%20%7B%20id%20%7D%20%7D",
                    headers: ["Accept": "text/html"])
                #expect(notAcceptable.status == 406)

                // Too early: DEAL_NOT_OPEN says when, and when to come back.
                let later = try await gw.seedDeal(opensIn: .seconds(7_200))
                let early = try await gw.post(GatewayHarness.join, variables: ["d": later.rawValue], token: token)
                #expect(early.codes == ["DEAL_NOT_OPEN"], "\(early.text)")
                #expect((early.firstExtensions["retryAfter"] as? Int ?? 0) > 0, "\(early.text)")
                #expect(early.firstExtensions["opensAt"] is String, "\(early.text)")

                // Nothing reached Kafka, and the pass still works for exactly one order.
                #expect(try await gw.messages(expecting: 0, timeout: .milliseconds(300)).isEmpty)
                let good = try await gw.order(deal, token: token, pass: pass, key: "finally")
                #expect(good.data?["createOrder"] != nil, "\(good.text)")
                #expect(try await gw.messages(expecting: 1).count == 1)
            }
        }

        /// `{ __schema { types { fields { type { ofType { ofType … { name } } } } } } }`, `depth` levels deep.
        static func deepQuery(_ depth: Int) -> String {
            let chain = Array(repeating: "ofType", count: max(0, depth - 4))
            return "{ __schema { types { fields { type { " + chain.map { "\($0) { " }.joined() + "name "
                + String(repeating: "} ", count: chain.count) + "} } } } }"
        }

        @Test func queriesWorkOverGetAndPersistedQueriesByHash() async throws {
            try await GatewayHarness.with { gw in
                let deal = try await gw.seedDeal()
                let query = "query S($d: ID!) { stock(dealId: $d) { remaining total soldOut phase } }"
                let hash = SHA256.hash(data: Data(query.utf8)).map { String(format: "%02x", $0) }.joined()
                let persisted: [String: Any] = ["persistedQuery": ["version": 1, "sha256Hash": hash]]

                let miss = try await gw.post("", variables: ["d": deal.rawValue], extensions: persisted)
                #expect(miss.codes == ["PERSISTED_QUERY_NOT_FOUND"], "\(miss.text)")
                let wrongHash: [String: Any] = [
                    "persistedQuery": ["version": 1, "sha256Hash": String(repeating: "0", count: 64)]
                ]
                let mismatch = try await gw.post(query, variables: ["d": deal.rawValue], extensions: wrongHash)
                #expect(mismatch.status == 400)

                let register = try await gw.post(query, variables: ["d": deal.rawValue], extensions: persisted)
                #expect((register.data?["stock"] as? [String: Any])?["total"] as? Int == 100, "\(register.text)")
                let byHash = try await gw.post("", variables: ["d": deal.rawValue], extensions: persisted)
                #expect((byHash.data?["stock"] as? [String: Any])?["remaining"] as? Int == 100, "\(byHash.text)")

                let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let variables = "{\"d\":\"\(deal.rawValue)\"}".addingPercentEncoding(
                    withAllowedCharacters: .alphanumerics)!
                let get = try await gw.raw(method: "GET", path: "/graphql?query=\(encoded)&variables=\(variables)")
                #expect(get.status == 200, "\(get.text)")
                #expect((get.data?["stock"] as? [String: Any])?["phase"] as? String == "OPEN")
                // GET parameters are application/x-www-form-urlencoded: `+` is a space, %2B a plus.
                let formEncoded = query.split(separator: " ").map {
                    $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                }
                .joined(separator: "+")
                let plus = try await gw.raw(method: "GET", path: "/graphql?query=\(formEncoded)&variables=\(variables)")
                #expect(plus.status == 200 && plus.errors.isEmpty, "\(plus.text)")
                #expect((plus.data?["stock"] as? [String: Any])?["total"] as? Int == 100)

                let legacy = try await gw.raw(
                    method: "POST", path: "/graphql",
                    body: try JSONSerialization.data(withJSONObject: ["query": "{ stockz }"]),
                    headers: ["Content-Type": "application/json", "Accept": "application/json"])
                #expect(legacy.status == 200, "application/json clients get 200 for GraphQL errors")
                #expect(legacy.header("content-type")?.hasPrefix("application/json") == true)
            }
        }

        /// An oversize body is answered 413 whether or not the client asked to close the connection,
        /// and the connection is closed after the answer: a client that sends its whole body before
        /// it reads (as curl does) is not left stuck sending to a server that stopped reading.
        @Test func anOversizeBodyIsAnswered413AndTheConnectionClosedEvenWithConnectionClose() async throws {
            try await GatewayHarness.with { gw in
                for (size, connection) in [
                    (8 * 1_024 * 1_024, "close"), (8 * 1_024 * 1_024, "keep-alive"),
                    (40 * 1_024 * 1_024, "close"),
                ] {
                    let head =
                        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        + "Content-Length: \(size)\r\nConnection: \(connection)"
                    let port = gw.port
                    let exchange = try await Task.detached {
                        try RawHTTP.exchange(port: port, head: head, bodyBytes: size, timeout: .seconds(20))
                    }.value
                    let what = "\(size / 1_048_576) MiB, Connection: \(connection)"
                    #expect(
                        exchange.closed,
                        "\(what): the connection stayed open for \(exchange.elapsed) (body sent: \(exchange.bodySent))")
                    #expect(exchange.elapsed < .seconds(10), "\(what): took \(exchange.elapsed)")
                    if size <= 16 * 1_024 * 1_024 {  // within the gateway's drain limit (GraphQLHTTP.drainLimit)
                        // Read and dropped to its end: the client finished sending and reads the answer.
                        #expect(exchange.bodySent, "\(what): the client could not send its body")
                        #expect(exchange.status == 413, "\(what): \(exchange.response.prefix(300))")
                        #expect(exchange.response.lowercased().contains("connection: close"))
                    }
                }
            }
        }

        @Test func theServedSchemaEqualsTheSDLFile() throws {
            let file = try String(contentsOfFile: GatewayHarness.root + "/schemas/flashdeal.graphql", encoding: .utf8)
            #expect(
                try GatewayApp.printedSchema() == file,
                "schemas/flashdeal.graphql is out of date: regenerate it with `flashdeal-gateway --print-schema > schemas/flashdeal.graphql`"
            )
        }
    }

    /// The failure policy: Kafka and Redis stopped under the gateway.
    @Suite("Dependencies down") struct DependenciesDown {
        @Test func kafkaStoppedGivesUnavailableWithinTheBoundThenTheSameKeyRecovers() async throws {
            try await GatewayHarness.with { gw in
                let deal = try await gw.seedDeal()
                let token = try await GatewayHarness.token(for: "unlucky-user")
                let pass = try await gw.admit(deal, token: token)
                // Warm the producer's connection first.
                let other = try await GatewayHarness.token(for: "warm-user")
                _ = try await gw.order(deal, token: other, pass: try await gw.admit(deal, token: other), key: "warm")

                try TestStack.run("stop", "kafka")
                var restarted = false
                defer { if !restarted { try? TestStack.run("start", "kafka") } }
                let started = ContinuousClock.now
                let refused = try await gw.order(deal, token: token, pass: pass, key: "during-outage")
                let elapsed = ContinuousClock.now - started
                #expect(refused.codes == ["UNAVAILABLE"], "\(refused.text)")
                #expect(refused.status == 503)
                #expect(refused.header("Retry-After") != nil)
                #expect(refused.firstExtensions["outcome"] as? String == "UNKNOWN")
                #expect(elapsed < .milliseconds(2_000 + 1_500), "answered after \(elapsed); the bound is 2 s")

                try TestStack.run("start", "kafka")
                restarted = true
                let recovered = try await eventually(timeout: .seconds(60)) {
                    let reply = try await gw.order(deal, token: token, pass: pass, key: "during-outage")
                    return try need(reply.data?["createOrder"] as? [String: Any], "not yet: \(reply.text)")
                }
                let expected = OrderID.derive(
                    userId: try UserID("unlucky-user"), dealId: deal,
                    idempotencyKey: try IdempotencyKey("during-outage"))
                #expect(recovered["id"] as? String == expected.rawValue)
                // The retry published the request stored at the first attempt, byte for byte: however
                // many copies reach the log, they are one event.
                let stored = try await gw.redis.send(["HGET", AdmissionKeys(deal).requests, expected.rawValue])
                    .stringValue
                let copies = try await gw.messages(expecting: 2).filter { $0.keyString == expected.rawValue }
                #expect(!copies.isEmpty)
                #expect(Set(copies.map(\.valueString)) == [try #require(stored)])
                #expect(
                    try await gw.redis.send(["ZSCORE", AdmissionKeys(deal).undecided, expected.rawValue]).stringValue
                        != nil,
                    "accepted and not yet decided (no worker runs here)")
            }
        }

        @Test func redisStoppedFailsOrdersClosedAndCatalogReadsStillAnswer() async throws {
            let policies = """
                version: 1
                defaults: {failMode: open, action: reject}
                policies:
                  - name: orders
                    match: {operations: [createOrder]}
                    key: user
                    bucket: {capacity: 100, refillPerSecond: 100}
                    failMode: closed
                  - name: reads
                    match: {operations: [deal, deals]}
                    key: clientIP
                    bucket: {capacity: 1000, refillPerSecond: 1000}
                """
            try await GatewayHarness.with(policies: policies) { gw in
                let deal = try await gw.seedDeal()
                let token = try await GatewayHarness.token(for: "redis-outage-user")
                let pass = try await gw.admit(deal, token: token)

                try TestStack.run("stop", "redis")
                var restarted = false
                defer { if !restarted { try? TestStack.run("start", "redis") } }
                let started = ContinuousClock.now
                let order = try await gw.order(deal, token: token, pass: pass, key: "no-redis")
                #expect(ContinuousClock.now - started < .seconds(1))
                #expect(order.codes == ["UNAVAILABLE"], "\(order.text)")
                #expect(order.status == 503)
                #expect(order.header("Retry-After") != nil)
                let read = try await gw.post(
                    "query D($d: ID!) { deal(id: $d) { id title totalStock } }", variables: ["d": deal.rawValue])
                #expect(
                    (read.data?["deal"] as? [String: Any])?["totalStock"] as? Int == 100, "fail-open read: \(read.text)"
                )
                // The waiting room needs Redis: UNAVAILABLE, and nothing of the internal error reaches the shopper.
                let other = try await GatewayHarness.token(for: "redis-outage-joiner")
                let join = try await gw.post(
                    "mutation J($d: ID!) { joinWaitingRoom(dealId: $d) { ticket state } }",
                    variables: ["d": deal.rawValue], token: other)
                #expect(join.codes == ["UNAVAILABLE"], "\(join.text)")
                #expect(join.firstExtensions["cause"] == nil, "internal error text sent to the client: \(join.text)")
                #expect(
                    !join.text.lowercased().contains("redis") && !join.text.contains("connection"),
                    "internal error text sent to the client: \(join.text)")

                try TestStack.run("start", "redis")
                restarted = true
                // Redis restarted with its data (AOF): the same pass now places the order.
                let recovered = try await eventually(timeout: .seconds(30)) {
                    let reply = try await gw.order(deal, token: token, pass: pass, key: "no-redis")
                    return try need(reply.data?["createOrder"] as? [String: Any], "not yet: \(reply.text)")
                }
                #expect(recovered["status"] as? String == "PENDING")
            }
        }
    }
}
