import Foundation

/// Unpadded base64url (RFC 4648 §5), strict on decode: only the URL-safe alphabet, no padding,
/// no whitespace, and the canonical encoding only (so two strings never decode to the same bytes).
enum Base64URL {
    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        guard !text.isEmpty, text.count % 4 != 1 else { return nil }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9", "-", "_": continue
            default: return nil
            }
        }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
        guard let data = Data(base64Encoded: standard) else { return nil }
        let bytes = [UInt8](data)
        // Reject non-canonical trailing bits, e.g. "AB" and "AA" decoding alike.
        guard encode(bytes) == text else { return nil }
        return bytes
    }
}
