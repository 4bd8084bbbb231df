import Crypto
import Domain

/// The pre-queue draw, as a pure function anyone can re-run.
///
/// Shoppers who join before the opening are listed in arrival order. At the opening they are
/// shuffled with a seed whose commitment (hex SHA-256 of the seed's UTF-8 bytes) was published
/// when the deal was seeded; the seed itself is revealed once the draw is done. Given the revealed
/// seed and the entrants in arrival order, ``order(entrants:seed:)`` gives the drawn order — the
/// same order the Redis function `flashdeal_adm_draw_step` produced, place 1 first.
///
/// Algorithm (Fisher–Yates from the end, 0-based): for `i = n−1, n−2, …, 1`:
/// `h = SHA-1(seed ‖ ":" ‖ decimal(i))` as lowercase hex; `j = integer(h[0..<12], base 16) mod (i + 1)`;
/// swap elements `i` and `j`.
public enum PreQueueDraw {
    /// The drawn order of `entrants` (given in arrival order) under `seed`.
    public static func order<Element>(entrants: [Element], seed: String) -> [Element] {
        var result = entrants
        var i = result.count - 1
        while i >= 1 {
            let j = swapIndex(seed: seed, step: i)
            if j != i { result.swapAt(i, j) }
            i -= 1
        }
        return result
    }

    /// `j` for step `i` of the shuffle: the first 48 bits of SHA-1(`seed:i`) modulo `i + 1`.
    public static func swapIndex(seed: String, step i: Int) -> Int {
        precondition(i >= 1, "the shuffle's steps are 1…n−1")
        let digest = Array(Insecure.SHA1.hash(data: Array("\(seed):\(i)".utf8)))
        var value: UInt64 = 0
        for byte in digest.prefix(6) { value = value << 8 | UInt64(byte) }
        return Int(value % UInt64(i + 1))
    }

    /// The public commitment to `seed`: lowercase hex SHA-256 of its UTF-8 bytes.
    public static func commitment(of seed: String) -> String {
        Hex.lowercase(Array(SHA256.hash(data: Array(seed.utf8))))
    }

    /// A fresh, unpredictable seed: 32 random bytes as 64 lowercase hex digits.
    public static func makeSeed() -> String {
        randomID("") + randomID("")
    }

    /// `prefix` + 32 random lowercase hex digits (128 bits), for ticket and pass ids. Two draws of
    /// 64 bits from the system generator (each draw is a system call; byte by byte were sixteen).
    static func randomID(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let (high, low) = (generator.next(), generator.next())
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<8 {
            bytes[index] = UInt8(truncatingIfNeeded: high >> (8 * UInt64(index)))
            bytes[8 + index] = UInt8(truncatingIfNeeded: low >> (8 * UInt64(index)))
        }
        return prefix + Hex.lowercase(bytes)
    }
}
