import Foundation
import Gateway
import Infrastructure
import Logging
import Operations
import ServiceLifecycle

// `flashdeal-gateway --print-schema` prints the served GraphQL schema (schemas/flashdeal.graphql).
if CommandLine.arguments.contains("--print-schema") {
    print(try GatewayApp.printedSchema(), terminator: "")
    exit(0)
}

let environment = ProcessInfo.processInfo.environment
do {
    try FlashDealExecutor.install(environment: environment)
    try FlashDealLogging.bootstrap(environment: environment)
    try FlashDealTracing.bootstrap(
        serviceName: "flashdeal-gateway", version: FlashDealBuild.version, environment: environment)
} catch {
    FileHandle.standardError.write(Data("flashdeal-gateway: \(error)\n".utf8))
    exit(2)
}
let logger = Logger(label: "flashdeal.gateway")
do {
    let configuration = try GatewayApp.configuration(environment: environment, endpointsFile: nil)
    try await GatewayApp.build(configuration, logger: logger).run()
} catch let error as ConfigurationError {
    // A setting that cannot be used: exit 2, as for the settings read above (and as the worker does).
    FileHandle.standardError.write(Data("flashdeal-gateway: \(error.description)\n".utf8))
    exit(2)
} catch let error as any CustomStringConvertible {
    FileHandle.standardError.write(Data("flashdeal-gateway: \(error.description)\n".utf8))
    exit(1)
}
