/// Names of the events in the catalog; the raw value is the JSON `type` field.
public enum DomainEventType: String, Hashable, Sendable, Codable, CaseIterable {
    case orderRequested = "OrderRequested"
    case stockReserved = "StockReserved"
    case orderConfirmed = "OrderConfirmed"
    case orderRejected = "OrderRejected"
    case orderFailed = "OrderFailed"
    case stockReleased = "StockReleased"
    case dealOpened = "DealOpened"
    case dealSoldOut = "DealSoldOut"
    case orderCancellationRequested = "OrderCancellationRequested"

    /// Version written by this code.
    public static var currentSchemaVersion: Int { 1 }
    /// Versions this code can read.
    public static var supportedSchemaVersions: [Int] { [1] }
}
