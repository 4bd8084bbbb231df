public import Infrastructure

/// The order topics (requests, events, dead letters): the contract's names, optionally under a prefix
/// (`FLASHDEAL_TOPIC_PREFIX`, for isolated test runs on a shared broker).
public struct OrderTopics: Sendable, Equatable {
    public var requests: String
    public var events: String
    public var deadLetters: String

    public init(prefix: String = "") {
        requests = prefix + FlashDealTopics.orderRequests
        events = prefix + FlashDealTopics.orderEvents
        deadLetters = prefix + FlashDealTopics.orderRequestsDLQ
    }

    public func specifications(partitions: Int) -> [TopicSpecification] {
        [requests, events, deadLetters].map { TopicSpecification(name: $0, partitions: partitions) }
    }
}
