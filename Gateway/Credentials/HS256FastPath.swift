import Crypto
import Domain
import Foundation
import JWTKit

/// Verifies the ordinary HS256 shopper token without jwt-kit's JSON decoding: the header is exactly
/// `{"alg":"HS256","typ":"JWT"}` (either order, `typ` optional), every segment is canonical
/// unpadded base64url, the signature is checked in constant time, and the payload is a flat JSON
/// object of the six claims the gateway reads (`sub`, `iss` strings, `aud` a string or an array
/// of strings, `exp`, `iat`, `nbf` integers), strings without escapes.
///
/// It only ever *accepts*: anything else — another header, a claim it does not know, an escape,
/// a fraction, a bad signature — answers `nil`, and jwt-kit, the reference, decides and names the
/// error. `ShopperTokenFastPathTests` checks the two agree on generated tokens, valid and not.
struct HS256FastPath: Sendable {
    private let key: SymmetricKey

    init(secret: [UInt8]) { key = SymmetricKey(data: secret) }

    func verify(_ token: String) -> ShopperJWTPayload? {
        let bytes = Array(token.utf8)
        guard let firstDot = bytes.firstIndex(of: UInt8(ascii: ".")),
            let secondDot = bytes[(firstDot + 1)...].firstIndex(of: UInt8(ascii: ".")),
            !bytes[(secondDot + 1)...].contains(UInt8(ascii: "."))
        else { return nil }
        let header = bytes[..<firstDot]
        guard
            header.elementsEqual(Self.headerTyped) || header.elementsEqual(Self.headerTypeFirst)
                || header.elementsEqual(Self.headerAlgOnly)
        else { return nil }
        guard let signature = Base64URL.decode(Substring(decoding: bytes[(secondDot + 1)...], as: UTF8.self)),
            HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: bytes[..<secondDot], using: key),
            let payload = Base64URL.decode(Substring(decoding: bytes[(firstDot + 1)..<secondDot], as: UTF8.self))
        else { return nil }
        return Self.claims(payload)
    }

    static let headerTyped = Array(Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)).utf8)
    static let headerTypeFirst = Array(Base64URL.encode(Array(#"{"typ":"JWT","alg":"HS256"}"#.utf8)).utf8)
    static let headerAlgOnly = Array(Base64URL.encode(Array(#"{"alg":"HS256"}"#.utf8)).utf8)

    /// The claims of a flat payload object, or nil for anything outside the ordinary shape.
    static func claims(_ json: [UInt8]) -> ShopperJWTPayload? {
        var reader = FlatReader(bytes: json)
        var payload = ShopperJWTPayload()
        var seen = Set<String>()
        guard reader.take(UInt8(ascii: "{")) else { return nil }
        if reader.take(UInt8(ascii: "}")) { return reader.atEnd ? payload : nil }
        repeat {
            guard let name = reader.string(), seen.insert(name).inserted, reader.take(UInt8(ascii: ":")) else {
                return nil
            }
            switch name {
            case "sub":
                guard let v = reader.string() else { return nil }
                payload.sub = .init(value: v)
            case "iss":
                guard let v = reader.string() else { return nil }
                payload.iss = .init(value: v)
            case "exp":
                guard let v = reader.seconds() else { return nil }
                payload.exp = .init(value: v)
            case "iat":
                guard let v = reader.seconds() else { return nil }
                payload.iat = .init(value: v)
            case "nbf":
                guard let v = reader.seconds() else { return nil }
                payload.nbf = .init(value: v)
            case "aud":
                if let one = reader.string() {
                    payload.aud = .init(value: [one])
                } else {
                    guard let many = reader.strings(), !many.isEmpty else { return nil }
                    payload.aud = .init(value: many)
                }
            default: return nil
            }
        } while reader.take(UInt8(ascii: ","))
        guard reader.take(UInt8(ascii: "}")), reader.atEnd else { return nil }
        return payload
    }

    /// Reads the little JSON the ordinary payload is made of; nil for everything else.
    struct FlatReader {
        let bytes: [UInt8]
        var index = 0

        var atEnd: Bool {
            mutating get {
                skipSpace()
                return index == bytes.count
            }
        }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// A string of printable characters without escapes (UTF-8 beyond ASCII allowed).
        mutating func string() -> String? {
            let start = index
            guard take(UInt8(ascii: "\"")) else { return nil }
            let first = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                guard bytes[index] >= 0x20, bytes[index] != UInt8(ascii: "\\") else {
                    index = start
                    return nil
                }
                index += 1
            }
            guard index < bytes.count, let text = String(validating: bytes[first..<index], as: UTF8.self) else {
                index = start
                return nil
            }
            index += 1
            return text
        }

        mutating func strings() -> [String]? {
            guard take(UInt8(ascii: "[")) else { return nil }
            var values: [String] = []
            if take(UInt8(ascii: "]")) { return values }
            repeat {
                guard let value = string() else { return nil }
                values.append(value)
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "]")) ? values : nil
        }

        /// A JWT NumericDate written as a plain non-negative integer (at most 12 digits).
        mutating func seconds() -> Date? {
            skipSpace()
            var value: Int64 = 0
            var digits = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                value = value * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
                digits += 1
                index += 1
            }
            guard digits > 0, digits <= 12, !(digits > 1 && bytes[index - digits] == UInt8(ascii: "0")) else {
                return nil
            }
            if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) {
                return nil
            }
            return Date(timeIntervalSince1970: Double(value))
        }
    }
}
