import Foundation

/// Where the three servers are: read from the environment, falling back to the endpoints file
/// that `scripts/stack up` writes (`.stack/endpoints.env`).
///
/// | variable | meaning | example |
/// |---|---|---|
/// | `FLASHDEAL_REDIS_URL` | Redis | `redis://127.0.0.1:16379` |
/// | `FLASHDEAL_KAFKA_BROKERS` | Kafka bootstrap servers | `127.0.0.1:19092` |
/// | `FLASHDEAL_MONGO_URI` | MongoDB connection string | `mongodb://127.0.0.1:27117/` |
/// | `FLASHDEAL_MONGO_DATABASE` | MongoDB database | `flashdeal` |
/// | `FLASHDEAL_ENDPOINTS_FILE` | the file to fall back to | `.stack/endpoints.env` |
public struct ServiceEndpoints: Sendable, Equatable {
    public var redisHost: String
    public var redisPort: Int
    public var kafkaBrokers: String
    public var mongoURI: String
    public var mongoDatabase: String

    public init(redisHost: String, redisPort: Int, kafkaBrokers: String, mongoURI: String, mongoDatabase: String) {
        self.redisHost = redisHost
        self.redisPort = redisPort
        self.kafkaBrokers = kafkaBrokers
        self.mongoURI = mongoURI
        self.mongoDatabase = mongoDatabase
    }

    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Resolves the endpoints: each variable from `environment` first, then from the endpoints file.
    ///
    /// - Parameter defaultFile: used when `FLASHDEAL_ENDPOINTS_FILE` is not set.
    /// - Throws: ``LoadError`` naming every missing or malformed value and how to get it.
    public static func load(environment: [String: String], defaultFile: String?) throws -> ServiceEndpoints {
        var values: [String: String] = [:]
        let path = environment["FLASHDEAL_ENDPOINTS_FILE"] ?? defaultFile
        if let path, let text = try? String(contentsOfFile: path, encoding: .utf8) {
            values = parseEnvFile(text)
        }
        for (key, value) in environment where key.hasPrefix("FLASHDEAL_") { values[key] = value }

        var missing: [String] = []
        func value(_ key: String) -> String {
            guard let v = values[key], !v.isEmpty else {
                missing.append(key)
                return ""
            }
            return v
        }
        let redisURL = value("FLASHDEAL_REDIS_URL")
        let brokers = value("FLASHDEAL_KAFKA_BROKERS")
        let mongoURI = value("FLASHDEAL_MONGO_URI")
        let database = values["FLASHDEAL_MONGO_DATABASE"] ?? "flashdeal"
        guard missing.isEmpty else {
            throw LoadError(
                description: "missing \(missing.joined(separator: ", ")): start the local stack with "
                    + "`scripts/stack up` (writes \(path ?? ".stack/endpoints.env")) or set the variables")
        }
        guard let (host, port) = parseRedisURL(redisURL) else {
            throw LoadError(description: "FLASHDEAL_REDIS_URL '\(redisURL)' is not redis://HOST:PORT")
        }
        return ServiceEndpoints(
            redisHost: host, redisPort: port, kafkaBrokers: brokers,
            mongoURI: mongoURI, mongoDatabase: database)
    }

    static func parseEnvFile(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), let eq = trimmed.firstIndex(of: "=") else { continue }
            result[String(trimmed[..<eq])] = String(trimmed[trimmed.index(after: eq)...])
        }
        return result
    }

    static func parseRedisURL(_ url: String) -> (String, Int)? {
        guard let components = URLComponents(string: url), components.scheme == "redis",
            let host = components.host, !host.isEmpty
        else { return nil }
        return (host, components.port ?? 6379)
    }
}
