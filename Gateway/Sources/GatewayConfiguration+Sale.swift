import Admission
import Foundation
import Infrastructure

/// The shopper pages' and the operators' settings.
extension GatewayConfiguration {
    static func timeZone(_ name: String, _ source: String) throws -> TimeZone {
        guard let zone = TimeZone(identifier: name) else {
            throw ConfigurationError("\(source): \(name.debugDescription) is not an IANA time zone (e.g. Asia/Seoul)")
        }
        return zone
    }

    /// The `operator` block: the guardrails of operator actions.
    mutating func applyOperator(_ value: Any, _ path: String, _ reader: ConfigReader) throws {
        try reader.section(value, path) { key, value, path in
            switch key {
            case "maxAdmissionRate":
                operatorGuardrails.maxAdmissionRate = try reader.double(value, path, in: 0.01...1_000_000)
            case "maxAdmitAtOnce": operatorGuardrails.maxAdmitAtOnce = try reader.int(value, path, in: 1...1_000_000)
            case "minimumOpeningLeadSeconds":
                operatorGuardrails.minimumOpeningLead = .seconds(try reader.int(value, path, in: 0...86_400))
            default: throw reader.unknown(path)
            }
        }
    }
}
