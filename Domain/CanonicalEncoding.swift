import Crypto

/// Unambiguous byte encoding used for hashing and signing: every field is written as its
/// UTF-8 byte count (UInt32, big-endian) followed by the UTF-8 bytes.
enum CanonicalEncoding {
    static func lengthPrefixed(_ fields: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        for field in fields {
            let utf8 = Array(field.utf8)
            let count = UInt32(utf8.count)
            bytes.append(UInt8(truncatingIfNeeded: count >> 24))
            bytes.append(UInt8(truncatingIfNeeded: count >> 16))
            bytes.append(UInt8(truncatingIfNeeded: count >> 8))
            bytes.append(UInt8(truncatingIfNeeded: count))
            bytes.append(contentsOf: utf8)
        }
        return bytes
    }

    /// Lowercase hex of the first `byteCount` bytes of SHA-256(`bytes`).
    static func truncatedSHA256Hex(_ bytes: [UInt8], byteCount: Int = 16) -> String {
        hex(Array(SHA256.hash(data: bytes).prefix(byteCount)))
    }

    static func hex(_ bytes: [UInt8]) -> String { Hex.lowercase(bytes) }
}
