/// Lowercase hexadecimal text of bytes (ids, digests, seeds, trace context): the one hex encoder.
public enum Hex {
    public static func lowercase(_ bytes: some Collection<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            var written = 0
            for byte in bytes {
                out[written] = digits[Int(byte >> 4)]
                out[written + 1] = digits[Int(byte & 0x0f)]
                written += 2
            }
            return written
        }
    }

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)
}
