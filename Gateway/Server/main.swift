import Foundation
import Gateway
import RateLimiting
import Logging
import ServiceLifecycle

let environment = ProcessInfo.processInfo.environment
var logger = Logger(label: "flashdeal.gateway")
logger.logLevel = environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
let configuration = try GatewayApp.configuration(environment: environment, endpointsFile: ".stack/endpoints.env")
let policyFile = environment["FLASHDEAL_POLICY_FILE"] ?? "policies/flash-sale.yaml"
try await GatewayApp.build(configuration, policyFile: policyFile,
                           rateLimiter: .init().applying(environment: environment), logger: logger).run()
