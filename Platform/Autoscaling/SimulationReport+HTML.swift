import Foundation

/// The report as one self-contained HTML page: a summary table, then per configuration four charts
/// (inline SVG, no script) — replicas, arrivals and admission, the line and its wait, the lag.
extension SimulationReport {
    public var html: String {
        var body = """
            <h1>Autoscaling simulation</h1>
            <p>Trace: \(escape(trace)). Manifests: \(sources.map { "<code>\(escape($0))</code>" }.joined(separator: ", ")).
            Times are minutes from the opening (dashed line).</p>
            <table><thead><tr><th>configuration</th><th>verdict</th></tr></thead><tbody>
            """
        for r in results {
            body += "<tr><th scope=\"row\">\(escape(r.configuration))</th><td>\(escape(r.verdict.line))</td></tr>\n"
        }
        body += "</tbody></table>\n"
        for (index, r) in results.enumerated() {
            body += "<section aria-labelledby=\"c\(index)\"><h2 id=\"c\(index)\">\(escape(r.configuration))</h2>\n"
            body += "<div class=\"charts\">\n"
            body += chart(
                "Replicas: desired and Ready", r,
                [
                    Series("gateways desired", "#9ecae1", dashed: true) { Double($0.gatewayDesired) },
                    Series("gateways Ready", "#08519c") { Double($0.gatewayReady) },
                    Series("workers desired", "#fdae6b", dashed: true) { Double($0.workerDesired) },
                    Series("workers Ready", "#a63603") { Double($0.workerReady) },
                ])
            body += chart(
                "Shoppers per second: arriving, admitted, and what the Ready gateways could admit", r,
                [
                    Series("arrivals", "#756bb1") { $0.arrivals },
                    Series("admitted", "#31a354") { $0.admitted },
                    Series("capacity (shoppers/s)", "#636363", dashed: true) {
                        $0.gatewayCapacity / r.model.requestsPerAdmitted
                    },
                ])
            body += chart(
                "The line: shoppers waiting, and the wait of those admitted (s)", r,
                [
                    Series("waiting", "#3182bd") { $0.waiting },
                    Series("wait p50 (s)", "#74c476", axis: .right) { $0.waitP50 ?? 0 },
                    Series("wait p95 (s)", "#006d2c", axis: .right) { $0.waitP95 ?? 0 },
                ])
            body += chart(
                "Orders: lag of the order-requests group, and what the Ready workers drain per second", r,
                [
                    Series("lag (orders)", "#de2d26") { $0.lag },
                    Series("worker capacity (orders/s)", "#636363", dashed: true, axis: .right) { $0.workerCapacity },
                ])
            body += "</div></section>\n"
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Autoscaling simulation — Flash Deal</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>
            body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1a1a1a;max-width:1400px}
            table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
            .charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:1rem}
            figure{margin:0}figcaption{font-weight:600;margin-bottom:.25rem}svg{width:100%;height:auto;background:#fafafa}
            .legend{font-size:13px}.legend span{margin-right:1rem;white-space:nowrap}
            .legend i{display:inline-block;width:1.2rem;height:.25rem;vertical-align:middle;margin-right:.3rem}
            </style></head><body>
            \(body)
            </body></html>

            """
    }

    struct Series {
        enum Axis { case left, right }
        var name: String
        var color: String
        var dashed = false
        var axis = Axis.left
        var value: (SecondSample) -> Double

        init(
            _ name: String, _ color: String, dashed: Bool = false, axis: Axis = .left,
            value: @escaping (SecondSample) -> Double
        ) {
            self.name = name
            self.color = color
            self.dashed = dashed
            self.axis = axis
            self.value = value
        }
    }

    /// One line chart of `series` over every second of `result`, the largest value of each bucket
    /// kept when seconds outnumber pixels (peaks stay visible).
    func chart(_ title: String, _ result: SimulationResult, _ series: [Series]) -> String {
        let width = 640.0
        let height = 240.0
        let left = 56.0
        let right = 56.0
        let top = 12.0
        let bottom = 28.0
        let samples = result.samples
        guard samples.count > 1 else { return "" }
        let plotW = width - left - right
        let plotH = height - top - bottom
        let buckets = min(samples.count, Int(plotW))
        func maximum(_ axis: Series.Axis) -> Double {
            let values = series.filter { $0.axis == axis }.flatMap { s in samples.map(s.value) }
            return Self.niceCeiling(values.max() ?? 0)
        }
        let maxLeft = maximum(.left)
        let maxRight = maximum(.right)
        let x = { (i: Int) in left + plotW * Double(i) / Double(samples.count - 1) }
        var svg = """
            <figure><figcaption>\(escape(title))</figcaption>
            <svg viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-label="\(escape(title))">

            """
        for tick in 0...4 {
            let y = top + plotH * (1 - Double(tick) / 4)
            svg += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(y)\" y2=\"\(y)\" stroke=\"#e0e0e0\"/>"
            svg +=
                "<text x=\"\(left - 4)\" y=\"\(y + 4)\" font-size=\"11\" text-anchor=\"end\">\(Self.short(maxLeft * Double(tick) / 4))</text>"
            if series.contains(where: { $0.axis == .right }) {
                svg +=
                    "<text x=\"\(width - right + 4)\" y=\"\(y + 4)\" font-size=\"11\">\(Self.short(maxRight * Double(tick) / 4))</text>"
            }
            svg += "\n"
        }
        let first = samples[0].second - result.openAt
        let last = samples[samples.count - 1].second - result.openAt
        let spanMinutes = Double(last - first) / 60
        let step = ([1, 2, 5, 10, 15, 30, 60].first { spanMinutes / Double($0) <= 10 } ?? 120) * 60
        var minute = (first / step) * step
        while minute <= last {
            if minute >= first {
                let px = x(minute - first)
                svg +=
                    "<text x=\"\(px)\" y=\"\(height - 8)\" font-size=\"11\" text-anchor=\"middle\">\(minute / 60)</text>"
            }
            minute += step
        }
        let open = x(result.openAt)
        svg +=
            "<line x1=\"\(open)\" x2=\"\(open)\" y1=\"\(top)\" y2=\"\(top + plotH)\" stroke=\"#444\" stroke-dasharray=\"4 3\"/>\n"
        for s in series {
            let scale = s.axis == .left ? maxLeft : maxRight
            var points: [String] = []
            for b in 0..<buckets {
                let lo = b * samples.count / buckets
                let hi = max(lo + 1, (b + 1) * samples.count / buckets)
                let value = samples[lo..<hi].map(s.value).max() ?? 0
                let y = top + plotH * (1 - (scale > 0 ? value / scale : 0))
                points.append("\(Self.coordinate(x(lo))),\(Self.coordinate(y))")
            }
            svg +=
                "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.6\"\(s.dashed ? " stroke-dasharray=\"5 3\"" : "") points=\"\(points.joined(separator: " "))\"/>\n"
        }
        svg += "</svg>\n<div class=\"legend\">"
        for s in series {
            svg +=
                "<span><i style=\"background:\(s.color)\"></i>\(escape(s.name))\(s.axis == .right ? " (right axis)" : "")</span>"
        }
        return svg + "</div></figure>\n"
    }

    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        var magnitude = 1.0
        while magnitude * 10 <= value { magnitude *= 10 }
        for m in [1.0, 2, 2.5, 5, 10] where m * magnitude >= value { return m * magnitude }
        return 10 * magnitude
    }

    static func short(_ value: Double) -> String {
        if value >= 1_000_000 { return fmt(value / 1_000_000, 1) + "M" }
        if value >= 10_000 { return fmt(value / 1_000, 0) + "k" }
        return value == value.rounded() ? String(Int(value)) : fmt(value, 1)
    }

    static func coordinate(_ v: Double) -> String { String(Double(Int(v * 10)) / 10) }

    func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
