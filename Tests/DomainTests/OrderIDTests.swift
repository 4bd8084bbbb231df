import Domain
import PropertyBased
import Testing

@Suite("Order id derivation")
struct OrderIDTests {
    private func derive(_ u: String, _ d: String, _ k: String) throws -> OrderID {
        OrderID.derive(userId: try UserID(u), dealId: try DealID(d), idempotencyKey: try IdempotencyKey(k))
    }

    /// Computed independently with Python:
    /// `"ord_" + sha256(lp("flashdeal:order-id:v1") + lp("user-42") + lp("deal-7") + lp("idem-2026-0001")).digest()[:16].hex()`
    /// with `lp(s) = struct.pack(">I", len(s.encode())) + s.encode()`.
    @Test("golden vector")
    func goldenVector() throws {
        #expect(try derive("user-42", "deal-7", "idem-2026-0001").rawValue == "ord_f5d1b74df7a1c97ee5374ec1797a9728")
    }

    @Test("shape is ord_ + 32 lowercase hex digits and a valid identifier")
    func shape() async {
        await propertyCheck(input: identifierString, identifierString, identifierString) { u, d, k in
            failOnThrow {
                let id = try derive(u, d, k)
                #expect(id.rawValue.hasPrefix("ord_"))
                let hex = id.rawValue.dropFirst(4)
                #expect(hex.count == 32)
                #expect(hex.allSatisfy { "0123456789abcdef".contains($0) })
                #expect(try OrderID(id.rawValue) == id)
            }
        }
    }

    @Test("same inputs give the same id")
    func deterministic() async {
        await propertyCheck(input: identifierString, identifierString, identifierString) { u, d, k in
            failOnThrow {
                let first = try derive(u, d, k)
                let second = try derive(String(u), String(d), String(k))
                #expect(first == second)
            }
        }
    }

    @Test("changing any one input changes the id")
    func injective() async {
        await propertyCheck(count: 200, input: identifierString, identifierString, identifierString, identifierString) {
            u, d, k, other in
            failOnThrow {
                let base = try derive(u, d, k)
                let changedUser = try derive(other, d, k)
                let changedDeal = try derive(u, other, k)
                let changedKey = try derive(u, d, other)
                let swapped = try derive(d, u, k)
                if other != u { #expect(changedUser != base) }
                if other != d { #expect(changedDeal != base) }
                if other != k { #expect(changedKey != base) }
                if d != u { #expect(swapped != base, "swapping user and deal must matter") }
            }
        }
    }

    @Test("moving the boundary between adjacent fields changes the id")
    func unambiguousConcatenation() async throws {
        let userDeal = (try derive("ab", "c", "k"), try derive("a", "bc", "k"))
        let dealKey = (try derive("u", "ab", "c"), try derive("u", "a", "bc"))
        #expect(userDeal.0 != userDeal.1)
        #expect(dealKey.0 != dealKey.1)
        await propertyCheck(
            count: 200, input: identifierCharacter.string(of: 2...20), Gen.int(in: 1...19), identifierString
        ) {
            joined, cut, third in
            failOnThrow {
                let split = min(cut, joined.count - 1)
                let head = String(joined.prefix(split))
                let tail = String(joined.dropFirst(split))
                let shifted = String(joined.prefix(split + 1 <= joined.count - 1 ? split + 1 : split - 1))
                let shiftedTail = String(joined.dropFirst(shifted.count))
                guard !shifted.isEmpty, !shiftedTail.isEmpty, shifted != head else { return }
                let a = try derive(head, tail, third)
                let b = try derive(shifted, shiftedTail, third)
                let c = try derive(third, head, tail)
                let d = try derive(third, shifted, shiftedTail)
                #expect(a != b)
                #expect(c != d)
            }
        }
    }
}
