/// The Kafka topics of Flash Deal (a contract between the gateway and the order worker).
public enum FlashDealTopics {
    /// Key: orderId. Value: an OrderRequested event.
    public static let orderRequests = "flashdeal.order-requests"
    /// Key: orderId. Values: OrderConfirmed, OrderRejected, OrderFailed, StockReleased.
    public static let orderEvents = "flashdeal.order-events"
    /// Messages the worker cannot parse or validate, with the reason in a header.
    public static let orderRequestsDLQ = "flashdeal.order-requests.dlq"
    /// The order workers' consumer group (the gateway reads its lag to pace admission).
    public static let workerGroup = "flashdeal-order-worker"

    /// The three topics with `partitions` each (default 12, the contract's default).
    public static func specifications(partitions: Int = 12) -> [TopicSpecification] {
        [orderRequests, orderEvents, orderRequestsDLQ].map { TopicSpecification(name: $0, partitions: partitions) }
    }
}
