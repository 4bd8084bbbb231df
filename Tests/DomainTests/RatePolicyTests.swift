import Domain
import Foundation
import Testing

@Suite("Rate policy")
struct RatePolicyTests {
    private func bucket(_ capacity: Int = 10, _ rate: Double = 1) throws -> RateBucket {
        try RateBucket(capacity: capacity, refillPerSecond: rate)
    }

    @Test("bucket capacity and refill rate are validated")
    func bucketValidation() {
        #expect(throws: RatePolicyValidationError.invalidCapacity(0)) { try bucket(0) }
        #expect(throws: RatePolicyValidationError.invalidRefillRate(0)) { try bucket(1, 0) }
        #expect(throws: RatePolicyValidationError.invalidRefillRate(-2)) { try bucket(1, -2) }
        #expect(throws: RatePolicyValidationError.self) { try bucket(1, .infinity) }
        #expect(throws: RatePolicyValidationError.self) { try bucket(1, .nan) }
    }

    @Test("name must be a safe identifier")
    func nameValidation() throws {
        for bad in ["", "per user", "a/b"] {
            #expect(throws: RatePolicyValidationError.self) { try RatePolicy(name: bad, key: .user, bucket: bucket()) }
        }
    }

    @Test("costs must be between 1 and capacity")
    func costValidation() throws {
        #expect(throws: RatePolicyValidationError.invalidCost(operation: nil, cost: 0)) {
            try RatePolicy(name: "p", key: .user, bucket: bucket(), cost: .fixed(0))
        }
        #expect(
            throws: RatePolicyValidationError.costExceedsCapacity(operation: "order.create", cost: 11, capacity: 10)
        ) {
            try RatePolicy(
                name: "p", key: .user, bucket: bucket(), cost: .perOperation(["order.create": 11], default: 1))
        }
        #expect(throws: RatePolicyValidationError.invalidCost(operation: "x", cost: -1)) {
            try RatePolicy(name: "p", key: .user, bucket: bucket(), cost: .perOperation(["x": -1], default: 1))
        }
    }

    @Test("header keys need a valid header name; match entries must be non-empty")
    func keyAndMatchValidation() throws {
        #expect(throws: RatePolicyValidationError.invalidHeaderName("X Api")) {
            try RatePolicy(name: "p", key: .header("X Api"), bucket: bucket())
        }
        #expect(throws: RatePolicyValidationError.invalidHeaderName("")) {
            try RatePolicy(name: "p", key: .header(""), bucket: bucket())
        }
        #expect(throws: RatePolicyValidationError.emptyOperationName) {
            try RatePolicy(name: "p", match: RateMatch(operations: [""]), key: .user, bucket: bucket())
        }
        #expect(throws: RatePolicyValidationError.emptyLabelKey) {
            try RatePolicy(name: "p", match: RateMatch(labels: ["": "x"]), key: .user, bucket: bucket())
        }
        #expect(throws: RatePolicyValidationError.unknownKeyKind("session")) { try RateKeyKind(rawValue: "session") }
    }

    @Test("matching: empty means any; deals and labels must match")
    func matching() throws {
        let policy = try RatePolicy(
            name: "orders-per-user",
            match: RateMatch(operations: ["order.create"], dealIds: [deal("deal-7")], labels: ["tier": "free"]),
            key: .user, bucket: bucket())
        #expect(
            policy.matches(operation: "order.create", dealId: try deal("deal-7"), labels: ["tier": "free", "x": "y"]))
        #expect(!policy.matches(operation: "order.read", dealId: try deal("deal-7"), labels: ["tier": "free"]))
        #expect(!policy.matches(operation: "order.create", dealId: try deal("deal-8"), labels: ["tier": "free"]))
        #expect(!policy.matches(operation: "order.create", dealId: nil, labels: ["tier": "free"]))
        #expect(!policy.matches(operation: "order.create", dealId: try deal("deal-7"), labels: ["tier": "gold"]))
        let global = try RatePolicy(name: "global", key: .global, bucket: bucket())
        #expect(global.matches(operation: "anything", dealId: nil))
    }

    @Test("per-operation cost falls back to the default")
    func cost() throws {
        let policy = try RatePolicy(
            name: "p", key: .clientIP, bucket: bucket(),
            cost: .perOperation(["order.create": 5], default: 1))
        #expect(policy.cost(of: "order.create") == 5)
        #expect(policy.cost(of: "deal.read") == 1)
    }

    @Test("JSON config decodes with defaults and re-validates")
    func codable() throws {
        let json = #"""
            {"name":"orders-per-user","match":{"operations":["order.create"]},"key":"header:X-Api-Key",
             "bucket":{"capacity":5,"refillPerSecond":0.5},"cost":{"default":1,"perOperation":{"order.create":2}},
             "action":"queue","failMode":"closed"}
            """#
        let policy = try JSONDecoder().decode(RatePolicy.self, from: Data(json.utf8))
        #expect(policy.key == .header("X-Api-Key") && policy.action == .queue && policy.failMode == .closed)
        #expect(policy.bucket == (try bucket(5, 0.5)) && policy.cost(of: "order.create") == 2)
        #expect(try JSONDecoder().decode(RatePolicy.self, from: JSONEncoder().encode(policy)) == policy)

        let minimal = try JSONDecoder().decode(
            RatePolicy.self,
            from: Data(#"{"name":"g","key":"global","bucket":{"capacity":1,"refillPerSecond":1}}"#.utf8))
        #expect(
            minimal.cost == .fixed(1) && minimal.action == .reject && minimal.failMode == .open
                && minimal.match == .everything)

        let tooExpensive = #"{"name":"g","key":"global","bucket":{"capacity":1,"refillPerSecond":1},"cost":2}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(RatePolicy.self, from: Data(tooExpensive.utf8)) }
    }
}
