import Admission
import DealData
import Domain
import Foundation
import Infrastructure
import TestSupport
import Testing

extension StackTests {
    /// Operators' controls as the live pacing step obeys them, on Redis time, from several callers.
    @Suite("Operator controls in the live pacing step", .timeLimit(.minutes(3)))
    struct SaleControlPacingTests {
        let pacing = PacingTests()

        @Test func anOperatorsRateReplacesTheConfiguredOneAndStillFollowsTheLag() async throws {
            let h = try await AdmissionHarness()
            let room = h.room(AdmissionHarness.settings(rate: 1_000, burst: 2))
            let (deal, _) = try await pacing.crowd(h, room, 300)
            let control = SaleControlStore(redis: h.redis)
            let guardrails = OperatorGuardrails()
            _ = try await control.apply(.setAdmissionRate(20), to: deal.id, now: Date(), guardrails: guardrails)
            let run = try await pacing.pace(h, room, deal.id, for: .milliseconds(2_000))
            // 20/s instead of 1,000/s: the bucket starts with its burst of 2.
            let ceiling = 2 + 20 * run.seconds
            #expect(Double(run.admitted) <= ceiling + 1, "admitted \(run.admitted) in \(run.seconds) s")
            #expect(Double(run.admitted) >= ceiling * 0.9 - 2, "admitted \(run.admitted) in \(run.seconds) s")

            // Half the pace under lag: the operator's rate is scaled like the configured one.
            let halved = try await pacing.pace(h, room, deal.id, lagFactor: 0.5, for: .milliseconds(2_000))
            #expect(Double(halved.admitted) <= 2 + 10 * halved.seconds + 1, "admitted \(halved.admitted)")

            _ = try await control.apply(.setAdmissionRate(nil), to: deal.id, now: Date(), guardrails: guardrails)
            let back = try await pacing.pace(h, room, deal.id, for: .milliseconds(300))
            #expect(back.admitted > 20, "back at the configured 1,000/s: \(back.admitted) in \(back.seconds) s")
        }

        @Test func aPausedRoomAdmitsOnlyWhatOperatorsGrantAndKeepsEveryPlace() async throws {
            let h = try await AdmissionHarness()
            let room = h.room(AdmissionHarness.settings(rate: 1_000, burst: 1_000))
            let (deal, tickets) = try await pacing.crowd(h, room, 50)
            let control = SaleControlStore(redis: h.redis)
            let guardrails = OperatorGuardrails()
            _ = try await control.apply(.pause, to: deal.id, now: Date(), guardrails: guardrails)
            let paused = try await pacing.pace(h, room, deal.id, for: .milliseconds(500))
            #expect(paused.admitted == 0)
            var positions: [Int] = []
            for ticket in tickets {
                guard
                    case .paused(let position) = try await room.status(
                        ticket: ticket.ticketId, deal: deal.id, user: ticket.userId)
                else {
                    Issue.record("a shopper in a paused line sees the pause")
                    return
                }
                positions.append(position)
            }
            #expect(positions.sorted() == Array(1...50), "every place kept")

            let granted = try await control.apply(.admit(7), to: deal.id, now: Date(), guardrails: guardrails)
            #expect(granted.after.pendingAdmissions == 7)
            let step = try await pacing.pace(h, room, deal.id, for: .milliseconds(300))
            #expect(step.admitted == 7, "exactly the grant while paused")
            #expect(try await control.control(of: deal.id)?.pendingAdmissions == 0)

            _ = try await control.apply(.resume, to: deal.id, now: Date(), guardrails: guardrails)
            let resumed = try await pacing.pace(h, room, deal.id, for: .milliseconds(300))
            #expect(resumed.admitted == 43, "the rest of the line once resumed")
        }
    }
}
