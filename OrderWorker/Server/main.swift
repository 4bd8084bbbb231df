import Foundation
import Infrastructure
import Logging
import Operations
import OrderWorker
import ServiceLifecycle

let environment = ProcessInfo.processInfo.environment
do {
    try FlashDealExecutor.install(environment: environment)
    try FlashDealLogging.bootstrap(environment: environment)
    try FlashDealTracing.bootstrap(
        serviceName: "flashdeal-worker", version: FlashDealBuild.version, environment: environment)
} catch {
    FileHandle.standardError.write(Data("flashdeal-worker: \(error)\n".utf8))
    exit(2)
}
let logger = Logger(label: "flashdeal.worker")
let configuration: ServiceHostConfiguration
let settings: WorkerSettings
let partitions: Int
do {
    configuration = try WorkerApp.configuration(environment: environment, endpointsFile: nil)
    settings = try WorkerSettings.load(environment: environment)
    partitions = try EnvironmentValues(environment).int("FLASHDEAL_TOPIC_PARTITIONS", in: 1...10_000) ?? 12
} catch {
    logger.critical("invalid configuration", metadata: ["error": "\(error)"])
    FileHandle.standardError.write(Data("flashdeal-worker: \(error)\n".utf8))
    exit(2)
}
try await WorkerApp.build(configuration, settings: settings, partitions: partitions, logger: logger).run()
