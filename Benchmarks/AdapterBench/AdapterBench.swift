import ArgumentParser
import Domain
import Foundation
import Infrastructure

/// `flashdeal-bench adapters`: throughput of the three adapters against the local real stack,
/// each next to a baseline measured in the same run.
@main
struct AdapterBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flashdeal-bench",
        abstract: "Adapter benchmarks against the local stack (scripts/stack up first).",
        subcommands: [
            Adapters.self, RateLimitBench.self, ProducerSettingsBench.self, GatewayPrepare.self, WorkerBench.self,
        ],
        defaultSubcommand: Adapters.self)
}

struct Adapters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Redis FCALL, Kafka produce, MongoDB insertMany.")

    @Option(help: "Redis FCALL calls to time on one connection.") var redisCalls = 300_000
    @Option(help: "Kafka messages to produce.") var kafkaMessages = 300_000
    @Option(help: "MongoDB documents to insert.") var mongoDocuments = 50_000
    @Option(help: "Documents per insertMany batch.") var mongoBatch = 500
    @Option(help: "Calls kept in flight at once.") var concurrency = 2_048
    @Option(help: "Comma-separated subset of redis,kafka,mongo.") var only = "redis,kafka,mongo"
    @Option(help: "A label printed with the Kafka rows (e.g. the broker's storage mode).") var kafkaLabel = ""

    func run() async throws {
        let endpoints = try ServiceEndpoints.load(
            environment: ProcessInfo.processInfo.environment,
            defaultFile: FileManager.default.currentDirectoryPath
                + "/.stack/endpoints.env")
        let parts = Set(only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        var rows: [Row] = []
        if parts.contains("redis") { rows += try await redis(endpoints) }
        if parts.contains("kafka") { rows += try await kafka(endpoints) }
        if parts.contains("mongo") { rows += try await mongo(endpoints) }
        print("")
        print(Row.header)
        for row in rows { print(row.line) }
    }

    // MARK: Redis

    func redis(_ e: ServiceEndpoints) async throws -> [Row] {
        let library = RedisFunctionLibrary(
            name: "flashdeal_bench",
            source: """
                #!lua name=flashdeal_bench
                redis.register_function('flashdeal_bench_take', function(keys, args)
                  local left = redis.call('DECRBY', keys[1], args[1])
                  if left < 0 then redis.call('INCRBY', keys[1], args[1]) return {0, left} end
                  return {1, left}
                end)
                """)
        let redis = RedisClient(configuration: RedisConfiguration(host: e.redisHost, port: e.redisPort, connections: 1))
        defer { redis.shutdown() }
        try await redis.load(library)
        let key = "{bench}:stock"
        try await redis.send("SET", key, String(Int64.max / 2))

        let sequentialCalls = 20_000
        let sequential = try await timed(sequentialCalls, concurrency: 1) { _ in
            _ = try await redis.fcall("flashdeal_bench_take", keys: [key], arguments: ["1"])
        }
        let before = (redis.statistics.commands, redis.statistics.roundTrips)
        let pipelined = try await timed(redisCalls, concurrency: concurrency) { _ in
            _ = try await redis.fcall("flashdeal_bench_take", keys: [key], arguments: ["1"])
        }
        let depth =
            Double(redis.statistics.commands - before.0) / Double(max(1, redis.statistics.roundTrips - before.1))
        try await redis.send("DEL", key)
        return [
            Row(name: "Redis FCALL, one at a time, 1 connection", rate: sequential, unit: "calls/s"),
            Row(
                name: "Redis FCALL, pipelined, 1 connection", rate: pipelined, unit: "calls/s", target: 80_000,
                note: String(format: "%.1fx one-at-a-time; mean depth %.0f", pipelined / sequential, depth)),
        ]
    }

    // MARK: Kafka

    func kafka(_ e: ServiceEndpoints) async throws -> [Row] {
        let topic = "bench.produce.\(UInt32.random(in: 0...UInt32.max))"
        try await KafkaAdmin(brokers: e.kafkaBrokers).createTopics([TopicSpecification(name: topic, partitions: 12)])
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(brokers: e.kafkaBrokers))
        let value = Array(repeating: UInt8(ascii: "x"), count: 200)
        // Warm-up: the idempotent producer's first messages wait for its producer id.
        try await producer.send(topic: topic, key: Array("warm".utf8), value: value)

        let sequentialMessages = 2_000
        let sequential = try await timed(sequentialMessages, concurrency: 1) { i in
            try await producer.send(topic: topic, key: Array("order-\(i)".utf8), value: value)
        }
        let concurrent = try await timed(kafkaMessages, concurrency: concurrency * 4) { i in
            try await producer.send(
                topic: topic, key: Array("order-\(i)".utf8), value: value,
                headers: [KafkaHeader(name: "traceparent", value: "00-bench-01")])
        }
        await producer.close()
        return [
            Row(name: "Kafka send+ack, one at a time\(kafkaLabel)", rate: sequential, unit: "msg/s"),
            Row(
                name: "Kafka send+ack, concurrent (200 B, acks=all, idempotent)\(kafkaLabel)", rate: concurrent,
                unit: "msg/s",
                target: 100_000, note: String(format: "%.0fx one-at-a-time", concurrent / sequential)),
        ]
    }

    // MARK: MongoDB

    func mongo(_ e: ServiceEndpoints) async throws -> [Row] {
        let client = try MongoClient(configuration: MongoConfiguration(endpoints: e))
        defer { client.shutdown() }
        let collection = client.collection("bench_orders_\(UInt32.random(in: 0...UInt32.max))")
        @Sendable func document(_ i: Int) -> BSONDocument {
            [
                "_id": .string("ord_bench_\(i)"), "dealId": "deal-bench", "userId": .string("user-\(i % 997)"),
                "quantity": .int32(1), "status": "CONFIRMED", "createdAt": .date(Date()), "updatedAt": .date(Date()),
            ]
        }
        let singles = 2_000
        let single = try await timed(singles, concurrency: 8) { i in
            _ = try await collection.insert(document(1_000_000 + i))
        }
        let batches = max(1, mongoDocuments / mongoBatch)
        let many =
            try await timed(batches, concurrency: 4) { b in
                let docs = (0..<mongoBatch).map { document(b * mongoBatch + $0) }
                let result = try await collection.insertMany(docs)
                precondition(result.insertedCount == docs.count, "insertMany inserted \(result.insertedCount)")
            } * Double(mongoBatch)
        try await collection.drop()
        return [
            Row(name: "MongoDB insert, single documents, 8 in flight", rate: single, unit: "docs/s"),
            Row(
                name: "MongoDB insertMany (\(mongoBatch)/batch, w:majority)", rate: many, unit: "docs/s", target: 5_000,
                note: String(format: "%.1fx single inserts", many / single)),
        ]
    }

    /// Runs `operation` `count` times with `concurrency` in flight; returns operations per second.
    func timed(_ count: Int, concurrency: Int, _ operation: @escaping @Sendable (Int) async throws -> Void)
        async throws -> Double
    {
        let workers = max(1, min(concurrency, count))
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<workers {
                group.addTask {
                    var i = w
                    while i < count {
                        try await operation(i)
                        i += workers
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(count) / (ContinuousClock.now - start).seconds
    }
}

struct Row {
    var name: String
    var rate: Double
    var unit: String
    var target: Double? = nil
    var note: String = ""

    static let header = "| measurement | result | target | verdict | ratio |\n|---|---:|---:|---|---|"

    var line: String {
        let result = "\(Int(rate.rounded()).formatted()) \(unit)"
        let targetText = target.map { "≥ \(Int($0).formatted())" } ?? "—"
        let verdict = target.map { rate >= $0 ? "met" : "NOT met" } ?? "baseline"
        return "| \(name) | \(result) | \(targetText) | \(verdict) | \(note) |"
    }
}
