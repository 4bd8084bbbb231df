import Foundation
import Logging
import Operations
import ServiceLifecycle
import OrderWorker

let environment = ProcessInfo.processInfo.environment
do {
    try FlashDealExecutor.install(environment: environment)
    try FlashDealLogging.bootstrap(environment: environment)
    try FlashDealTracing.bootstrap(serviceName: "flashdeal-worker", version: FlashDealBuild.version, environment: environment)
} catch {
    FileHandle.standardError.write(Data("flashdeal-worker: \(error)\n".utf8))
    exit(2)
}
let logger = Logger(label: "flashdeal.worker")
let configuration = try WorkerApp.configuration(environment: environment, endpointsFile: ".stack/endpoints.env")
let partitions = environment["FLASHDEAL_TOPIC_PARTITIONS"].flatMap(Int.init) ?? 12
let settings: WorkerSettings
do { settings = try WorkerSettings.load(environment: environment) } catch {
    logger.critical("invalid configuration", metadata: ["error": "\(error)"])
    exit(2)
}
try await WorkerApp.build(configuration, settings: settings, partitions: partitions, logger: logger).run()
