import ArgumentParser
import Infrastructure

/// `flashdeal topics create`: the contract's topics, created explicitly (never by auto-create).
struct Topics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage Flash Deal's Kafka topics.", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the order-requests, order-events and DLQ topics (safe to repeat).")
        @OptionGroup var options: EndpointOptions
        @Option(help: "Partitions per topic; workers scale up to this many replicas.") var partitions = 12

        func validate() throws {
            guard (1...1_000).contains(partitions) else { throw ValidationError("--partitions must be 1…1000") }
        }

        func run() async throws {
            let e = try options.load()
            let admin = try KafkaAdmin(brokers: e.kafkaBrokers)
            try await admin.createTopics(FlashDealTopics.specifications(partitions: partitions))
            let metadata = try await admin.metadata()
            for spec in FlashDealTopics.specifications(partitions: partitions) {
                print("\(spec.name)  partitions \(metadata.partitionsByTopic[spec.name].map(String.init) ?? "?")")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List topics and their partition counts.")
        @OptionGroup var options: EndpointOptions

        func run() async throws {
            let e = try options.load()
            let metadata = try await KafkaAdmin(brokers: e.kafkaBrokers).metadata()
            for (name, partitions) in metadata.partitionsByTopic.sorted(by: { $0.key < $1.key }) {
                print("\(name)  partitions \(partitions)")
            }
        }
    }
}
