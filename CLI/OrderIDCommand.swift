import ArgumentParser
import Domain

/// `flashdeal order-id`: the deterministic order id a createOrder with these inputs gets.
struct OrderIDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order-id",
        abstract: "Derive the order id of (user, deal, idempotency key), as the gateway does.")

    @Option(help: "User id.") var user: String
    @Option(help: "Deal id.") var deal: String
    @Option(help: "The client's idempotency key.") var key: String

    func run() throws {
        do {
            let id = OrderID.derive(
                userId: try UserID(user), dealId: try DealID(deal),
                idempotencyKey: try IdempotencyKey(key))
            print(id.rawValue)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
