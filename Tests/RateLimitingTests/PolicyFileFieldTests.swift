import RateLimiting
import Testing

@Suite("Policy file: fields")
struct PolicyFileFieldTests {
    @Test("an unknown key is reported where it is, with 'did you mean' for a near miss and no extra 'missing' error")
    func unknownKeyWithSuggestion() throws {
        let diagnostic = try #require(
            onlyDiagnostic(singlePolicy("key: user\nbucket: {capacity: 5, refilPerSecond: 1}")))
        #expect(
            diagnostic.message
                == #"unknown key "refilPerSecond" in bucket; allowed keys are capacity or refillPerSecond"#)
        #expect(diagnostic.line == 5 && diagnostic.column == 27)
        #expect(diagnostic.hint == "did you mean refillPerSecond?")

        let topLevel = try #require(onlyDiagnostic("version: 1\npolices: []\n"))
        #expect(topLevel.hint == "did you mean policies?")
        #expect(topLevel.line == 2 && topLevel.column == 1)
    }

    @Test("a key at the wrong level says where it belongs")
    func misplacedKey() throws {
        let found = diagnostics(singlePolicy("key: user\ncapacity: 5\nbucket: {capacity: 5, refillPerSecond: 1}"))
        let diagnostic = try #require(found.first)
        #expect(found.count == 1)
        #expect(
            diagnostic.message.hasPrefix(
                #"unknown key "capacity" in policy #1; allowed keys are name, description, match"#))
        #expect(diagnostic.hint == "capacity belongs in bucket:")
        #expect(diagnostic.line == 5)
    }

    @Test("a value of the wrong type names what was expected and what was found")
    func wrongTypes() throws {
        let quoted = try #require(
            onlyDiagnostic(singlePolicy(#"key: user\#nbucket: {capacity: "20", refillPerSecond: 5}"#)))
        #expect(quoted.message == #"bucket.capacity must be a whole number, but it is the string "20""#)
        #expect(quoted.hint == "remove the quotes: 20")
        #expect(quoted.line == 5 && quoted.column == 24)

        let list = try #require(onlyDiagnostic(singlePolicy("key: user\nbucket: [20, 5]")))
        #expect(list.message == "bucket must be a mapping (key: value lines), but it is a list")

        let word = try #require(onlyDiagnostic(singlePolicy("key: user\nbucket: {capacity: 2, refillPerSecond: fast}")))
        #expect(word.message == #"bucket.refillPerSecond must be a number, but it is the string "fast""#)

        let decimal = try #require(
            onlyDiagnostic(singlePolicy("key: user\nbucket: {capacity: 20.0, refillPerSecond: 5}")))
        #expect(decimal.message == "bucket.capacity must be a whole number, but it is 20.0")

        let number = try #require(onlyDiagnostic(singlePolicy("key: 42\nbucket: {capacity: 2, refillPerSecond: 1}")))
        #expect(number.message == "key must be a string, but it is the number 42")
        #expect(number.line == 4 && number.column == 10)
    }

    @Test("a missing required field is reported at the policy, naming it")
    func missingRequiredField() throws {
        let diagnostic = try #require(onlyDiagnostic(singlePolicy("bucket: {capacity: 5, refillPerSecond: 1}")))
        #expect(diagnostic.message == #"policy "p" is missing the required field "key""#)
        #expect(diagnostic.line == 3 && diagnostic.column == 5)
        #expect(diagnostic.hint == "add, for example: key: clientIP")

        let inBucket = try #require(onlyDiagnostic(singlePolicy("key: user\nbucket: {capacity: 5}")))
        #expect(inBucket.message == #"bucket is missing the required field "refillPerSecond""#)
        #expect(inBucket.line == 5 && inBucket.column == 13)
    }

    @Test(
        "zero, negative, infinite or overflowing capacity and refill rates are rejected",
        arguments: [
            ("{capacity: 0, refillPerSecond: 1}", "bucket capacity must be at least 1, got 0"),
            ("{capacity: -3, refillPerSecond: 1}", "bucket capacity must be at least 1, got -3"),
            ("{capacity: 5, refillPerSecond: 0}", "bucket refillPerSecond must be a positive number, got 0"),
            ("{capacity: 5, refillPerSecond: -0.5}", "bucket refillPerSecond must be a positive number, got -0.5"),
            ("{capacity: 5, refillPerSecond: .inf}", "bucket refillPerSecond must be a positive number, got .inf"),
            (
                "{capacity: 99999999999999999999, refillPerSecond: 1}",
                "bucket.capacity is too large: 99999999999999999999"
            ),
        ])
    func bucketBounds(bucket: String, message: String) throws {
        let diagnostic = try #require(onlyDiagnostic(singlePolicy("key: user\nbucket: \(bucket)")))
        #expect(diagnostic.message == message)
        #expect(diagnostic.line == 5)
    }

    @Test("costs must be at least 1 and at most the bucket capacity")
    func costBounds() throws {
        let above = try #require(
            onlyDiagnostic(singlePolicy("key: user\nbucket: {capacity: 3, refillPerSecond: 1}\ncost: 5")))
        #expect(
            above.message == #"cost is 5, above the bucket capacity 3 of policy "p"; such requests could never pass"#)
        #expect(above.line == 6 && above.column == 11)

        let perOperation = try #require(
            onlyDiagnostic(
                singlePolicy(
                    "key: user\nbucket: {capacity: 3, refillPerSecond: 1}\ncost: {default: 1, perOperation: {createOrder: 4}}"
                )))
        #expect(perOperation.message.hasPrefix("cost of createOrder is 4, above the bucket capacity 3"))
        #expect(perOperation.line == 6 && perOperation.column == 52)

        let zero = try #require(
            onlyDiagnostic(singlePolicy("key: user\nbucket: {capacity: 3, refillPerSecond: 1}\ncost: 0")))
        #expect(zero.message == "cost must be at least 1, got 0")

        let negative = try #require(
            onlyDiagnostic(
                singlePolicy(
                    "key: user\nbucket: {capacity: 3, refillPerSecond: 1}\ncost: {perOperation: {cancelOrder: -2}}")))
        #expect(negative.message == "cost.perOperation.cancelOrder must be at least 1, got -2")

        // Still checked when the refill rate is wrong: both problems are reported.
        let both = diagnostics(singlePolicy("key: user\nbucket: {capacity: 3, refillPerSecond: 0}\ncost: 5"))
        #expect(both.map(\.line) == [5, 6])

        let fromDefaults = try #require(
            onlyDiagnostic(
                """
                version: 1
                defaults: {cost: 4}
                policies:
                  - name: small
                    key: user
                    bucket: {capacity: 3, refillPerSecond: 1}
                """))
        #expect(
            fromDefaults.message.hasPrefix(#"cost is 4 (from defaults), above the bucket capacity 3 of policy "small""#)
        )
        #expect(fromDefaults.line == 2 && fromDefaults.column == 18)
    }

    @Test("a duplicate policy name is reported at the second, pointing back at the first")
    func duplicateName() throws {
        let diagnostic = try #require(
            onlyDiagnostic(
                """
                version: 1
                policies:
                  - name: per-ip
                    key: clientIP
                    bucket: {capacity: 20, refillPerSecond: 5}
                  - name: per-user
                    key: user
                    bucket: {capacity: 5, refillPerSecond: 1}
                  - name: per-ip
                    key: clientIP
                    bucket: {capacity: 40, refillPerSecond: 5}
                """))
        #expect(diagnostic.message == #"duplicate policy name "per-ip"; it is already used by the policy at line 3"#)
        #expect(diagnostic.line == 9 && diagnostic.column == 11)
    }

    @Test(
        "unknown actions, fail modes and key kinds list the allowed values",
        arguments: [
            (
                "action: deny", #"unknown action "deny"; expected one of reject, queue or shadow"#,
                "did you mean reject?"
            ),
            (
                "action: shaddow", #"unknown action "shaddow"; expected one of reject, queue or shadow"#,
                "did you mean shadow?"
            ),
            (
                "failMode: fail-open", #"unknown failMode "fail-open"; expected one of open or closed"#,
                "did you mean open?"
            ),
            ("failMode: off", #"unknown failMode "off"; expected one of open or closed"#, nil),
        ] as [(String, String, String?)])
    func unknownEnumerations(line: String, message: String, hint: String?) throws {
        let diagnostic = try #require(
            onlyDiagnostic(singlePolicy("key: user\nbucket: {capacity: 5, refillPerSecond: 1}\n" + line)))
        #expect(diagnostic.message == message)
        #expect(diagnostic.hint == hint)
        #expect(diagnostic.line == 6)
    }

    @Test("unknown key kinds and invalid header names are explained")
    func keyKinds() throws {
        let unknown = try #require(
            onlyDiagnostic(singlePolicy("key: clientIp\nbucket: {capacity: 5, refillPerSecond: 1}")))
        #expect(
            unknown.message == #"unknown key "clientIp"; expected one of clientIP, user, deal, global or header:<Name>"#
        )
        #expect(unknown.hint == "did you mean clientIP?")
        let session = try #require(
            onlyDiagnostic(singlePolicy("key: session\nbucket: {capacity: 5, refillPerSecond: 1}")))
        #expect(session.hint == nil)
        let header = try #require(
            onlyDiagnostic(singlePolicy("key: header:X Api\nbucket: {capacity: 5, refillPerSecond: 1}")))
        #expect(header.message == #"key "header:X Api" names an invalid HTTP header"#)
    }

    @Test("unknown operation names are errors, in match and in cost, with a suggestion")
    func unknownOperations() throws {
        let inMatch = try #require(
            onlyDiagnostic(
                singlePolicy(
                    "match: {operations: [createOrder, creatOrder]}\nkey: user\nbucket: {capacity: 5, refillPerSecond: 1}"
                )))
        #expect(
            inMatch.message.hasPrefix(
                #"unknown operation "creatOrder"; known operations are deals, deal, product, stock"#))
        #expect(inMatch.hint == "did you mean createOrder?")
        #expect(inMatch.line == 4 && inMatch.column == 39)

        let inCost = try #require(
            onlyDiagnostic(
                singlePolicy(
                    "key: user\nbucket: {capacity: 5, refillPerSecond: 1}\ncost: {perOperation: {joinWaitngRoom: 2}}")))
        #expect(inCost.message.hasPrefix(#"unknown operation "joinWaitngRoom""#))
        #expect(inCost.hint == "did you mean joinWaitingRoom?")
    }

    @Test("an unsupported version is the only error reported; a quoted version is a type error")
    func versions() throws {
        let diagnostic = try #require(
            onlyDiagnostic(
                """
                version: 2
                policies:
                  - name: whatever
                    shape: might-differ-in-v2
                """))
        #expect(diagnostic.message == "unsupported policy file version 2; this flashdeal reads version 1")
        #expect(diagnostic.line == 1 && diagnostic.column == 10)
        let quoted = try #require(onlyDiagnostic("version: \"1\"\npolicies: []\n"))
        #expect(quoted.message == #"version must be a whole number, but it is the string "1""#)
    }

    @Test("names and deal ids must be valid identifiers; an empty match list is rejected")
    func identifiersAndEmptyLists() throws {
        let name = try #require(
            onlyDiagnostic(
                """
                version: 1
                policies:
                  - name: per ip
                    key: clientIP
                    bucket: {capacity: 5, refillPerSecond: 1}
                """))
        #expect(name.message.hasPrefix(#"invalid policy name "per ip": "#))
        #expect(name.line == 3 && name.column == 11)

        let deal = try #require(
            onlyDiagnostic(
                singlePolicy(
                    "match: {deals: [\"deal 7\"]}\nkey: user\nbucket: {capacity: 5, refillPerSecond: 1}")))
        #expect(deal.message.hasPrefix(#"invalid deal id "deal 7""#))

        let empty = try #require(
            onlyDiagnostic(
                singlePolicy(
                    "match: {operations: []}\nkey: user\nbucket: {capacity: 5, refillPerSecond: 1}")))
        #expect(empty.message == "match.operations is an empty list")
        #expect(empty.hint == "omit match.operations to match everything, or list at least one value")
    }

    @Test("labels must map names to strings")
    func labels() throws {
        let diagnostic = try #require(
            onlyDiagnostic(
                singlePolicy(
                    "match: {labels: {tier: 1}}\nkey: user\nbucket: {capacity: 5, refillPerSecond: 1}")))
        #expect(diagnostic.message == "match.labels.tier must be a string, but it is the number 1")
        #expect(diagnostic.hint == #"quote it: "1""#)
    }
}
