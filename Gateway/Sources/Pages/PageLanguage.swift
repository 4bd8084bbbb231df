import Foundation

/// The languages the shopper pages speak, and which one a request gets: `?lang=` first, then the
/// `lang` cookie (the switch sets it), then `Accept-Language` by quality; English otherwise.
enum PageLanguage: String, CaseIterable, Sendable {
    case en
    case ko

    static func negotiate(query: String?, cookie: String?, acceptLanguage: String?) -> PageLanguage {
        if let query, let chosen = PageLanguage(rawValue: query.lowercased()) { return chosen }
        if let cookie, let chosen = PageLanguage(rawValue: cookie.lowercased()) { return chosen }
        guard let acceptLanguage else { return .en }
        var best: (language: PageLanguage, quality: Double)?
        for entry in acceptLanguage.split(separator: ",") {
            let parts = entry.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = parts.first?.lowercased(), !tag.isEmpty else { continue }
            let primary = String(tag.split(separator: "-").first ?? "")
            var quality = 1.0
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") {
                quality = Double(parameter.dropFirst(2)) ?? 0
            }
            guard quality > 0, let language = PageLanguage(rawValue: primary) else { continue }
            if best == nil || quality > best!.quality { best = (language, quality) }
        }
        return best?.language ?? .en
    }

    var locale: Locale { Locale(identifier: self == .ko ? "ko_KR" : "en_US") }

    /// The other language, for the switch.
    var other: PageLanguage { self == .ko ? .en : .ko }

    /// The language's own name, for the switch.
    var name: String { self == .ko ? "한국어" : "English" }

    /// `text(key)` in this language; `{name}` placeholders filled from `values`.
    func text(_ key: PageText, _ values: [String: String] = [:]) -> String {
        var s = self == .ko ? key.ko : key.en
        for (name, value) in values { s = s.replacingOccurrences(of: "{\(name)}", with: value) }
        return s
    }

    /// An instant as the shopper reads it (date and time, with the zone), and as a machine does.
    func absolute(_ date: Date, zone: TimeZone) -> String {
        let f = DateFormatter()
        f.locale = locale
        f.timeZone = zone
        f.dateFormat = self == .ko ? "yyyy년 M월 d일 a h:mm:ss (zzz)" : "MMM d, yyyy, h:mm:ss a (zzz)"
        return f.string(from: date)
    }

    /// The time of day (with the zone), for "as of" and deadlines within the hour.
    func clock(_ date: Date, zone: TimeZone) -> String {
        let f = DateFormatter()
        f.locale = locale
        f.timeZone = zone
        f.dateFormat = self == .ko ? "a h:mm:ss (zzz)" : "h:mm:ss a (zzz)"
        return f.string(from: date)
    }

    /// A number of seconds and of minutes, `{n}` marking the number (the pages' script fills them too).
    var secondsTemplate: String { self == .ko ? "{n}초" : "{n} s" }
    var minutesTemplate: String { self == .ko ? "{n}분" : "{n} min" }

    /// A length of time, rounded to whole seconds under two minutes and whole minutes above.
    func duration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds.rounded()))
        if s < 120 { return secondsTemplate.replacingOccurrences(of: "{n}", with: "\(s)") }
        return minutesTemplate.replacingOccurrences(of: "{n}", with: "\(Int((Double(s) / 60).rounded()))")
    }

    /// "in 3 min" / "3분 후" style distance from `now` to `date`, rounded to a readable unit.
    func relative(_ date: Date, from now: Date) -> String {
        let seconds = Int(date.timeIntervalSince(now).rounded())
        let future = seconds >= 0
        let magnitude = abs(seconds)
        let amount: String
        switch (self, magnitude) {
        case (.en, ..<60): amount = "\(magnitude) s"
        case (.en, ..<3_600): amount = "\(magnitude / 60) min"
        case (.en, ..<86_400): amount = "\(magnitude / 3_600) h \(magnitude % 3_600 / 60) min"
        case (.en, _): amount = "\(magnitude / 86_400) d"
        case (.ko, ..<60): amount = "\(magnitude)초"
        case (.ko, ..<3_600): amount = "\(magnitude / 60)분"
        case (.ko, ..<86_400): amount = "\(magnitude / 3_600)시간 \(magnitude % 3_600 / 60)분"
        case (.ko, _): amount = "\(magnitude / 86_400)일"
        }
        return text(future ? .inFuture : .inPast, ["amount": amount])
    }
}
