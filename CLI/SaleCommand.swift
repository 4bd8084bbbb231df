import ArgumentParser
import Credentials
import Domain
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `flashdeal sale`: the operators' actions on a running sale, through a gateway's `operateSale`
/// (so the role check, the guardrails and the audit are the gateway's, and every replica obeys).
struct SaleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sale",
        abstract: "Operate a running sale: pause, resume, set the admission rate, admit, close, move the opening.",
        discussion: """
            Every action needs --reason and shows the controls before → after first; it is applied \
            after a `y` at the prompt, or at once with --yes (needed when stdin is not a terminal); \
            --dry-run only shows. Actions are recorded in the gateway's audit (`flashdeal sale audit`). \
            The operator token comes from --token or FLASHDEAL_OPERATOR_TOKEN, or is minted for --as \
            from FLASHDEAL_JWT_SECRET (local stacks).
            """,
        subcommands: [
            Show.self, Pause.self, Resume.self, Rate.self, Admit.self, Close.self, SoldOut.self, Reopen.self,
            MoveOpening.self, Audit.self,
        ])

    struct Connection: ParsableArguments {
        @Option(help: "The gateway (default: $FLASHDEAL_GATEWAY_URL or http://127.0.0.1:8080).") var gateway: String?
        @Option(help: "An operator bearer token (default: $FLASHDEAL_OPERATOR_TOKEN).") var token: String?
        @Option(name: .customLong("as"), help: "Mint a token for this operator from $FLASHDEAL_JWT_SECRET.")
        var actor: String?

        func bearer() async throws -> String {
            let environment = ProcessInfo.processInfo.environment
            if let token = token ?? environment["FLASHDEAL_OPERATOR_TOKEN"], !token.isEmpty { return token }
            guard let secret = environment["FLASHDEAL_JWT_SECRET"], !secret.isEmpty else {
                throw ValidationError(
                    "no operator token: pass --token, set FLASHDEAL_OPERATOR_TOKEN, or set FLASHDEAL_JWT_SECRET with --as"
                )
            }
            let name = actor ?? environment["USER"] ?? "operator"
            let issuer = try await ShopperTokenIssuer(
                key: .hs256(secret: Array(secret.utf8)), issuer: "flashdeal", audience: "flashdeal-gateway",
                lifetime: .seconds(600))
            return try await issuer.issue(for: try UserID(name), at: Date(), role: ShopperClaims.operatorRole)
        }

        /// Runs one GraphQL operation; GraphQL errors become the command's error.
        func call(_ query: String, _ variables: [String: Any]) async throws -> [String: Any] {
            let base =
                gateway ?? ProcessInfo.processInfo.environment["FLASHDEAL_GATEWAY_URL"] ?? "http://127.0.0.1:8080"
            guard let url = URL(string: base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/graphql")
            else {
                throw ValidationError("--gateway is not a URL: \(base)")
            }
            var request = URLRequest(url: url, timeoutInterval: 10)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.setValue("Bearer \(try await bearer())", forHTTPHeaderField: "Authorization")
            request.httpBody = try JSONSerialization.data(withJSONObject: ["query": query, "variables": variables])
            let (body, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
                throw ValidationError("\(url) answered HTTP \(status) without a GraphQL body")
            }
            if let errors = json["errors"] as? [[String: Any]], let first = errors.first {
                let code = (first["extensions"] as? [String: Any])?["code"] as? String ?? "ERROR"
                throw ValidationError("\(code) (HTTP \(status)): \(first["message"] as? String ?? "")")
            }
            return json["data"] as? [String: Any] ?? [:]
        }
    }

    struct Action: ParsableArguments {
        @OptionGroup var connection: Connection
        @Option(help: "The deal.") var deal: String
        @Option(help: "Why (kept in the audit).") var reason: String
        @Flag(help: "Only show before → after.") var dryRun = false
        @Flag(help: "Apply without asking.") var yes = false

        static let mutation = """
            mutation O($i: OperateSaleInput!) { operateSale(input: $i) { applied auditId
              before { ...C } after { ...C } } }
            fragment C on SaleControl { paused admissionRateOverride pendingAdmissions closure startsAt endsAt opened }
            """

        func run(_ action: String, value: String? = nil) async throws {
            var input: [String: Any] = ["dealId": deal, "action": action, "reason": reason, "dryRun": true]
            if let value { input["value"] = value }
            let preview = try await connection.call(Self.mutation, ["i": input])
            print(Self.describe(preview["operateSale"] as? [String: Any] ?? [:], action: action, deal: deal))
            if dryRun { return }
            if !yes {
                guard isatty(STDIN_FILENO) == 1 else { throw ValidationError("not a terminal: add --yes to apply") }
                Swift.print("apply? [y/N] ", terminator: "")
                guard readLine()?.lowercased() == "y" else {
                    print("not applied")
                    return
                }
            }
            input["dryRun"] = false
            let applied = try await connection.call(Self.mutation, ["i": input])["operateSale"] as? [String: Any] ?? [:]
            print("applied; audit \(applied["auditId"] as? String ?? "?")")
        }

        /// `field: before → after` for each field the action changes.
        static func describe(_ change: [String: Any], action: String, deal: String) -> String {
            let before = change["before"] as? [String: Any] ?? [:]
            let after = change["after"] as? [String: Any] ?? [:]
            var lines = ["\(action) on \(deal):"]
            for key in ["paused", "admissionRateOverride", "pendingAdmissions", "closure", "startsAt", "endsAt"] {
                let old = text(before[key])
                let new = text(after[key])
                lines.append("  \(key): \(old)\(old == new ? " (unchanged)" : " → \(new)")")
            }
            return lines.joined(separator: "\n")
        }

        static func text(_ value: Any?) -> String {
            switch value {
            case nil, is NSNull: "none"
            case let bool as Bool: bool ? "yes" : "no"
            case let value?: "\(value)"
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a deal's controls.")
        @OptionGroup var connection: Connection
        @Option(help: "The deal.") var deal: String
        func run() async throws {
            let data = try await connection.call(
                "query C($d: ID!) { saleControl(dealId: $d) { paused admissionRateOverride pendingAdmissions closure startsAt endsAt opened } }",
                ["d": deal])
            let control = data["saleControl"] as? [String: Any] ?? [:]
            for key in [
                "paused", "admissionRateOverride", "pendingAdmissions", "closure", "startsAt", "endsAt", "opened",
            ] {
                print("\(key): \(Action.text(control[key]))")
            }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop admitting; every place is kept.")
        @OptionGroup var action: Action
        func run() async throws { try await action.run("PAUSE") }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Admit again at the admission rate.")
        @OptionGroup var action: Action
        func run() async throws { try await action.run("RESUME") }
    }

    struct Rate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the admission rate (shoppers per second), or `default` for the configured one.")
        @OptionGroup var action: Action
        @Option(help: "Shoppers per second, or `default`.") var perSecond: String
        func run() async throws { try await action.run("SET_ADMISSION_RATE", value: perSecond) }
    }

    struct Admit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Admit this many at the head of the line now.")
        @OptionGroup var action: Action
        @Option(help: "How many.") var count: Int
        func run() async throws { try await action.run("ADMIT", value: String(count)) }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take no newcomers; those in line keep their places.")
        @OptionGroup var action: Action
        func run() async throws { try await action.run("CLOSE_QUEUE") }
    }

    struct SoldOut: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sold-out", abstract: "Mark the deal sold out for everyone.")
        @OptionGroup var action: Action
        func run() async throws { try await action.run("MARK_SOLD_OUT") }
    }

    struct Reopen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Undo close or sold-out.")
        @OptionGroup var action: Action
        func run() async throws { try await action.run("REOPEN") }
    }

    struct MoveOpening: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "move-opening", abstract: "Move the opening (and the end as much), before the sale opens.")
        @OptionGroup var action: Action
        @Option(help: "The new opening, RFC 3339 (e.g. 2026-12-24T10:00:00Z).") var at: String
        func run() async throws { try await action.run("MOVE_OPENING", value: at) }
    }

    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the latest operator actions, newest first.")
        @OptionGroup var connection: Connection
        @Option(help: "Only this deal's.") var deal: String?
        @Option(help: "How many.") var limit = 20
        func run() async throws {
            var variables: [String: Any] = ["n": limit]
            if let deal { variables["d"] = deal }
            let data = try await connection.call(
                "query A($d: ID, $n: Int) { operatorAudit(dealId: $d, first: $n) { at actor dealId action value reason outcome detail gateway } }",
                variables)
            for entry in data["operatorAudit"] as? [[String: Any]] ?? [] {
                let value = (entry["value"] as? String).map { " \($0)" } ?? ""
                let detail = (entry["detail"] as? String).map { " (\($0))" } ?? ""
                print(
                    "\(entry["at"] ?? "")  \(entry["actor"] ?? "")  \(entry["dealId"] ?? "")  \(entry["action"] ?? "")\(value)  \(entry["outcome"] ?? "")\(detail)  \"\(entry["reason"] ?? "")\"  via \(entry["gateway"] ?? "")"
                )
            }
        }
    }
}
