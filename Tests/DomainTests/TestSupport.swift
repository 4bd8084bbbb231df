import Domain
import Foundation
import PropertyBased
import Testing

/// 2026-11-25T10:00:00.000Z
let referenceMillis: Int64 = 1_795_600_800_000
let reference = Timestamp.date(epochMilliseconds: referenceMillis)

func at(_ offsetSeconds: Double) -> Date { reference.addingTimeInterval(offsetSeconds) }

func user(_ raw: String) throws -> UserID { try UserID(raw) }
func deal(_ raw: String) throws -> DealID { try DealID(raw) }
func key(_ raw: String) throws -> IdempotencyKey { try IdempotencyKey(raw) }

func krw(_ amount: Int64) throws -> Money { Money(amountMinor: amount, currency: try CurrencyCode("KRW")) }

/// A valid deal open from `reference` for one hour; override one field to test a rule.
func makeDeal(
    title: String = "Lunar keyboard", price: Int64 = 129_000, startsAt: Date = reference,
    endsAt: Date = at(3600), totalStock: Int = 10, perCustomerLimit: Int = 2, paymentWindow: Duration? = nil
) throws -> Deal {
    try Deal(
        id: deal("deal-7"), productId: ProductID("prod-1"), title: title, price: krw(price),
        startsAt: startsAt, endsAt: endsAt, totalStock: totalStock, perCustomerLimit: perCustomerLimit,
        paymentWindow: paymentWindow)
}

func makeOrder(quantity: Int = 1, keyRaw: String = "idem-1") throws -> Order {
    try Order.request(
        dealId: deal("deal-7"), userId: user("user-42"), quantity: quantity,
        idempotencyKey: key(keyRaw), at: reference
    ).order
}

// MARK: Generators

let identifierCharacters: [Character] = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")
let identifierCharacter = Gen<Character?>.element(of: identifierCharacters).map { $0! }
let identifierString = identifierCharacter.string(of: 1...16)

/// PropertyBased 2.0.1 silently drops errors thrown out of a property body, so every property
/// body runs inside this wrapper, which records them as failures instead.
func failOnThrow(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
    } catch {
        Issue.record(error, sourceLocation: sourceLocation)
    }
}
