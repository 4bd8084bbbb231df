import Credentials
import Domain
import Foundation
import Testing

enum Fixture {
    static let secret = Array("test-secret-0123456789-abcdefghijklmnop".utf8)
    static let t0 = Date(timeIntervalSince1970: 1_790_000_000)
    static let alice = try! UserID("alice")
    static let bob = try! UserID("bob")
    static let deal = try! DealID("deal-42")
    static let otherDeal = try! DealID("deal-43")

    static func key(_ byte: UInt8) -> [UInt8] { [UInt8](repeating: byte, count: 32) }

    static func expectCode<T>(
        _ code: CredentialError.Code, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws(CredentialError) -> T
    ) {
        do {
            _ = try body()
            Issue.record("expected \(code), but it succeeded", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        }
    }

    static func expectCode<T>(
        _ code: CredentialError.Code, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws(CredentialError) -> T
    ) async {
        do {
            _ = try await body()
            Issue.record("expected \(code), but it succeeded", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        }
    }

    /// Flips one bit of the character at `offset` within the dot-separated segment `segment`,
    /// staying inside the base64url alphabet.
    static func tamper(_ token: String, segment: Int, offset: Int = 2) -> String {
        var parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var chars = Array(parts[segment])
        let i = min(offset, chars.count - 1)
        chars[i] = chars[i] == "A" ? "B" : "A"
        parts[segment] = String(chars)
        return parts.joined(separator: ".")
    }

    static func b64url(_ bytes: [UInt8]) -> String { Base64URL.encode(bytes) }

    static func b64urlDecode(_ text: String) -> [UInt8] { Base64URL.decode(text) ?? [] }
}
