import Admission
import Foundation
import Testing

@testable import Gateway

/// How often the gateway tells a shopper in line to poll (`pollAfterMs`).
@Suite struct PollIntervalTests {
    func pollAfter(_ status: AdmissionStatus) -> Int? {
        GatewaySchema.admissionObject(status, ticket: "t", deal: "d", alreadyJoined: false, now: Date())["pollAfterMs"]
            as? Int
    }

    @Test func aQuarterOfTheETABetweenAQuarterSecondAndTenSeconds() {
        #expect(pollAfter(.waiting(position: 1, ratePerSecond: 100, eta: .milliseconds(10))) == 250)
        #expect(pollAfter(.waiting(position: 800, ratePerSecond: 100, eta: .seconds(8))) == 2_000)
        #expect(pollAfter(.waiting(position: 90_000, ratePerSecond: 100, eta: .seconds(900))) == 10_000)
    }

    /// A stalled room (no admission measured) must not make a long line poll twice a second.
    @Test func withNoAdmissionMeasuredThePlaceStandsInForTheETA() {
        #expect(pollAfter(.waiting(position: 1, ratePerSecond: 0, eta: nil)) == 250)
        #expect(pollAfter(.waiting(position: 12, ratePerSecond: 0, eta: nil)) == 3_000)
        #expect(pollAfter(.waiting(position: 100_000, ratePerSecond: 0, eta: nil)) == 10_000)
    }
}
