import Domain
import Foundation
import Testing

@Suite("Identifiers")
struct IdentifierTests {
    @Test("accepts letters, digits and - _ . :")
    func acceptsSafeCharacters() throws {
        let id = try DealID("Deal-2026_11.25:a")
        #expect(id.rawValue == "Deal-2026_11.25:a")
        #expect(id.description == "Deal-2026_11.25:a")
    }

    @Test("rejects empty")
    func rejectsEmpty() {
        #expect(throws: IdentifierError.empty(field: "userId")) { try UserID("") }
    }

    @Test("rejects more than 128 characters, accepts exactly 128")
    func rejectsTooLong() throws {
        _ = try OrderID(String(repeating: "a", count: 128))
        #expect(throws: IdentifierError.tooLong(field: "orderId", length: 129, maximum: 128)) {
            try OrderID(String(repeating: "a", count: 129))
        }
    }

    @Test(
        "rejects characters unsafe in Redis keys",
        arguments: [
            ("a b", " ", 1), ("deal{1}", "{", 4), ("x/y", "/", 1), ("é", "é", 0), ("a*", "*", 1), ("\n", "\n", 0),
        ])
    func rejectsUnsafeCharacters(raw: String, character: String, position: Int) {
        #expect(throws: IdentifierError.invalidCharacter(field: "dealId", character: character, position: position)) {
            try DealID(raw)
        }
    }

    @Test("encodes as a plain JSON string and validates when decoding")
    func codableAsString() throws {
        let data = try JSONEncoder().encode(try UserID("user-42"))
        #expect(String(decoding: data, as: UTF8.self) == "\"user-42\"")
        #expect(try JSONDecoder().decode(UserID.self, from: data) == UserID("user-42"))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(UserID.self, from: Data("\"bad id\"".utf8)) }
    }

    @Test("dictionaries keyed by identifiers encode as JSON objects")
    func dictionaryKeys() throws {
        let counts: [UserID: Int] = [try UserID("u1"): 2]
        let json = String(decoding: try JSONEncoder().encode(counts), as: UTF8.self)
        #expect(json == #"{"u1":2}"#)
        #expect(try JSONDecoder().decode([UserID: Int].self, from: Data(json.utf8)) == counts)
    }

    @Test("errors are not retryable and read well")
    func errorDescription() {
        let error = IdentifierError.invalidCharacter(field: "dealId", character: " ", position: 3)
        #expect(!error.isRetryable)
        #expect(error.description.contains("dealId"))
        #expect(error.description.contains("position 3"))
    }
}
