import Credentials
import Domain
import Foundation
import Gateway
import Infrastructure
public import Operations
import OrderWorker
import RateLimiting
import Synchronization

/// Every decoder that takes outside input, as a fuzz target: bytes in, a check that the decoder
/// either read them or refused them in its designed way. A crash, a trap, a sanitizer report or a
/// failed check (``FuzzFinding``) is a finding; libFuzzer keeps the input, and the input becomes a
/// regression file under `Tests/Fuzz/regressions/<target>/`.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// Rate policy YAML (`PolicyLoader.parse`): diagnostics carry positions inside the text.
    case policyYAML = "policy-yaml"
    /// A `/graphql` POST body, read and prepared as the gateway does: refused only as designed.
    case graphQLBody = "graphql-body"
    /// A `/graphql` GET query string.
    case graphQLQueryString = "graphql-query"
    /// A shopper bearer token: the HS256 fast path never accepts what jwt-kit refuses.
    case shopperToken = "shopper-token"
    /// An admission pass: a pass that authenticates signs back to the same text.
    case admissionPass = "admission-pass"
    /// A message on the order topics, as the worker decodes it: a decoded event re-encodes and
    /// decodes to itself.
    case eventMessage = "event-message"
    /// The gateway's YAML configuration file.
    case gatewayConfig = "gateway-config"
    /// `NAME=value` lines as the environment of the gateway and of the worker.
    case environment

    /// Runs one input; throws ``FuzzFinding`` when a check fails.
    public func run(_ bytes: [UInt8]) async throws(FuzzFinding) {
        let text = String(decoding: bytes, as: UTF8.self)
        switch self {
        case .policyYAML:
            do {
                _ = try PolicyLoader.parse(yaml: text, file: "fuzz.yaml")
            } catch {
                let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).count + 1
                guard !error.diagnostics.isEmpty else { throw FuzzFinding("a refused file without a diagnostic") }
                if let outside = error.diagnostics.first(where: { $0.line > lines }) {
                    throw FuzzFinding("diagnostic on line \(outside.line) of a \(lines)-line file: \(outside)")
                }
            }
        case .graphQLBody:
            if case .refused(let status, _) = Self.reader.read(body: bytes), !Self.designedRefusals.contains(status) {
                throw FuzzFinding("a body refused with \(status)")
            }
        case .graphQLQueryString:
            if case .refused(let status, _) = Self.reader.read(queryString: text),
                !Self.designedRefusals.contains(status)
            {
                throw FuzzFinding("a query string refused with \(status)")
            }
        case .shopperToken:
            let verifier = await Self.verifier()
            guard await verifier.fastPathAgreesWithReference(text) else {
                throw FuzzFinding("the fast path accepted a token jwt-kit reads otherwise")
            }
            _ = try? await verifier.verify(bearer: text, at: Date(timeIntervalSince1970: 1.79e9))
        case .admissionPass:
            guard let pass = try? Self.keyring.authenticate(text) else { return }
            guard (try? Self.keyring.sign(pass)) == text else {
                throw FuzzFinding("an authenticated pass does not sign back to its text")
            }
        case .eventMessage:
            guard let event = try? DomainEvent.decode(Data(bytes)) else { return }
            guard (try? DomainEvent.decode(event.jsonData())) == event else {
                throw FuzzFinding("a decoded \(event.type.rawValue) does not survive re-encoding")
            }
        case .gatewayConfig:
            var configuration = GatewayConfiguration(host: Self.host)
            do { try configuration.apply(yaml: text, file: "fuzz.yaml") } catch {
                guard "\(error)".contains("fuzz.yaml") else {
                    throw FuzzFinding("a refused configuration file whose error does not name it: \(error)")
                }
            }
        case .environment:
            var environment: [String: String] = [:]
            for line in text.split(whereSeparator: \.isNewline) {
                let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0])
                // Variables that name files would make the readers open whatever the input says.
                guard !name.hasSuffix("_FILE"), name != "FLASHDEAL_GATEWAY_CONFIG" else { continue }
                environment[name] = parts.count > 1 ? String(parts[1]) : ""
            }
            // Refusing with an error is the designed answer to a bad value; a crash is the finding.
            _ = try? GatewayConfiguration.load(environment: environment, endpointsFile: nil)
            _ = try? WorkerSettings.load(environment: environment)
        }
    }

    /// A request refused before it runs: 4xx, or 200 for an unknown persisted query (the
    /// automatic-persisted-queries protocol answers `PERSISTED_QUERY_NOT_FOUND` with 200).
    static let designedRefusals: Set<Int> = [200, 400, 401, 405, 406, 413, 415]

    // MARK: Fixtures, made once per process

    static let reader: GraphQLRequestReader = {
        do { return try GraphQLRequestReader() } catch { fatalError("the schema does not build: \(error)") }
    }()
    static let secret = Array("fuzz-secret-0123456789-abcdefghijklmnop".utf8)
    private static let madeVerifier = Mutex<ShopperTokenVerifier?>(nil)
    static func verifier() async -> ShopperTokenVerifier {
        if let made = madeVerifier.withLock({ $0 }) { return made }
        do {
            let made = try await ShopperTokenVerifier(
                key: .hs256(secret: secret), expectedIssuer: "flashdeal", expectedAudience: "flashdeal-gateway")
            madeVerifier.withLock { $0 = made }
            return made
        } catch {
            fatalError("verifier: \(error)")
        }
    }
    static let keyring: PassKeyring = {
        do {
            return try PassKeyring(
                keys: [try SigningKeyID("s1"): Array("fuzz-pass-key-0123456789-abcdefghijk".utf8)],
                current: try SigningKeyID("s1"))
        } catch {
            fatalError("keyring: \(error)")
        }
    }()
    public static let host = ServiceHostConfiguration(
        name: "fuzz", port: 0,
        endpoints: ServiceEndpoints(
            redisHost: "127.0.0.1", redisPort: 9, kafkaBrokers: "127.0.0.1:9", mongoURI: "mongodb://127.0.0.1:9",
            mongoDatabase: "fuzz"))
}

/// A failed check: the decoder answered something it is not designed to.
public struct FuzzFinding: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
