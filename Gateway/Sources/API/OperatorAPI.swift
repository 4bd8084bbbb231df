public import Admission
public import DealData
public import Domain
import Foundation
public import Logging

/// What SREs do to a running sale, independent of GraphQL: pause and resume admission, set the
/// admission rate, admit N now, close the line or mark the deal sold out, move the opening. Every
/// call needs the operator role; every action needs a reason, may be previewed (`dryRun`: before →
/// after, nothing written), and is recorded in the audit before it is carried out, then completed
/// with its outcome. An action with no audit record is not carried out.
public final class OperatorAPI: Sendable {
    public struct Outcome: Sendable, Equatable {
        public var change: SaleControlChange
        /// `false` for a preview.
        public var applied: Bool
        /// The audit entry (`nil` for a preview).
        public var auditId: String?
    }

    static let maximumReasonLength = 500

    let control: any SaleControlling
    let audit: any OperatorAuditing
    let catalog: any CatalogWriting
    let instance: String
    let guardrails: OperatorGuardrails
    let clock: any WallClock
    let logger: Logger

    public init(
        ports: OperatorPorts, guardrails: OperatorGuardrails, clock: any WallClock = SystemClock(),
        logger: Logger = Logger(label: "flashdeal.gateway.operator")
    ) {
        control = ports.control
        audit = ports.audit
        catalog = ports.catalog
        instance = ports.instance
        self.guardrails = guardrails
        self.clock = clock
        self.logger = logger
    }

    /// The deal's controls.
    public func saleControl(deal rawDeal: String, _ context: CallContext) async throws(APIError) -> SaleControl {
        _ = try context.requireOperator()
        return try await current(try ShopperAPI.dealID(rawDeal))
    }

    private func current(_ deal: DealID) async throws(APIError) -> SaleControl {
        let current: SaleControl?
        do { current = try await control.control(of: deal) } catch { throw unavailable("the hot store", error) }
        guard let current else { throw APIError(.notFound, "no deal \(deal)") }
        return current
    }

    /// The latest audit entries, newest first (one deal's, or every deal's).
    public func auditEntries(deal: String?, limit: Int, _ context: CallContext) async throws(APIError)
        -> [OperatorAuditEntry]
    {
        _ = try context.requireOperator()
        do { return try await audit.entries(deal: deal, limit: max(1, min(limit, 1_000))) } catch {
            throw unavailable("the audit", error)
        }
    }

    /// Previews or carries out one action.
    public func operate(
        deal rawDeal: String, action name: String, value: String?, reason rawReason: String, dryRun: Bool,
        _ context: CallContext
    ) async throws(APIError) -> Outcome {
        let actor = try context.requireOperator()
        let deal = try ShopperAPI.dealID(rawDeal)
        let reason = rawReason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.count <= Self.maximumReasonLength else {
            throw APIError(.badRequest, "every action needs a reason of 1 to \(Self.maximumReasonLength) characters")
        }
        let action: OperatorAction
        do { action = try OperatorAction.parse(name, value: value) } catch { throw Self.refused(error) }
        let now = clock.now
        let before = try await current(deal)
        let expected: SaleControl
        do { expected = try before.applying(action, now: now, guardrails: guardrails) } catch {
            throw Self.refused(error)
        }
        if dryRun { return Outcome(change: SaleControlChange(before: before, after: expected), applied: false) }

        let entry = OperatorAuditEntry(
            id: "aud_" + UUID().uuidString.lowercased(), at: now, actor: actor.rawValue, dealId: deal.rawValue,
            action: action.name, value: value, reason: reason, outcome: .requested,
            before: Self.fields(before), after: Self.fields(expected), gateway: instance)
        do { try await audit.record(entry) } catch {
            throw unavailable("the audit (no action is carried out without its record)", error)
        }
        var restore: Deal?
        do {
            if case .moveOpening = action { restore = try await moveCatalogWindow(deal, to: expected) }
            let change = try await control.apply(action, to: deal, now: now, guardrails: guardrails)
            await complete(entry, .applied, nil, change.before, change.after)
            logger.notice(
                "operator action applied",
                metadata: [
                    "deal": "\(deal)", "action": "\(action.name)", "value": "\(value ?? "")", "actor": "\(actor)",
                    "reason": "\(reason)", "audit": "\(entry.id)",
                ])
            return Outcome(change: change, applied: true, auditId: entry.id)
        } catch {
            if let restore { try? await catalog.upsert(restore) }
            let refusal = error as? SaleControlRefusal
            await complete(entry, refusal == nil ? .failed : .refused, "\(error)", before, before)
            if let refusal { throw Self.refused(refusal) }
            throw unavailable("the sale's stores", error)
        }
    }

    /// The catalog is the system of record of the window (a Redis rebuild reads it): it moves first,
    /// and back should Redis refuse. Returns the deal as it was.
    private func moveCatalogWindow(_ deal: DealID, to expected: SaleControl) async throws -> Deal {
        guard let stored = try await catalog.deal(deal) else {
            throw SaleControlRefusal(.unknownDeal, "no deal \(deal) in the catalog")
        }
        try await catalog.upsert(
            try Deal(
                id: stored.id, productId: stored.productId, title: stored.title, price: stored.price,
                startsAt: expected.startsAt, endsAt: expected.endsAt, totalStock: stored.totalStock,
                perCustomerLimit: stored.perCustomerLimit, paymentWindow: stored.paymentWindow))
        return stored
    }

    private func complete(
        _ entry: OperatorAuditEntry, _ outcome: OperatorAuditEntry.Outcome, _ detail: String?, _ before: SaleControl,
        _ after: SaleControl
    ) async {
        do {
            try await audit.complete(
                entry.id, outcome: outcome, detail: detail, before: Self.fields(before), after: Self.fields(after))
        } catch {
            // The entry stays `requested`: the audit says the outcome is unknown, never a wrong one.
            logger.error(
                "operator audit entry not completed", metadata: ["audit": "\(entry.id)", "error": "\(error)"])
        }
    }

    /// The controls as the audit keeps them.
    static func fields(_ control: SaleControl) -> [String: String] {
        var fields = [
            "paused": String(control.paused), "pendingAdmissions": String(control.pendingAdmissions),
            "startsAt": Timestamp.format(control.startsAt), "endsAt": Timestamp.format(control.endsAt),
        ]
        if let rate = control.admissionRateOverride { fields["admissionRateOverride"] = String(rate) }
        if let closure = control.closure { fields["closure"] = closure.rawValue }
        return fields
    }

    static func refused(_ refusal: SaleControlRefusal) -> APIError {
        switch refusal.code {
        case .unknownDeal: APIError(.notFound, refusal.message)
        case .invalid, .opened: APIError(.actionRefused, refusal.message, details: ["reason": refusal.code.rawValue])
        }
    }

    func unavailable(_ what: String, _ error: any Error) -> APIError {
        ShopperAPI.unavailable(what, error, logger: logger)
    }
}
