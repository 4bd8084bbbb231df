import Credentials
import Domain
import Foundation

/// Seed inputs that need the fuzz targets' own keys or the domain's encoders: tokens and passes
/// signed with the fixtures' keys (random bytes never get past a MAC), and one event of each type.
/// `flashdeal-fuzz seeds DIR` writes them; the committed corpus holds them.
extension FuzzTarget {
    public static func generatedSeeds() async -> [(target: FuzzTarget, name: String, bytes: [UInt8])] {
        var seeds: [(FuzzTarget, String, [UInt8])] = []
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        do {
            let user = try UserID("alice")
            let deal = try DealID("deal-1")
            let issuer = try await ShopperTokenIssuer(
                key: .hs256(secret: secret), issuer: "flashdeal", audience: "flashdeal-gateway",
                lifetime: .seconds(600))
            let token = try await issuer.issue(for: user, at: t0, notBefore: t0)
            seeds.append((.shopperToken, "issued.txt", Array(token.utf8)))
            seeds.append((.shopperToken, "bearer.txt", Array(("Bearer " + token).utf8)))
            let pass = try keyring.makePass(
                passId: try PassID("p-1"), user: user, deal: deal, issuedAt: t0, lifetime: .seconds(120))
            seeds.append((.admissionPass, "pass.txt", Array(try keyring.sign(pass).utf8)))
            let long = try keyring.makePass(
                passId: try PassID("p-2.long:id_x"), user: try UserID("user-with-a-long-name-0001"),
                deal: try DealID("deal.2:b"), issuedAt: t0, lifetime: .seconds(3_600))
            seeds.append((.admissionPass, "pass-long.txt", Array(try keyring.sign(long).utf8)))
            let order = try OrderID("o-1")
            let events: [DomainEvent] = [
                .orderRequested(
                    OrderRequested(
                        eventId: try EventID("e-1"), occurredAt: t0, orderId: order, dealId: deal, userId: user,
                        quantity: 2, idempotencyKey: try IdempotencyKey("k-1"), requestedAt: t0)),
                .orderCancellationRequested(
                    OrderCancellationRequested(
                        eventId: try EventID("e-2"), occurredAt: t0, orderId: order, dealId: deal, userId: user,
                        requestedAt: t0)),
                .dealSoldOut(DealSoldOut(eventId: try EventID("e-3"), occurredAt: t0, dealId: deal)),
                .stockReleased(
                    StockReleased(
                        eventId: try EventID("e-4"), occurredAt: t0, orderId: order, dealId: deal, quantity: 1,
                        reason: StockReleaseReason.allCases[0])),
            ]
            for event in events {
                seeds.append((.eventMessage, "\(event.type.rawValue).json", Array(event.jsonData())))
            }
        } catch {
            fatalError("seeds: \(error)")
        }
        return seeds
    }

    /// Whether a committed token seed is signed with the fixture key (and readable at its time).
    public static func verifies(token: [UInt8]) async -> Bool {
        let verifier = await verifier()
        let text = String(decoding: token, as: UTF8.self)
        return (try? await verifier.verify(bearer: text, at: Date(timeIntervalSince1970: 1_790_000_000))) != nil
    }
}
