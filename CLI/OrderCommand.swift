import ArgumentParser
import DealData
import Domain
import Foundation

/// `flashdeal order …`: operations on one order.
struct OrderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order", abstract: "Work with one order.", subcommands: [Pay.self])

    struct Pay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record the payment of a confirmed order, so its payment window no longer expires it.",
            discussion: """
                What a checkout or payment service calls once the shopper paid. Exits 0 when the \
                payment is recorded (or was before), 1 when it came too late (the order expired and \
                its units went back on sale: refund it) or the order holds nothing.
                """)

        @OptionGroup var options: EndpointOptions
        @Option(help: "Order id (as createOrder returned it).") var order: String

        func run() async throws {
            let id: OrderID
            do { id = try OrderID(order) } catch { throw ValidationError("\(error)") }
            let clients = try AuditClients(options)
            defer { clients.close() }
            let desk = PaymentDesk(reservations: clients.reservations, orders: clients.orders)
            let result = try await desk.recordPayment(of: id)
            print(result.description)
            if !result.accepted { throw ExitCode.failure }
        }
    }
}
