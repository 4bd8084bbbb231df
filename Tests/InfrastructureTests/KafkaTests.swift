import Foundation
import Infrastructure
import Synchronization
import TestSupport
import Testing

extension StackTests {
    @Suite("Kafka adapter against the real broker")
    struct KafkaTests {
        let brokers: String

        init() throws { brokers = try TestStack.endpoints().kafkaBrokers }

        func topic(partitions: Int) async throws -> String {
            let name = TestStack.uniqueName("test.topic")
            let admin = try KafkaAdmin(brokers: brokers)
            try await admin.createTopics([TopicSpecification(name: name, partitions: partitions)])
            return name
        }

        func consumer(topic: String, group: String) throws -> KafkaConsumer {
            try KafkaConsumer(
                configuration: KafkaConsumerConfiguration(brokers: brokers, groupID: group),
                topics: [topic])
        }

        /// Polls until `count` messages arrived or `timeout` passed.
        func collect(_ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(30)) async throws
            -> [KafkaMessage]
        {
            var messages: [KafkaMessage] = []
            let deadline = ContinuousClock.now + timeout
            while messages.count < count && ContinuousClock.now < deadline {
                messages += try await consumer.poll(maxMessages: 1_000, timeout: .milliseconds(200))
            }
            return messages
        }

        @Test func topicsAreCreatedExplicitlyWithTheirPartitionCount() async throws {
            let admin = try KafkaAdmin(brokers: brokers)
            let name = TestStack.uniqueName("test.created")
            try await admin.createTopics([TopicSpecification(name: name, partitions: 12)])
            // Creating it again is not an error.
            try await admin.createTopics([TopicSpecification(name: name, partitions: 12)])
            let metadata = try await admin.metadata()
            #expect(metadata.brokerCount >= 1)
            #expect(metadata.partitionsByTopic[name] == 12)
        }

        @Test func tenThousandKeyedMessagesWithHeadersAreConsumedExactlyOnce() async throws {
            let name = try await topic(partitions: 6)
            let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(brokers: brokers))
            let reports = try await withThrowingTaskGroup(of: KafkaDeliveryReport.self) { group in
                for i in 0..<10_000 {
                    group.addTask {
                        try await producer.send(
                            topic: name, key: "order-\(i % 500)", value: "{\"n\":\(i)}",
                            headers: [
                                KafkaHeader(name: "traceparent", value: "00-\(i)-01"),
                                KafkaHeader(name: "seq", value: String(i)),
                            ])
                    }
                }
                return try await group.reduce(into: [KafkaDeliveryReport]()) { $0.append($1) }
            }
            await producer.close()
            #expect(reports.count == 10_000)
            #expect(Set(reports.map { "\($0.partition)/\($0.offset)" }).count == 10_000, "acks name distinct offsets")

            let consumer = try consumer(topic: name, group: TestStack.uniqueName("group"))
            try await consumer.waitForAssignment()
            let messages = try await collect(consumer, count: 10_000)
            try consumer.storeOffsets(messages)
            try await consumer.commit()
            // Nothing more arrives: no duplicates hiding behind the first 10,000.
            let extra = try await consumer.poll(maxMessages: 100, timeout: .milliseconds(500))
            await consumer.close()

            #expect(messages.count == 10_000)
            #expect(extra.isEmpty)
            let sequence = messages.compactMap { $0.header("seq").map { Int($0.stringValue) ?? -1 } }
            #expect(Set(sequence) == Set(0..<10_000))
            for message in messages {
                let n = try #require(message.header("seq").flatMap { Int($0.stringValue) })
                #expect(message.keyString == "order-\(n % 500)")
                #expect(message.valueString == "{\"n\":\(n)}")
                #expect(message.header("traceparent")?.stringValue == "00-\(n)-01")
            }
            // One key, one partition: per-key order is possible.
            let partitionsPerKey = Dictionary(grouping: messages, by: { $0.keyString ?? "" })
                .mapValues { Set($0.map(\.partition)).count }
            #expect(partitionsPerKey.values.allSatisfy { $0 == 1 })
        }

        @Test func messagesWhoseOffsetWasNotStoredAreDeliveredAgainAfterARestart() async throws {
            let name = try await topic(partitions: 1)
            let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(brokers: brokers))
            for i in 0..<100 { try await producer.send(topic: name, key: "k\(i)", value: "m\(i)") }
            await producer.close()
            let group = TestStack.uniqueName("group")

            let first = try consumer(topic: name, group: group)
            try await first.waitForAssignment()
            let all = try await collect(first, count: 100)
            #expect(all.count == 100)
            // Only the first 40 were processed; the rest "crashed" before their effects were durable.
            try first.storeOffsets(Array(all.prefix(40)))
            await first.close()

