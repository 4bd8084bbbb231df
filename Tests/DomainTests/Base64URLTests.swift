import Domain
import Foundation
import Testing

@Suite("base64url") struct Base64URLTests {
    /// Agrees with Foundation's base64 (alphabet swapped, padding dropped) on every length 0…200.
    @Test func roundTripsAndMatchesFoundation() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            let encoded = Base64URL.encode(bytes)
            #expect(encoded == expected, "length \(length)")
            if length > 0 { #expect(Base64URL.decode(encoded) == bytes, "length \(length)") }
        }
    }

    @Test func refusesAnythingButTheCanonicalURLSafeForm() {
        // "AB" and "AAB" carry non-zero trailing bits ("AA" / "AAA" are the canonical forms).
        for text in ["", "A", "AB==", "A+B/", "AB C", "ABCDE", "AB\n", "AQ=", "AB", "AAB", "ÄBCD"] {
            #expect(Base64URL.decode(text) == nil, "\(text.debugDescription)")
        }
        #expect(Base64URL.decode("AA") == [0])
        #expect(Base64URL.decode("AAA") == [0, 0])
        #expect(Base64URL.decode("_-8") == [0xFF, 0xEF])
    }
}
