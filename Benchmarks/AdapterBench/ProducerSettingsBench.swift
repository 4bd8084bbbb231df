import ArgumentParser
import Domain
import Foundation
import Infrastructure

/// `flashdeal-bench producer-settings`: acknowledged-produce latency at the gateway's target rate
/// for each linger × compression pair, side by side in one run. The gateway's defaults
/// (`orders.lingerMs`, `orders.compression`) are chosen from this table.
struct ProducerSettingsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "producer-settings",
        abstract: "Kafka send+ack latency by linger and compression at a paced rate.")

    @Option(help: "Messages per second (paced, open model).") var rate = 2_000
    @Option(help: "Seconds per setting.") var seconds = 8
    @Option(help: "Linger values in ms, comma-separated.") var lingers = "0,1,5"
    @Option(help: "Compression codecs, comma-separated.") var codecs = "none,lz4"

    func run() async throws {
        let e = try ServiceEndpoints.load(
            environment: ProcessInfo.processInfo.environment,
            defaultFile: FileManager.default.currentDirectoryPath + "/.stack/endpoints.env")
        let topic = "bench.settings.\(UInt32.random(in: 0...UInt32.max))"
        try await KafkaAdmin(brokers: e.kafkaBrokers).createTopics([TopicSpecification(name: topic, partitions: 12)])
        // An OrderRequested-sized value (the gateway's messages are ~330 bytes of JSON).
        let value = Array(
            #"{"dealId":"deal-bench","eventId":"evt_0123456789abcdef0123456789abcdef","idempotencyKey":"bench-key-0000001","occurredAt":"2026-11-25T10:00:00.000Z","orderId":"ord_0123456789abcdef0123456789abcdef","quantity":1,"requestedAt":"2026-11-25T10:00:00.000Z","schemaVersion":1,"type":"OrderRequested","userId":"load-user-000001"}"#
                .utf8)
        print("| linger | compression | rate | p50 ms | p99 ms | p99.9 ms | max ms | errors |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|")
        for linger in lingers.split(separator: ",").compactMap({ Int($0) }) {
            for codec in codecs.split(separator: ",").map(String.init) {
                let producer = try KafkaProducer(
                    configuration: KafkaProducerConfiguration(
                        brokers: e.kafkaBrokers, linger: .milliseconds(linger), compression: codec))
                try await producer.send(topic: topic, key: Array("warm".utf8), value: value)
                let (latencies, errors) = try await paced(rate: rate, duration: .seconds(seconds)) { i in
                    try await producer.send(topic: topic, key: Array("ord_\(i)".utf8), value: value)
                }
                await producer.close()
                print(
                    "| \(linger) | \(codec) | \(rate.formatted())/s | \(ms(percentile(latencies, 0.50))) | "
                        + "\(ms(percentile(latencies, 0.99))) | \(ms(percentile(latencies, 0.999))) | "
                        + "\(ms(latencies.max() ?? 0)) | \(errors) |")
            }
        }
    }

    /// Starts one call every 1/rate s whatever the previous calls do (no coordinated omission).
    func paced(rate: Int, duration: Duration, _ body: @escaping @Sendable (Int) async throws -> Void) async throws
        -> ([Double], Int)
    {
        let total = Int(Double(rate) * duration.seconds)
        let interval = Duration.seconds(1) / rate
        let start = ContinuousClock.now
        return await withTaskGroup(of: Double?.self) { group in
            for i in 0..<total {
                let due = start + interval * i
                if due > ContinuousClock.now { try? await Task.sleep(until: due) }
                group.addTask {
                    do { try await body(i) } catch { return nil }
                    return (ContinuousClock.now - due).seconds
                }
            }
            var latencies: [Double] = []
            var errors = 0
            for await result in group { if let result { latencies.append(result) } else { errors += 1 } }
            return (latencies, errors)
        }
    }
}
