import ArgumentParser
import Domain
import Foundation
import Infrastructure

/// Shared options: where the servers are.
struct EndpointOptions: ParsableArguments {
    @Option(help: "Endpoints file written by scripts/stack (environment variables FLASHDEAL_* win).")
    var endpoints = ".stack/endpoints.env"

    func load() throws -> ServiceEndpoints {
        do {
            return try ServiceEndpoints.load(environment: ProcessInfo.processInfo.environment, defaultFile: endpoints)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

/// `flashdeal ping`: does each server answer its own protocol, and how fast?
struct Ping: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that Redis, Kafka and MongoDB answer (exit 1 if any does not).")

    @OptionGroup var options: EndpointOptions
    @Option(help: "Budget per server, in milliseconds.") var timeoutMs = 2_000

    func run() async throws {
        let e = try options.load()
        let budget = Duration.milliseconds(timeoutMs)
        var failures = 0
        func report(_ name: String, _ target: String, _ body: () async throws -> String) async {
            let start = ContinuousClock.now
            do {
                let detail = try await body()
                print(
                    "\(name.padding(toLength: 6, withPad: " ", startingAt: 0)) ok    \(target)  \(format(ContinuousClock.now - start))  \(detail)"
                )
            } catch {
                failures += 1
                print("\(name.padding(toLength: 6, withPad: " ", startingAt: 0)) FAIL  \(target)  \(error)")
            }
        }
        await report("redis", "\(e.redisHost):\(e.redisPort)") {
            let redis = RedisClient(
                configuration: RedisConfiguration(
                    host: e.redisHost, port: e.redisPort, connections: 1,
                    commandTimeout: budget, connectTimeout: budget))
            defer { redis.shutdown() }
            try await redis.ping()
            return "PONG"
        }
        await report("kafka", e.kafkaBrokers) {
            let metadata = try await KafkaAdmin(brokers: e.kafkaBrokers).metadata(timeout: budget)
            return "\(metadata.brokerCount) broker(s), \(metadata.partitionsByTopic.count) topic(s)"
        }
        await report("mongo", e.mongoURI) {
            var configuration = MongoConfiguration(endpoints: e)
            configuration.serverSelectionTimeout = budget
            let mongo = try MongoClient(configuration: configuration)
            defer { mongo.shutdown() }
            try await mongo.ping()
            return "database \(e.mongoDatabase)"
        }
        if failures > 0 { throw ExitCode(1) }
    }
}

func format(_ d: Duration) -> String {
    let ms = d.seconds * 1_000
    return String(format: "%.1f ms", ms)
}
