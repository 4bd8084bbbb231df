import Foundation
import Infrastructure
import TestSupport
import Testing

extension StackTests {
    @Suite("Kafka consumer lag against the real broker")
    struct KafkaLagTests {
        let brokers: String

        init() throws { brokers = try TestStack.endpoints().kafkaBrokers }

        func topic(partitions: Int) async throws -> String {
            let name = TestStack.uniqueName("test.lag")
            try await KafkaAdmin(brokers: brokers).createTopics([TopicSpecification(name: name, partitions: partitions)]
            )
            return name
        }

        /// Produces `count` messages spread over the topic's partitions and returns how many went to each.
        func produce(_ count: Int, to topic: String) async throws -> [Int32: Int64] {
            let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(brokers: brokers))
            var perPartition: [Int32: Int64] = [:]
            for i in 0..<count {
                let ack = try await producer.send(topic: topic, key: "order-\(i)", value: "m\(i)")
                perPartition[ack.partition, default: 0] += 1
            }
            await producer.close()
            return perPartition
        }

        /// Reads the lag until it equals `expected` (commits reach the coordinator asynchronously).
        func expectLag(
            _ reader: KafkaConsumerLag, _ expected: ConsumerLag,
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws {
            var last: ConsumerLag?
            do {
                _ = try await eventually(timeout: .seconds(20)) {
                    let lag = try await reader.lag(timeout: .seconds(5))
                    last = lag
                    guard lag == expected else { throw LagMismatch() }
                }
            } catch is LagMismatch {
                Issue.record("lag is \(String(describing: last)), expected \(expected)", sourceLocation: sourceLocation)
            }
        }

        struct LagMismatch: Error {}

        @Test func lagIsWhatTheGroupHasNotCommittedAndZeroOnceItCommitsEverything() async throws {
            let partitions = 3
            let total = 60
            let processed = 25
            let name = try await topic(partitions: partitions)
            let group = TestStack.uniqueName("group.lag")
            let reader = try KafkaConsumerLag(brokers: brokers, group: group, topic: name)

            // Empty topic, unknown group: nothing to do.
            let empty = try await reader.lag(timeout: .seconds(5))
            #expect(empty == ConsumerLag(perPartition: [0: 0, 1: 0, 2: 0]))

            let produced = try await produce(total, to: name)
            #expect(produced.values.reduce(0, +) == Int64(total))
            #expect(produced.count == partitions, "keys spread over every partition: \(produced)")
            // No committed offset yet: every partition counts from its low watermark (0 on a fresh topic).
            try await expectLag(reader, ConsumerLag(perPartition: produced.merging([0: 0, 1: 0, 2: 0]) { a, _ in a }))

            let consumer = try KafkaConsumer(
                configuration: KafkaConsumerConfiguration(brokers: brokers, groupID: group),
                topics: [name])
            try await consumer.waitForAssignment()
            var messages: [KafkaMessage] = []
            let deadline = ContinuousClock.now + .seconds(30)
            while messages.count < total && ContinuousClock.now < deadline {
                messages += try await consumer.poll(maxMessages: 1_000, timeout: .milliseconds(200))
            }
            #expect(messages.count == total)

            // Process the first `processed` messages: within each partition they are a prefix.
            let done = Array(messages.prefix(processed))
            try consumer.storeOffsets(done)
            try await consumer.commit()
            var expected = produced
            for (partition, batch) in Dictionary(grouping: done, by: \.partition) {
                expected[partition]! -= Int64(batch.count)
            }
            let partial = ConsumerLag(perPartition: expected)
            #expect(partial.total == Int64(total - processed))
            try await expectLag(reader, partial)

            // The consumer stays in the group while the reader reads: the reader never joined it, so
            // the member keeps every partition (no rebalance was caused).
            #expect(consumer.assignment.count == partitions)

            try consumer.storeOffsets(messages)
            try await consumer.commit()
            try await expectLag(reader, ConsumerLag(perPartition: [0: 0, 1: 0, 2: 0]))
            await consumer.close()

            // New messages after the group caught up are lag again.
            let more = try await produce(7, to: name)
            try await expectLag(reader, ConsumerLag(perPartition: more.merging([0: 0, 1: 0, 2: 0]) { a, _ in a }))
        }

        @Test func anotherGroupsCommitsDoNotCount() async throws {
            let name = try await topic(partitions: 2)
            _ = try await produce(10, to: name)
            let busy = TestStack.uniqueName("group.busy")
            let idle = TestStack.uniqueName("group.idle")
            let consumer = try KafkaConsumer(
                configuration: KafkaConsumerConfiguration(brokers: brokers, groupID: busy),
                topics: [name])
            try await consumer.waitForAssignment()
            var messages: [KafkaMessage] = []
            let deadline = ContinuousClock.now + .seconds(30)
            while messages.count < 10 && ContinuousClock.now < deadline {
                messages += try await consumer.poll(maxMessages: 100, timeout: .milliseconds(200))
            }
            try consumer.storeOffsets(messages)
            try await consumer.commit()
            await consumer.close()

            try await expectLag(
                try KafkaConsumerLag(brokers: brokers, group: busy, topic: name),
                ConsumerLag(perPartition: [0: 0, 1: 0]))
            let idleLag = try await KafkaConsumerLag(brokers: brokers, group: idle, topic: name).lag(
                timeout: .seconds(5))
            #expect(idleLag.total == 10)
            #expect(idleLag.perPartition.keys.sorted() == [0, 1])
        }

        @Test func batchedMessagesOnTwelvePartitionsAreCountedExactly() async throws {
            // Concurrent sends share record batches; the broker's listed end offsets alone would undercount them.
            let name = try await topic(partitions: 12)
            let producer = try KafkaProducer(
                configuration: KafkaProducerConfiguration(brokers: brokers, linger: .milliseconds(20)))
            let acks = try await withThrowingTaskGroup(of: KafkaDeliveryReport.self) { group in
                for i in 0..<600 {
                    group.addTask { try await producer.send(topic: name, key: "order-\(i)", value: "m\(i)") }
                }
                return try await group.reduce(into: [KafkaDeliveryReport]()) { $0.append($1) }
            }
            await producer.close()
            var expected: [Int32: Int64] = Dictionary(uniqueKeysWithValues: (0..<12).map { (Int32($0), Int64(0)) })
            for ack in acks { expected[ack.partition]! = max(expected[ack.partition]!, ack.offset + 1) }
            #expect(expected.values.reduce(0, +) == 600)

            let reader = try KafkaConsumerLag(
                brokers: brokers, group: TestStack.uniqueName("group.batched"), topic: name)
            let started = ContinuousClock.now
            let lag = try await reader.lag(timeout: .seconds(5))
            let took = ContinuousClock.now - started
            #expect(lag == ConsumerLag(perPartition: expected))
            #expect(lag.total == 600)
            // Read twice more: repeated reads of an idle topic answer the same, promptly.
            for _ in 0..<2 { #expect(try await reader.lag(timeout: .seconds(5)) == lag) }
            #expect(took < .seconds(3), "one read of 12 partitions took \(took)")
        }

        @Test func aTopicThatDoesNotExistIsAnError() async throws {
            let reader = try KafkaConsumerLag(
                brokers: brokers, group: TestStack.uniqueName("group"),
                topic: TestStack.uniqueName("test.missing"))
            do {
                let lag = try await reader.lag(timeout: .seconds(5))
                Issue.record("read a lag of \(lag) for a topic that does not exist")
            } catch let error as KafkaError {
                #expect(error.code == .admin)
                #expect(error.isRetryable)
            }
        }

        @Test func aBrokerThatDoesNotAnswerFailsWithinTheTimeout() async throws {
            // Nothing listens on port 1: the reader must give up within its budget, retryably.
            let reader = try KafkaConsumerLag(brokers: "127.0.0.1:1", group: "g", topic: "t")
            let started = ContinuousClock.now
            do {
                let lag = try await reader.lag(timeout: .milliseconds(800))
                Issue.record("read a lag of \(lag) from no broker")
            } catch let error as KafkaError {
                #expect(error.code == .brokerUnavailable)
                #expect(error.isRetryable)
            }
            #expect(ContinuousClock.now - started < .seconds(3))
        }
    }
}
