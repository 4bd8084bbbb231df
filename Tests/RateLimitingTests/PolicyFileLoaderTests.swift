import Crypto
import Domain
import Foundation
import RateLimiting
import Testing

@Suite("Policy file: loading")
struct PolicyFileLoaderTests {
    @Test("a valid file loads every field, in file order, with defaults applied")
    func validFile() throws {
        let set = try #require(loaded(validPolicyYAML))
        #expect(set.version == 1)
        #expect(set.source == "test.yaml")
        #expect(set.policies.map(\.name) == ["per-ip", "per-user-orders"])

        let perIP = set.policies[0]
        #expect(perIP.key == .clientIP)
        #expect(perIP.match == .everything)
        #expect(perIP.bucket == (try RateBucket(capacity: 20, refillPerSecond: 5)))
        #expect(perIP.cost == .fixed(1))
        #expect(perIP.action == .reject)  // built-in default
        #expect(perIP.failMode == .closed)  // from defaults:

        let perUser = set.policies[1]
        #expect(
            perUser.match
                == RateMatch(
                    operations: ["createOrder", "cancelOrder"], dealIds: [try DealID("deal-7")],
                    labels: ["tier": "public"]))
        #expect(perUser.key == .user)
        #expect(perUser.bucket.refillPerSecond == 0.5)
        #expect(perUser.cost == .perOperation(["createOrder": 2], default: 1))
        #expect(perUser.action == .queue)
        #expect(perUser.failMode == .open)  // the policy's own value beats defaults:
    }

    @Test("header keys and a defaults cost are read")
    func headerKeyAndDefaultCost() throws {
        let set = try #require(
            loaded(
                """
                version: 1
                defaults: {cost: 2, action: shadow}
                policies:
                  - name: partners
                    key: header:X-Api-Key
                    bucket: {capacity: 10, refillPerSecond: 1}
                """))
        #expect(set.policies[0].key == .header("X-Api-Key"))
        #expect(set.policies[0].cost == .fixed(2))
        #expect(set.policies[0].action == .shadow)
        #expect(set.policies[0].failMode == .open)
    }

    @Test("the digest is the first 12 hex digits of the SHA-256 of the file's bytes")
    func digest() throws {
        let set = try #require(loaded(validPolicyYAML))
        let expected = SHA256.hash(data: Data(validPolicyYAML.utf8)).map { String(format: "%02x", $0) }.joined().prefix(
            12)
        #expect(set.digest == String(expected))
        #expect(set.digest.count == 12)

        let edited = try #require(loaded(validPolicyYAML + "# a comment changes the version\n"))
        #expect(edited.digest != set.digest)
        #expect(edited.policies == set.policies)
    }

    @Test("load(path:) reads the file, records its path and hashes its exact bytes")
    func loadFromDisk() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID()).yaml").path
        let bytes = Data(validPolicyYAML.utf8)
        try bytes.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let set = try PolicyLoader.load(path: path)
        #expect(set.source == path)
        #expect(set.digest == PolicyLoader.digest(of: bytes))
        #expect(set.policies.count == 2)

        #expect {
            _ = try PolicyLoader.load(path: path + ".missing")
        } throws: { error in
            let diagnostic = (error as? PolicyFileError)?.diagnostics.first
            return diagnostic?.message == "cannot read the file: no such file" && diagnostic?.line == 1
        }
    }

    @Test("an empty policy list is a valid file that limits nothing")
    func emptyPolicies() throws {
        let set = try #require(loaded("version: 1\npolicies: []\n"))
        #expect(set.policies.isEmpty)
    }

    @Test("every diagnostic in a file is reported at once, sorted by position, as file:line:column: error: message")
    func allDiagnosticsAtOnce() throws {
        let found = diagnostics(
            """
            version: 1
            policies:
              - name: a
                key: ip
                bucket: {capacity: 0, refillPerSecond: 5}
              - name: b
                key: user
                bucket: {capacity: 5, refillPerSecond: 1}
                action: deny
            """, file: "sale.yaml")
        #expect(found.map(\.line) == [4, 5, 9])
        #expect(found.map(\.column) == [10, 24, 13])
        #expect(
            found[0].description
                == #"sale.yaml:4:10: error: unknown key "ip"; expected one of clientIP, user, deal, global or header:<Name>"#
        )
        #expect(found[0].rendered.hasSuffix("\n    hint: did you mean clientIP?"))
    }
}
