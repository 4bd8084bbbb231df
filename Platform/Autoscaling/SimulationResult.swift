/// One configuration's run: every second, and the verdict.
public struct SimulationResult: Sendable {
    public var configuration: String
    public var trace: String
    public var openAt: Int
    public var samples: [SecondSample]
    /// Every admitted shopper's wait in seconds → shoppers.
    public var waits: [Int: Double]
    public var model: SaleModel

    public var verdict: Verdict { Verdict(self) }

    /// The wait below which `q` of the shoppers were admitted (waits weighted by shoppers); nil for none.
    static func percentile(_ waits: [(wait: Int, count: Double)], _ q: Double) -> Int? {
        let total = waits.reduce(0) { $0 + $1.count }
        guard total > 0 else { return nil }
        var seen = 0.0
        for w in waits.sorted(by: { $0.wait < $1.wait }) {
            seen += w.count
            if seen >= q * total - 1e-9 { return w.wait }
        }
        return waits.map(\.wait).max()
    }

    /// The line a configuration is judged by.
    public struct Verdict: Sendable, Equatable {
        /// Seconds after the opening in which the Ready gateways limited admission or shed requests.
        public var secondsUnderCapacity: Int
        /// Seconds in which the lag would take the Ready workers longer than the drain target.
        public var secondsWorkersBehind: Int
        public var peakWaitSeconds: Int
        public var waitP50Seconds: Int
        public var waitP95Seconds: Int
        public var peakWaiting: Double
        public var peakLag: Double
        public var shed: Double
        public var admitted: Double
        public var gatewayPodMinutes: Double
        public var workerPodMinutes: Double
        /// The most pods Ready at once.
        public var peakGatewayReady: Int
        public var peakWorkerReady: Int

        init(_ r: SimulationResult) {
            let after = r.samples.filter { $0.second >= r.openAt }
            secondsUnderCapacity = after.count { $0.gatewayShort || $0.shed > 0 }
            secondsWorkersBehind = r.samples.count { s in
                s.lag > 0.5 && s.lag > max(s.workerCapacity, 0) * r.model.drainTargetSeconds
            }
            peakWaitSeconds = r.waits.filter { $0.value > 1e-6 }.keys.max() ?? 0
            waitP50Seconds = SimulationResult.percentile(r.waits.map { ($0.key, $0.value) }, 0.5) ?? 0
            waitP95Seconds = SimulationResult.percentile(r.waits.map { ($0.key, $0.value) }, 0.95) ?? 0
            peakWaiting = r.samples.map(\.waiting).max() ?? 0
            peakLag = r.samples.map(\.lag).max() ?? 0
            shed = r.samples.reduce(0) { $0 + $1.shed }
            admitted = r.samples.reduce(0) { $0 + $1.admitted }
            gatewayPodMinutes = Double(r.samples.reduce(0) { $0 + $1.gatewayDesired }) / 60
            workerPodMinutes = Double(r.samples.reduce(0) { $0 + $1.workerDesired }) / 60
            peakGatewayReady = r.samples.map(\.gatewayReady).max() ?? 0
            peakWorkerReady = r.samples.map(\.workerReady).max() ?? 0
        }

        /// One line: what an SRE compares configurations by.
        public var line: String {
            let minutes = Double(secondsUnderCapacity) / 60
            return "\(fmt(minutes, 1)) min under capacity, peak wait \(peakWaitSeconds) s "
                + "(p95 \(waitP95Seconds) s), peak lag \(fmt(peakLag, 0)) orders "
                + "(workers behind \(fmt(Double(secondsWorkersBehind) / 60, 1)) min), "
                + "\(fmt(gatewayPodMinutes + workerPodMinutes, 0)) pod-minutes "
                + "(gateway \(fmt(gatewayPodMinutes, 0)), workers \(fmt(workerPodMinutes, 0)))"
        }
    }
}

func fmt(_ value: Double, _ digits: Int) -> String {
    var text = String(Int(value.rounded()))
    if digits > 0 {
        let scale = (0..<digits).reduce(1.0) { r, _ in r * 10 }
        let v = (value * scale).rounded() / scale
        let whole = Int(v.rounded(.towardZero))
        let frac = Int((abs(v - Double(whole)) * scale).rounded())
        text =
            "\(v < 0 && whole == 0 ? "-" : "")\(whole).\(String(repeating: "0", count: max(0, digits - String(frac).count)))\(frac)"
    }
    // Thousands separators for readability.
    guard digits == 0, abs(value) >= 10_000 else { return text }
    var out = ""
    for (i, c) in text.reversed().enumerated() {
        if i > 0 && i % 3 == 0 && c != "-" { out.append(",") }
        out.append(c)
    }
    return String(out.reversed())
}
