import Domain
import Foundation
import PropertyBased
import Testing

@Suite("Deal")
struct DealTests {
    @Test("a valid deal keeps its fields, with the title trimmed")
    func validDeal() throws {
        let deal = try makeDeal(title: "  Lunar keyboard ")
        #expect(deal.title == "Lunar keyboard")
        #expect(deal.totalStock == 10)
        #expect(deal.perCustomerLimit == 2)
        #expect(deal.price.amountMinor == 129_000)
    }

    @Test("blank title is rejected")
    func emptyTitle() {
        #expect(throws: DealValidationError.emptyTitle) { try makeDeal(title: " \n ") }
    }

    @Test("overlong title is rejected")
    func titleTooLong() {
        #expect(throws: DealValidationError.titleTooLong(length: 201, maximum: 200)) {
            try makeDeal(title: String(repeating: "x", count: 201))
        }
    }

    @Test("negative price is rejected; zero is allowed")
    func negativePrice() throws {
        _ = try makeDeal(price: 0)
        #expect(throws: DealValidationError.negativePrice(-1)) { try makeDeal(price: -1) }
    }

    @Test("non-positive stock is rejected", arguments: [0, -5])
    func nonPositiveStock(stock: Int) {
        #expect(throws: DealValidationError.nonPositiveStock(stock)) { try makeDeal(totalStock: stock) }
    }

    @Test("per-customer limit below one is rejected", arguments: [0, -1])
    func limitBelowOne(limit: Int) {
        #expect(throws: DealValidationError.perCustomerLimitBelowOne(limit)) { try makeDeal(perCustomerLimit: limit) }
    }

    @Test("a payment window is between 1 s and 7 days, kept to the millisecond, and survives JSON")
    func paymentWindow() throws {
        #expect(try makeDeal().paymentWindow == nil)
        let deal = try makeDeal(paymentWindow: .milliseconds(600_000) + .microseconds(400))
        #expect(deal.paymentWindow == .seconds(600))
        let decoded = try JSONDecoder().decode(Deal.self, from: try JSONEncoder().encode(deal))
        #expect(decoded == deal)
        #expect(
            try JSONDecoder().decode(Deal.self, from: try JSONEncoder().encode(try makeDeal())).paymentWindow == nil)
        for bad: Duration in [.zero, .milliseconds(999), .seconds(7 * 24 * 3_600 + 1)] {
            #expect(throws: DealValidationError.self) { try makeDeal(paymentWindow: bad) }
        }
        _ = try makeDeal(paymentWindow: .seconds(1))
        _ = try makeDeal(paymentWindow: .seconds(7 * 24 * 3_600))
    }

    @Test("the window must end after it starts", arguments: [0.0, -1.0])
    func endsNotAfterStart(offset: Double) {
        #expect(throws: DealValidationError.endsNotAfterStart(startsAt: reference, endsAt: at(offset))) {
            try makeDeal(startsAt: reference, endsAt: at(offset))
        }
    }

    @Test("invalid currency codes are rejected", arguments: ["krw", "KR", "KRWW", "K1W", ""])
    func invalidCurrency(code: String) {
        #expect(throws: MoneyError.invalidCurrencyCode(code)) { try CurrencyCode(code) }
    }

    @Test(
        "phase follows the clock and the remaining stock",
        arguments: [
            (-700.0, 5, DealPhase.scheduled), (-600.0, 5, .preQueue), (-1.0, 5, .preQueue), (0.0, 5, .open),
            (10.0, 0, .soldOut), (3599.999, 1, .open), (3600.0, 5, .ended), (4000.0, 0, .ended),
        ])
    func phase(offset: Double, remaining: Int, expected: DealPhase) throws {
        #expect(try makeDeal().phase(at: at(offset), remaining: remaining, preQueueWindow: .seconds(600)) == expected)
    }

    @Test("without a pre-queue window a deal goes straight from scheduled to open")
    func zeroPreQueueWindow() throws {
        let deal = try makeDeal()
        #expect(deal.phase(at: at(-0.001), remaining: 1, preQueueWindow: .zero) == .scheduled)
        #expect(deal.phase(at: reference, remaining: 1, preQueueWindow: .zero) == .open)
    }

    @Test("lifecycle edges: soldOut may reopen, ended is terminal")
    func lifecycle() {
        #expect(DealPhase.scheduled.canTransition(to: .preQueue))
        #expect(DealPhase.preQueue.canTransition(to: .open))
        #expect(DealPhase.open.canTransition(to: .soldOut))
        #expect(DealPhase.soldOut.canTransition(to: .open))
        #expect(DealPhase.soldOut.canTransition(to: .ended))
        #expect(!DealPhase.open.canTransition(to: .scheduled))
        #expect(DealPhase.ended.successors.isEmpty && DealPhase.ended.isTerminal)
        #expect(!DealPhase.ended.canReach(.open))
        #expect(DealPhase.scheduled.canReach(.ended))
    }

    @Test("observed phases never run against the lifecycle as time moves forward")
    func phasesFollowLifecycle() async throws {
        let deal = try makeDeal()
        let step = zip(Gen.int(in: 0...900), Gen.int(in: 0...10))
        await propertyCheck(count: 200, input: Gen.int(in: -2000...(-1)), step.array(of: 1...30)) { start, steps in
            failOnThrow {
                var now = at(Double(start))
                var previous = deal.phase(at: now, remaining: 10, preQueueWindow: .seconds(600))
                for (advance, remaining) in steps {
                    now = now.addingTimeInterval(Double(advance))
                    let next = deal.phase(at: now, remaining: remaining, preQueueWindow: .seconds(600))
                    #expect(previous.canReach(next), "\(previous) → \(next)")
                    previous = next
                }
            }
        }
    }

    @Test("phase changes announce DealOpened and DealSoldOut with stable ids")
    func phaseChangeEvents() throws {
        let deal = try makeDeal()
        let opened = deal.phaseChangeEvents(from: .preQueue, to: .open, at: reference)
        #expect(opened.map(\.type) == [.dealOpened])
        #expect(opened == deal.phaseChangeEvents(from: .preQueue, to: .open, at: reference))
        #expect(deal.phaseChangeEvents(from: .open, to: .soldOut, at: at(5)).map(\.type) == [.dealSoldOut])
        #expect(deal.phaseChangeEvents(from: .soldOut, to: .open, at: at(9)).first?.eventId != opened.first?.eventId)
        #expect(deal.phaseChangeEvents(from: .open, to: .ended, at: at(3600)).isEmpty)
        #expect(deal.phaseChangeEvents(from: .open, to: .open, at: at(1)).isEmpty)
    }

    @Test("JSON round trip re-validates")
    func codable() throws {
        let deal = try makeDeal()
        let data = try JSONEncoder().encode(deal)
        #expect(String(decoding: data, as: UTF8.self).contains("\"startsAt\":\"2026-11-25T10:00:00.000Z\""))
        #expect(try JSONDecoder().decode(Deal.self, from: data) == deal)
        let broken = String(decoding: data, as: UTF8.self).replacingOccurrences(
            of: "\"totalStock\":10", with: "\"totalStock\":0")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Deal.self, from: Data(broken.utf8)) }
    }
}

@Suite("Product")
struct ProductTests {
    @Test("valid product, name trimmed")
    func valid() throws {
        let product = try Product(id: ProductID("prod-1"), name: " Keyboard ", description: "Tenkeyless")
        #expect(product.name == "Keyboard")
        #expect(product.description == "Tenkeyless")
    }

    @Test("validation errors")
    func invalid() throws {
        let id = try ProductID("prod-1")
        #expect(throws: ProductValidationError.emptyName) { try Product(id: id, name: "  ") }
        #expect(throws: ProductValidationError.nameTooLong(length: 201, maximum: 200)) {
            try Product(id: id, name: String(repeating: "n", count: 201))
        }
        #expect(throws: ProductValidationError.descriptionTooLong(length: 2001, maximum: 2000)) {
            try Product(id: id, name: "ok", description: String(repeating: "d", count: 2001))
        }
    }
}
