public import Foundation
public import Infrastructure

extension RedisClient {
    public struct UnexpectedTime: Error, CustomStringConvertible {
        public let description: String
    }

    /// Redis server time: the clock every Redis function decides with.
    public func serverTime() async throws -> Date {
        let reply = try await send("TIME")
        guard let parts = reply.arrayValue?.compactMap(\.integerValue), parts.count == 2 else {
            throw UnexpectedTime(description: "TIME replied \(reply)")
        }
        return Date(timeIntervalSince1970: Double(parts[0]) + Double(parts[1]) / 1_000_000)
    }

    /// Returns once Redis time has reached `instant` (it is read, not assumed from the test's clock).
    public func waitForServerTime(_ instant: Date) async throws {
        while try await serverTime() < instant {
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
