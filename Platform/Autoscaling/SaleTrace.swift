import Foundation

/// Shoppers arriving at a sale, per second: the demand the simulator replays.
public struct SaleTrace: Sendable, Equatable {
    public var name: String
    /// Shoppers arriving in each second (they join the waiting room).
    public var arrivals: [Double]
    /// The second the sale opens (admission starts; earlier arrivals wait in the pre-queue).
    public var openAt: Int

    public init(name: String, arrivals: [Double], openAt: Int) {
        self.name = name
        self.arrivals = arrivals
        self.openAt = openAt
    }

    /// Every arrival multiplied by `factor` (a recorded sale replayed at another size).
    public func scaled(by factor: Double) -> SaleTrace {
        SaleTrace(
            name: factor == 1 ? name : "\(name) ×\(Self.number(factor))", arrivals: arrivals.map { $0 * factor },
            openAt: openAt)
    }

    /// The trace with `seconds` of `perSecond` arrivals added before it (the time before a recorded
    /// sale, so that a pre-scale window that opens earlier can be seen).
    public func padded(before seconds: Int, perSecond: Double) -> SaleTrace {
        SaleTrace(
            name: name, arrivals: Array(repeating: perSecond, count: seconds) + arrivals, openAt: openAt + seconds)
    }

    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    // MARK: Synthetic

    /// `base` shoppers/s until the opening, `base × multiplier` at the opening, decaying back to
    /// `base` with time constant `decaySeconds`; `before` seconds before the opening, `after` after.
    public static func synthetic(
        base: Double, multiplier: Double, decaySeconds: Double, before: Int, after: Int
    ) throws(Invalid) -> SaleTrace {
        guard base >= 0, multiplier >= 1, decaySeconds > 0, before >= 0, after > 0 else {
            throw Invalid("synthetic trace: base ≥ 0, multiplier ≥ 1, decay > 0, before ≥ 0 and after > 0")
        }
        let arrivals = (0..<(before + after)).map { t -> Double in
            guard t >= before else { return base }
            return base + base * (multiplier - 1) * exp(-Double(t - before) / decaySeconds)
        }
        return SaleTrace(
            name: "synthetic \(number(base))/s → ×\(number(multiplier)), decay \(number(decaySeconds)) s",
            arrivals: arrivals, openAt: before)
    }

    /// `synthetic:base=20,x=100,decay=180,before=1200,after=2400` (each key optional, these the
    /// defaults: 20 shoppers/s join the pre-queue for 20 minutes, 2,000/s at the opening).
    public static func synthetic(spec: String) throws(Invalid) -> SaleTrace {
        var values = ["base": 20.0, "x": 100.0, "decay": 180.0, "before": 1_200.0, "after": 2_400.0]
        let body = spec.hasPrefix("synthetic:") ? String(spec.dropFirst("synthetic:".count)) : ""
        for pair in body.split(separator: ",") where !pair.isEmpty {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, values[kv[0]] != nil, let v = Double(kv[1]) else {
                throw Invalid("synthetic trace: \(pair.debugDescription) (keys: base, x, decay, before, after)")
            }
            values[kv[0]] = v
        }
        return try synthetic(
            base: values["base"]!, multiplier: values["x"]!, decaySeconds: values["decay"]!,
            before: Int(values["before"]!), after: Int(values["after"]!))
    }

    // MARK: Recorded

    /// A request trace (`policies/traces/*.jsonl`: one JSON object per request, `t` seconds and `op`):
    /// its `joinWaitingRoom` requests per second are the arrivals; the opening is the first second
    /// with at least half the busiest second's.
    public static func requests(jsonl: String, name: String) throws(Invalid) -> SaleTrace {
        var perSecond: [Int: Double] = [:]
        for (number, line) in jsonl.split(separator: "\n").enumerated() where !line.isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let t = (object["t"] as? NSNumber)?.doubleValue
            else { throw Invalid("\(name), line \(number + 1): not a request ({\"t\": seconds, \"op\": …})") }
            if object["op"] as? String == "joinWaitingRoom" { perSecond[Int(t), default: 0] += 1 }
        }
        return try fromCounts(perSecond, name: name)
    }

    /// `make demo`'s `samples.jsonl` (one scrape of the gateway's metrics per line, `t` unix
    /// seconds): the increase of `flashdeal_waitingroom_joins_total` per second; the opening is the
    /// first second with at least half the busiest second's joins.
    public static func demoSamples(jsonl: String, name: String) throws(Invalid) -> SaleTrace {
        var points: [(t: Double, joins: Double)] = []
        for (number, line) in jsonl.split(separator: "\n").enumerated() where !line.isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let t = (object["t"] as? NSNumber)?.doubleValue
            else { throw Invalid("\(name), line \(number + 1): not a sample ({\"t\": …, \"gateway\": {…}})") }
            guard let gateway = object["gateway"] as? [String: Any] else { continue }
            let joins = gateway.reduce(0.0) { sum, entry in
                entry.key.hasPrefix("flashdeal_waitingroom_joins_total")
                    ? sum + ((entry.value as? NSNumber)?.doubleValue ?? 0) : sum
            }
            points.append((t, joins))
        }
        guard let first = points.first else { throw Invalid("\(name): no gateway sample") }
        var perSecond: [Int: Double] = [:]
        for (previous, next) in zip(points, points.dropFirst()) {
            // A counter that went down was reset (a gateway restarted): count from zero again.
            let increase = next.joins >= previous.joins ? next.joins - previous.joins : next.joins
            perSecond[Int(next.t - first.t), default: 0] += increase
        }
        return try fromCounts(perSecond, name: name)
    }

    static func fromCounts(_ perSecond: [Int: Double], name: String) throws(Invalid) -> SaleTrace {
        guard let last = perSecond.keys.max(), let peak = perSecond.values.max(), peak > 0 else {
            throw Invalid("\(name): no shopper joined a waiting room")
        }
        let arrivals = (0...last).map { perSecond[$0] ?? 0 }
        let openAt = arrivals.firstIndex { $0 >= peak / 2 } ?? 0
        return SaleTrace(name: name, arrivals: arrivals, openAt: openAt)
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }
}
