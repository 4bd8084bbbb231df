import Foundation
import GraphQL
import OrderedCollections
import Testing

@testable import Gateway

@Suite("JSON reading and writing of request and response bodies") struct MapJSONTests {
    @Test func readsEveryJSONValueOnce() throws {
        let text =
            #"{"query":"{ a }","variables":{"i":{"n":-12,"f":1.5,"e":2E3,"t":true,"f2":false,"z":null,"s":"é\u00e9\ud83d\ude00\n\"/","a":[1,[2,{}],[]]}},"empty":{}}"#
        let map = try MapJSON.parse(Array(text.utf8))
        let variables = map["variables"]["i"]
        #expect(variables["n"] == .number(Number(-12)))
        #expect(variables["n"].int == -12)
        #expect(variables["f"].double == 1.5)
        #expect(variables["e"].double == 2000)
        #expect(variables["t"] == .bool(true))
        #expect(variables["f2"] == .bool(false))
        #expect(variables["z"] == .null)
        #expect(variables["s"].string == "éé😀\n\"/")
        #expect(variables["a"][1][0].int == 2)
        #expect(map["query"].string == "{ a }")
        guard case .dictionary(let empty) = map["empty"] else {
            Issue.record("`empty` is not an object")
            return
        }
        #expect(empty.isEmpty)
    }

    @Test func refusesWhatIsNotJSON() {
        let bad = [
            "", "{", "}", "{\"a\":}", "{\"a\" 1}", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "+1", "1e", "tru",
            "nul", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "{\"a\":1} x", "'a'", "NaN",
            "\"tab\tinside\"", "[" + String(repeating: "[", count: 100) + String(repeating: "]", count: 101),
        ]
        for text in bad {
            #expect(throws: MapJSON.SyntaxError.self, "\(text.debugDescription) must be refused") {
                try MapJSON.parse(Array(text.utf8))
            }
        }
    }

    /// What the writer produces, Foundation reads back to the same values; what Foundation writes,
    /// the reader reads to the same values.
    @Test func agreesWithFoundationOnGeneratedDocuments() throws {
        var generator = SystemRandomNumberGenerator()
        func random(_ depth: Int) -> Any {
            switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &generator) {
            case 0: return Int.random(in: -1_000_000...1_000_000, using: &generator)
            case 1: return ["plain", "quote\"back\\slash", "ctl\u{01}\n", "ünï😀", ""].randomElement(using: &generator)!
            case 2: return Bool.random(using: &generator)
            case 3: return NSNull()
            case 4: return (0..<Int.random(in: 0...4, using: &generator)).map { _ in random(depth + 1) }
            default:
                var object: [String: Any] = [:]
                for i in 0..<Int.random(in: 0...4, using: &generator) { object["k\(i)\u{e9}"] = random(depth + 1) }
                return object
            }
        }
        for _ in 0..<300 {
            let value = ["root": random(0)]
            let foundation = try JSONSerialization.data(withJSONObject: value)
            let map = try MapJSON.parse(Array(foundation))
            var written: [UInt8] = []
            MapJSON.write(map, into: &written)
            let back = try JSONSerialization.jsonObject(with: Data(written)) as! [String: Any]
            let expected = try JSONSerialization.jsonObject(with: foundation) as! [String: Any]
            let canonical = { (object: [String: Any]) in
                String(
                    decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
            }
            #expect(try canonical(back) == canonical(expected), "\(String(decoding: written, as: UTF8.self))")
        }
    }
}
