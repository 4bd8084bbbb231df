import ArgumentParser
import Credentials
import Domain
import Foundation

/// `flashdeal token`: mint HS256 shopper bearer tokens for manual calls and k6 load runs.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Mint shopper bearer tokens (HS256).",
        discussion: """
            Prints one token per line. With --count, prints `userId<TAB>token` for users \
            <user-prefix>1 … <user-prefix>N (for k6 load runs). The secret comes from --secret or \
            FLASHDEAL_JWT_SECRET and is never printed.
            """)

    @Option(help: "User id (the token's subject). Required unless --count is given.") var user: String?
    @Option(help: "HS256 shared secret, at least 32 bytes (default: $FLASHDEAL_JWT_SECRET).") var secret: String?
    @Option(help: "Token lifetime in seconds.") var ttl: Int = 3600
    @Option(help: "Issuer claim (iss).") var issuer: String = "flashdeal"
    @Option(help: "Audience claim (aud).") var audience: String = "flashdeal-gateway"
    @Option(help: "Mint tokens for this many users named <user-prefix>1…N.") var count: Int?
    @Option(help: "User id prefix for --count.") var userPrefix: String = "load-user-"
    @Option(help: "Role claim: `operator` for the SRE console and `flashdeal sale`.") var role: String?

    func validate() throws {
        guard ttl > 0 else { throw ValidationError("--ttl must be positive") }
        if let count {
            guard count > 0 else { throw ValidationError("--count must be positive") }
            guard user == nil else { throw ValidationError("use either --user or --count, not both") }
        } else if user == nil {
            throw ValidationError("--user is required (or --count for load-test users)")
        }
    }

    func run() async throws {
        guard let secret = secret ?? ProcessInfo.processInfo.environment["FLASHDEAL_JWT_SECRET"], !secret.isEmpty else {
            throw ValidationError("no secret: pass --secret or set FLASHDEAL_JWT_SECRET")
        }
        do {
            let tokenIssuer = try await ShopperTokenIssuer(
                key: .hs256(secret: Array(secret.utf8)), issuer: issuer, audience: audience,
                lifetime: .seconds(ttl))
            let now = Date()
            if let count {
                var lines = ""
                for index in 1...count {
                    let userId = try UserID("\(userPrefix)\(index)")
                    let token = try await tokenIssuer.issue(for: userId, at: now, role: role)
                    lines += "\(userId.rawValue)\t\(token)\n"
                    if lines.utf8.count > 64 * 1024 {
                        print(lines, terminator: "")
                        lines = ""
                    }
                }
                print(lines, terminator: "")
            } else if let user {
                print(try await tokenIssuer.issue(for: try UserID(user), at: now, role: role))
            }
        } catch let error as CredentialError {
            // Messages never contain the secret, only its length.
            throw ValidationError(error.description)
        } catch let error as IdentifierError {
            throw ValidationError(error.description)
        }
    }
}
