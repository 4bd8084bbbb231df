import Domain

extension SimulationReport {
    /// The per-policy table and outcome summary; with `timeline`, the per-second table too.
    public func rendered(policySet: PolicySet, traceName: String, timeline includeTimeline: Bool = false) -> String {
        var out: [String] = []
        let span = (lastTime ?? 0) - (firstTime ?? 0)
        out.append("Simulated \(grouped(totals.offered)) requests over \(formatSeconds(span)) s from \(traceName)")
        out.append("against \(policySet.source) (version \(policySet.digest), \(policySet.policies.count) policies)")
        out.append("")

        var table = TextTable(
            leftAligned: 3, "POLICY", "KEY", "ACTION", "MATCHED", "IDS", "ALLOWED", "LIMITED", "QUEUED", "SHADOW",
            "NOT CHARGED")
        for policy in policies {
            table.add([
                policy.name, policy.key.rawValue, policy.action.rawValue, grouped(policy.matched),
                grouped(policy.identities), grouped(policy.allowed), grouped(policy.limited),
                grouped(policy.queued), grouped(policy.shadow), grouped(policy.notCharged),
            ])
        }
        out.append(table.rendered)
        out.append("")

        var outcomes = TextTable("OUTCOME", "REQUESTS", "SHARE")
        outcomes.add(["allowed", grouped(totals.allowed), percent(totals.allowed, of: totals.offered)])
        outcomes.add(["limited (429)", grouped(totals.limited), percent(totals.limited, of: totals.offered)])
        outcomes.add(["queued", grouped(totals.queued), percent(totals.queued, of: totals.offered)])
        outcomes.add(["total", grouped(totals.offered), percent(totals.offered, of: totals.offered)])
        out.append(outcomes.rendered)
        out.append(
            "shadow policies would have limited \(grouped(totals.shadow)) of them; "
                + "\(grouped(unmatched)) matched no policy")

        if includeTimeline {
            out.append("")
            var seconds = TextTable("SECOND", "OFFERED", "ALLOWED", "LIMITED", "QUEUED", "SHADOW")
            for second in timeline {
                let o = second.outcomes
                seconds.add([
                    String(second.second), grouped(o.offered), grouped(o.allowed), grouped(o.limited),
                    grouped(o.queued), grouped(o.shadow),
                ])
            }
            out.append(seconds.rendered)
        }
        return out.joined(separator: "\n")
    }

    private func formatSeconds(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
