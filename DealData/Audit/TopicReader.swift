import DealData
import Domain
import Foundation
public import Infrastructure
public import Logging

/// Reads whole topics from the beginning with a throw-away consumer group, for the oracle. It keeps
/// its position, so calling ``catchUp(idle:)`` again reads only what arrived since.
public final class TopicReader: Sendable {
    private let consumer: KafkaConsumer

    public init(brokers: String, topics: [String], logger: Logger) throws {
        consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                brokers: brokers, groupID: "flashdeal-audit-\(UUID().uuidString.lowercased())",
                autoOffsetReset: "earliest", clientID: "flashdeal-audit",
                additional: ["enable.auto.commit": "false"]),
            topics: topics, logger: logger)
    }

    /// Messages that arrived since the last call, read until none came for `idle` (the local broker's
    /// high watermark is not reliable, so "caught up" means "quiet").
    public func catchUp(idle: Duration = .seconds(2)) async throws -> [KafkaMessage] {
        if consumer.assignment.isEmpty { try await consumer.waitForAssignment(timeout: .seconds(60)) }
        var messages: [KafkaMessage] = []
        var quietSince = ContinuousClock.now
        while ContinuousClock.now - quietSince < idle {
            let batch = try await consumer.poll(maxMessages: 5_000, timeout: .milliseconds(200))
            if !batch.isEmpty {
                messages += batch
                quietSince = ContinuousClock.now
            }
        }
        return messages
    }

    public func close() async {
        await consumer.close()
    }
}