            let second = try consumer(topic: name, group: group)
            try await second.waitForAssignment()
            let again = try await collect(second, count: 60)
            let extra = try await second.poll(maxMessages: 100, timeout: .milliseconds(500))
            try second.storeOffsets(again)
            await second.close()
            #expect(again.map(\.valueString) == (40..<100).map { "m\($0)" })
            #expect(extra.isEmpty)
        }

        /// Static membership (`group.instance.id`, the worker's FLASHDEAL_WORKER_INSTANCE_ID): the broker
        /// admits the member, and the same instance started again resumes from the stored offsets.
        @Test func aStaticMemberConsumesAndTheSameInstanceResumesWhereItStopped() async throws {
            let name = try await topic(partitions: 2)
            let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(brokers: brokers))
            for i in 0..<50 { try await producer.send(topic: name, key: "k\(i)", value: "m\(i)") }
            await producer.close()
            let group = TestStack.uniqueName("group")
            func member() throws -> KafkaConsumer {
                try KafkaConsumer(
                    configuration: KafkaConsumerConfiguration(
                        brokers: brokers, groupID: group, additional: ["group.instance.id": "order-worker-0"]),
                    topics: [name])
            }
            let first = try member()
            try await first.waitForAssignment()
            let all = try await collect(first, count: 50)
            #expect(all.count == 50)
            let kept = all.filter { $0.partition == 0 } + all.filter { $0.partition == 1 }.prefix(5)
            try first.storeOffsets(Array(kept))
            try await first.commit()
            await first.close()

            let again = try member()
            try await again.waitForAssignment()
            let rest = try await collect(again, count: 50 - kept.count)
            let extra = try await again.poll(maxMessages: 100, timeout: .milliseconds(500))
            await again.close()
            #expect(Set(rest.map(\.valueString)) == Set(all.map(\.valueString)).subtracting(kept.map(\.valueString)))
            #expect(extra.isEmpty)
        }

        @Test func pauseStopsDeliveryAndResumeRestartsIt() async throws {
            let name = try await topic(partitions: 2)
            let group = TestStack.uniqueName("group")
            let consumer = try consumer(topic: name, group: group)
            try await consumer.waitForAssignment()
            try consumer.pause()
            #expect(consumer.isPaused)
            let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(brokers: brokers))
            for i in 0..<20 { try await producer.send(topic: name, key: "k\(i)", value: "v\(i)") }
            await producer.close()
            let whilePaused = try await collect(consumer, count: 1, timeout: .seconds(2))
            #expect(whilePaused.isEmpty)
            try consumer.resume()
            let afterResume = try await collect(consumer, count: 20)
            #expect(afterResume.count == 20)
            try consumer.storeOffsets(afterResume)
            await consumer.close()
        }

        @Test func rebalanceSplitsPartitionsBetweenMembersAndLosesNothing() async throws {
            let name = try await topic(partitions: 4)
            let group = TestStack.uniqueName("group")
            let a = try consumer(topic: name, group: group)
            try await a.waitForAssignment()
            #expect(a.assignment.count == 4)
            let b = try consumer(topic: name, group: group)
            // Both members poll while the group rebalances.
            let deadline = ContinuousClock.now + .seconds(30)
            while (a.assignment.count + b.assignment.count != 4 || a.assignment.isEmpty || b.assignment.isEmpty)
                && ContinuousClock.now < deadline
            {
                async let pa = a.poll(maxMessages: 10, timeout: .milliseconds(100))
                async let pb = b.poll(maxMessages: 10, timeout: .milliseconds(100))
                _ = try await (pa, pb)
            }
            #expect(a.assignment.isDisjoint(with: b.assignment))
            #expect(a.assignment.count + b.assignment.count == 4)
            #expect(!a.assignment.isEmpty && !b.assignment.isEmpty)

            let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(brokers: brokers))
            for i in 0..<200 { try await producer.send(topic: name, key: "k\(i)", value: "v\(i)") }
            await producer.close()
            var received: [KafkaMessage] = []
            let until = ContinuousClock.now + .seconds(20)
            while received.count < 200 && ContinuousClock.now < until {
                async let pa = a.poll(maxMessages: 500, timeout: .milliseconds(100))
                async let pb = b.poll(maxMessages: 500, timeout: .milliseconds(100))
                let (ma, mb) = try await (pa, pb)
                try a.storeOffsets(ma)
                try b.storeOffsets(mb)
                received += ma + mb
            }
            await a.close()
            await b.close()
            #expect(Set(received.map(\.valueString)) == Set((0..<200).map { "v\($0)" }))
            #expect(received.count == 200)
        }

        @Test func stoppedBrokerGivesTypedErrorWithinDeliveryTimeoutThenRecovers() async throws {
            let name = try await topic(partitions: 3)
            let producer = try KafkaProducer(
                configuration: KafkaProducerConfiguration(
                    brokers: brokers, deliveryTimeout: .milliseconds(1_500)))
            try await producer.send(topic: name, key: "before", value: "1")

            try TestStack.run("stop", "kafka")
            var restarted = false
            defer { if !restarted { try? TestStack.run("start", "kafka") } }

            let start = ContinuousClock.now
            let error = await #expect(throws: KafkaError.self) {
                try await producer.send(topic: name, key: "during", value: "2")
            }
            let elapsed = ContinuousClock.now - start
            #expect(error?.code == .messageTimedOut)
            #expect(error?.isRetryable == true)
            #expect(elapsed < .milliseconds(1_500 + 1_000), "took \(elapsed)")

            try TestStack.run("start", "kafka")
            restarted = true
            // The same producer, never re-created by the test, delivers again once the broker is back.
            let report = try await eventually {
                try await producer.send(topic: name, key: "after", value: "3")
            }
            #expect(report.offset >= 0)
            await producer.close()
        }

        // MARK: Broker crash

        /// Produces unique keys at a steady pace with the production producer settings, SIGKILLs the
        /// broker (and, when `objectStore`, its S3 server) three times, starting it again at once
        /// each time, keeps producing, then reads the topic back: every message the broker acknowledged
        /// must be there. Duplicates (a retried batch written twice) are allowed: every consumer of
        /// Flash Deal's topics deduplicates.
        func acknowledgedMessagesSurviveABrokerKill(objectStore: Bool) async throws {
            let storage = try String(contentsOfFile: TestStack.root + "/.stack/kafka/storage", encoding: .utf8)
            try #require(
                storage.trimmingCharacters(in: .whitespacesAndNewlines) == "durable",
                "the crash tests need the durable broker (scripts/stack up, FLASHDEAL_KAFKA_STORAGE=durable)")
            let name = try await topic(partitions: 12)
            // The production settings, with a delivery timeout that outlasts the restart.
            let producer = try KafkaProducer(
                configuration: KafkaProducerConfiguration(
                    brokers: brokers, deliveryTimeout: .seconds(60)))
            final class Tally: Sendable {
                let acked = Mutex<Set<String>>([])
                let failed = Mutex<[String]>([])
            }
            let tally = Tally()
            // Whatever happens, the broker is left running (starting a running one changes nothing).
            defer { try? TestStack.run("start", "kafka") }
            try await withThrowingTaskGroup(of: Void.self) { group in
                // 1,500 messages a second for 9 s, in ticks of 10 ms; kills at 2, 4.5 and 7 s (each one
                // loses something only if a batch is in flight at that moment, so three chances).
                let start = ContinuousClock.now
                for tick in 0..<900 {
                    try await Task.sleep(until: start + .milliseconds(10 * tick))
                    if [200, 450, 700].contains(tick) {
                        try TestStack.run(objectStore ? ["kill", "kafka", "s3"] : ["kill", "kafka"])
                        try TestStack.run(["start", "kafka"])
                    }
                    for i in 0..<15 {
                        let key = "k-\(tick)-\(i)"
                        group.addTask {
                            do {
                                _ = try await producer.send(topic: name, key: key, value: key)
                                tally.acked.withLock { _ = $0.insert(key) }
                            } catch {
                                tally.failed.withLock { $0.append("\(key): \(error)") }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            await producer.close()
            let acknowledged = tally.acked.withLock { $0 }
            #expect(acknowledged.count > 12_000, "too few acknowledged to mean anything: \(acknowledged.count)")

            let reader = try consumer(topic: name, group: TestStack.uniqueName("group"))
            try await reader.waitForAssignment(timeout: .seconds(60))
            var seen: [String: Int] = [:]
            var quietSince = ContinuousClock.now
            let deadline = ContinuousClock.now + .seconds(120)
            // Read until every acknowledged key came and nothing more for 3 s (copies), or nothing for 20 s.
            while ContinuousClock.now < deadline {
                let quiet = ContinuousClock.now - quietSince
                if quiet > .seconds(20) || (quiet > .seconds(3) && acknowledged.isSubset(of: seen.keys)) { break }
                let batch = try await reader.poll(maxMessages: 5_000, timeout: .milliseconds(200))
                if !batch.isEmpty { quietSince = ContinuousClock.now }
                for message in batch { seen[message.keyString ?? "", default: 0] += 1 }
            }
            await reader.close()
            let missing = acknowledged.subtracting(seen.keys).sorted()
            let duplicates = seen.values.filter { $0 > 1 }.count
            #expect(
                missing.isEmpty,
                "\(missing.count) of \(acknowledged.count) acknowledged messages were lost: \(missing.prefix(20))")
            print(
                "broker kill\(objectStore ? " with its object store" : ""): \(acknowledged.count) acknowledged, "
                    + "\(missing.count) missing, \(duplicates) keys read more than once, \(tally.failed.withLock { $0.count }) sends failed"
            )
        }

        @Test func everyAcknowledgedMessageSurvivesABrokerKilledUnderLoad() async throws {
            try await acknowledgedMessagesSurviveABrokerKill(objectStore: false)
        }

        @Test func everyAcknowledgedMessageSurvivesABrokerKilledWithItsObjectStore() async throws {
            try await acknowledgedMessagesSurviveABrokerKill(objectStore: true)
        }
    }
}
