import Foundation
import Infrastructure

/// The shopper pages' settings.
extension GatewayConfiguration {
    static func timeZone(_ name: String, _ source: String) throws -> TimeZone {
        guard let zone = TimeZone(identifier: name) else {
            throw ConfigurationError("\(source): \(name.debugDescription) is not an IANA time zone (e.g. Asia/Seoul)")
        }
        return zone
    }
}
