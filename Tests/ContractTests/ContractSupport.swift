import Domain
import Foundation
import TestSupport
import Testing

/// Deterministic generator, so a failing sample can be reproduced from its seed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Events made the way Flash Deal makes them — through `Order`, `Deal` and the event initializers —
/// with random and edge-case values: identifiers of 1 and 128 characters using every allowed
/// character, quantities of 1 and `Int.max`, instants from year 1 to 9999 (leap days, the epoch, one
/// millisecond before it), failure reasons that are blank, huge, multi-byte or full of escapes.
enum EventSamples {
    static let identifierCharacters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:")

    static let edgeIdentifiers = [
        "a", "Z", "0", "-", "_", ".", ":", String(repeating: "x", count: 128), String(repeating: ":", count: 128),
        String(identifierCharacters), "deal-7", "user-42", "idem-2026-0001",
    ]

    /// Epoch milliseconds: 0001-01-01, 1900-01-01, 1969-12-31T23:59:59.999, the epoch, 2000-02-29,
    /// 2024-02-29T23:59:59.999, 2026-11-25T10:00:00.123, 2100-03-01, 9999-12-31T23:59:59.999.
    static let edgeMillis: [Int64] = [
        -62_135_596_800_000, -2_208_988_800_000, -1, 0, 951_782_400_000, 1_709_251_199_999, 1_795_600_800_123,
        4_107_542_400_000, 253_402_300_799_999,
    ]

    static let edgeQuantities = [1, 2, 3, 127, 1_000_000, Int(Int32.max), Int.max]

    static let failureReasons = [
        "", "   \n\t ", "x", "redis unavailable", "mongo write failed: {\"code\": 11000}",
        "quote \" backslash \\ slash /",
        "line\nbreak\ttab\r\u{0}nul\u{1F}unit", "💥 broker gone — ünïcödé ✓", "\u{200B}", "e\u{301}\u{301}",
        String(repeating: "é", count: 700), String(repeating: "ab", count: 5_000), "\u{2028}\u{2029}", "</script>",
    ]

    static func identifier(_ rng: inout SplitMix) -> String {
        if Int.random(in: 0..<4, using: &rng) == 0 { return edgeIdentifiers.randomElement(using: &rng)! }
        let length =
            Int.random(in: 0..<5, using: &rng) == 0
            ? Int.random(in: 1...128, using: &rng)
            : Int.random(in: 1...16, using: &rng)
        return String((0..<length).map { _ in identifierCharacters.randomElement(using: &rng)! })
    }

    static func instant(_ rng: inout SplitMix) -> Date {
        let millis =
            Int.random(in: 0..<3, using: &rng) == 0
            ? edgeMillis.randomElement(using: &rng)!
            : Int64.random(in: edgeMillis.first!...edgeMillis.last!, using: &rng)
        return Timestamp.date(epochMilliseconds: millis)
    }

    static func quantity(_ rng: inout SplitMix) -> Int {
        Int.random(in: 0..<3, using: &rng) == 0
            ? edgeQuantities.randomElement(using: &rng)!
            : Int.random(in: 1...10, using: &rng)
    }

    /// `rounds` rounds; each makes every event type at least once (about 13 events a round).
    static func events(rounds: Int, seed: UInt64) throws -> [DomainEvent] {
        var rng = SplitMix(seed: seed)
        var events: [DomainEvent] = []
        for _ in 0..<rounds {
            let dealId = try DealID(identifier(&rng))
            let userId = try UserID(identifier(&rng))
            func newOrder(_ rng: inout SplitMix) throws -> (Order, DomainEvent) {
                try Order.request(
                    dealId: dealId, userId: userId, quantity: quantity(&rng),
                    idempotencyKey: IdempotencyKey(identifier(&rng)), at: instant(&rng))
            }
            // Requested → reserved and confirmed → cancelled by the shopper or by expiry.
            let first = try newOrder(&rng)
            var order = first.0
            events.append(first.1)
            events += try order.apply(.reserved, at: instant(&rng))
            events.append(
                .orderCancellationRequested(
                    OrderCancellationRequested(
                        orderId: order.id, dealId: order.dealId, userId: order.userId, at: instant(&rng))))
            events += try order.cancel(CancellationReason.allCases.randomElement(using: &rng)!, at: instant(&rng))

            // Rejected for each reason in turn.
            var rejected = try newOrder(&rng).0
            events += try rejected.apply(
                [ReservationOutcome.soldOut, .limitExceeded, .dealClosed].randomElement(using: &rng)!, at: instant(&rng)
            )

            // Failed, with or without stock to give back (compensation).
            var failed = try newOrder(&rng).0
            events += try failed.fail(
                reason: failureReasons.randomElement(using: &rng)!,
                stockWasReserved: Bool.random(using: &rng), at: instant(&rng))

            // A deal opening and selling out.
            let starts = instant(&rng)
            let deal = try Deal(
                id: dealId, productId: ProductID(identifier(&rng)), title: "Lunar keyboard",
                price: Money(amountMinor: 129_000, currency: CurrencyCode("KRW")), startsAt: starts,
                endsAt: starts.addingTimeInterval(3600), totalStock: 10, perCustomerLimit: 2)
            events += deal.phaseChangeEvents(from: .preQueue, to: .open, at: instant(&rng))
            events += deal.phaseChangeEvents(from: .open, to: .soldOut, at: instant(&rng))

            // A random (UUID v4) event id, the other shape the catalog allows.
            events.append(
                .orderConfirmed(
                    OrderConfirmed(
                        eventId: EventID.random(using: &rng), occurredAt: instant(&rng), orderId: order.id,
                        dealId: order.dealId, userId: order.userId, quantity: order.quantity)))
        }
        return events
    }

