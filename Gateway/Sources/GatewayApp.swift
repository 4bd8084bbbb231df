public import Logging
public import Operations
public import ServiceLifecycle

/// Builds the gateway process. Today it serves the operations endpoints over its dependencies;
/// the GraphQL API, rate policies and waiting room are mounted here as they land.
public enum GatewayApp {
    public static let defaultPort = 8080

    public static func configuration(environment: [String: String], endpointsFile: String?) throws
        -> ServiceHostConfiguration
    {
        try ServiceHostConfiguration.load(name: "flashdeal-gateway", defaultPort: defaultPort,
                                          environment: environment, endpointsFile: endpointsFile)
    }

    public static func build(_ configuration: ServiceHostConfiguration, logger: Logger,
                             onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws
        -> ServiceGroup
    {
        let host = try ServiceHost(configuration: configuration, logger: logger)
        return host.serviceGroup(onServerRunning: onServerRunning)
    }
}
