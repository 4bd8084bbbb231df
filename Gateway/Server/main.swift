import Foundation
import Gateway
import Logging
import ServiceLifecycle

let environment = ProcessInfo.processInfo.environment
var logger = Logger(label: "flashdeal.gateway")
logger.logLevel = environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
let configuration = try GatewayApp.configuration(environment: environment, endpointsFile: ".stack/endpoints.env")
try await GatewayApp.build(configuration, logger: logger).run()