    /// One fixed, valid event of each type, as the Domain encodes it.
    static func canonical() throws -> [DomainEventType: String] {
        let at = Timestamp.date(epochMilliseconds: 1_795_600_800_123)
        let (pending, requested) = try Order.request(
            dealId: DealID("deal-7"), userId: UserID("user-42"), quantity: 2,
            idempotencyKey: IdempotencyKey("idem-2026-0001"), at: at)
        var order = pending
        var rejected = pending
        var failed = pending
        let deal = try Deal(
            id: DealID("deal-7"), productId: ProductID("prod-1"), title: "Lunar keyboard",
            price: Money(amountMinor: 129_000, currency: CurrencyCode("KRW")), startsAt: at,
            endsAt: at.addingTimeInterval(3600), totalStock: 10, perCustomerLimit: 2)
        var events = [requested]
        events += try order.apply(.reserved, at: at)
        events += try order.cancel(.shopper, at: at)
        events += try rejected.reject(.soldOut, at: at)
        events += try failed.fail(reason: "payment service down", stockWasReserved: false, at: at)
        events += deal.phaseChangeEvents(from: .preQueue, to: .open, at: at)
        events += deal.phaseChangeEvents(from: .open, to: .soldOut, at: at)
        events.append(
            .orderCancellationRequested(
                OrderCancellationRequested(
                    orderId: order.id, dealId: order.dealId, userId: order.userId, at: at)))
        return Dictionary(events.map { ($0.type, $0.jsonString()) }) { first, _ in first }
    }
}

/// A JSON document checked against one schema file.
struct SchemaCase: Sendable, CustomStringConvertible {
    var schemaPath: String
    /// One line of JSON text (validated exactly as written, so `1` and `1.0` stay distinct).
    var document: String
    var label: String

    var schemaName: String { URL(fileURLWithPath: schemaPath).lastPathComponent }
    var description: String { "\(label) [\(schemaName)]: \(document.prefix(300))" }

    /// The JSON pointers at which the Swift validator finds violations.
    func swiftPointers(_ validator: JSONSchemaValidator) throws -> Set<String> {
        let object = try JSONSerialization.jsonObject(with: Data(document.utf8), options: [.fragmentsAllowed])
        return Set(validator.violations(object).map(\.path))
    }
}

/// Runs Python's `jsonschema` (the reference implementation) from the project's venv.
enum PythonJSONSchema {
    static let python = TestStack.root + "/.deps/venv/bin/python"

    /// For each case, the JSON pointers at which `jsonschema`'s Draft 2020-12 validator (with format
    /// assertion on) reports errors. Also checks every schema against the draft's metaschema.
    ///
    /// A missing venv or package is a failure, never a skip: `scripts/setup` installs both.
    static func pointers(for cases: [SchemaCase]) throws -> [Set<String>] {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw PythonCheckFailed(
                "\(python) does not exist: run scripts/setup (it creates the venv and installs jsonschema)")
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("flashdeal-contract-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("cases.jsonl")
        let output = directory.appendingPathComponent("out.json")
        var lines = ""
        for c in cases {
            precondition(!c.document.contains("\n"), "documents are passed one per line")
            let path = String(
                decoding: try JSONSerialization.data(withJSONObject: c.schemaPath, options: [.fragmentsAllowed]),
                as: UTF8.self)
            lines += "{\"schema\":\(path),\"document\":\(c.document)}\n"
        }
        try lines.write(to: input, atomically: true, encoding: .utf8)

        let script = """
            import json, sys
            import jsonschema, rfc3339_validator  # without rfc3339_validator, date-time would go unchecked
            from jsonschema import Draft202012Validator
            validators = {}
            results = []
            for line in open(sys.argv[1], encoding="utf-8"):
                case = json.loads(line)
                path = case["schema"]
                if path not in validators:
                    schema = json.load(open(path, encoding="utf-8"))
                    Draft202012Validator.check_schema(schema)
                    validators[path] = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
                pointers = set()
                for error in validators[path].iter_errors(case["document"]):
                    pointers.add("".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in error.absolute_path))
                results.append(sorted(pointers))
            json.dump(results, open(sys.argv[2], "w", encoding="utf-8"))
            print("jsonschema", jsonschema.__version__ if hasattr(jsonschema, "__version__") else "?", len(results), "cases")
            """
        let run = try ChildProcess.run(python, ["-c", script, input.path, output.path])
        guard run.status == 0 else {
            throw PythonCheckFailed(
                "python jsonschema exited \(run.status.map(String.init) ?? "on a signal"): \(run.output)")
        }
        let decoded = try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as? [[String]]
        guard let decoded, decoded.count == cases.count else {
            throw PythonCheckFailed(
                "python jsonschema answered for \(String(describing: decoded?.count)) of \(cases.count) cases")
        }
        return decoded.map(Set.init)
    }

    struct PythonCheckFailed: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

/// `schemas/events/<type>.schema.json`.
func eventSchemaPath(_ type: DomainEventType) -> String { JSONSchemaValidator.schemaPath(forEvent: type.rawValue) }

/// The fields of a flat JSON object with each value as its JSON text, so a test can replace one
/// value with exactly the text it wants (`1.5`, `true`, `"2"`) and keep the others as the Domain wrote them.
func rawFields(_ text: String) throws -> [String: String] {
    let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    return try object.mapValues { value in
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]), as: UTF8.self)
    }
}

/// One line of JSON text from fields given as JSON text, keys sorted.
func render(_ fields: [String: String]) -> String {
    "{" + fields.sorted { $0.key < $1.key }.map { quoted($0.key) + ":" + $0.value }.joined(separator: ",") + "}"
}

/// A JSON string literal.
func quoted(_ text: String) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed]), as: UTF8.self)
}
