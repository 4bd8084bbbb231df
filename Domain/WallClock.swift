public import Foundation

/// The time a component decides with: the system's in production, one the test moves in tests.
public protocol WallClock: Sendable {
    var now: Date { get }
}

/// The system clock.
public struct SystemClock: WallClock {
    public init() {}
    public var now: Date { Date() }
}
