import ArgumentParser

/// `flashdeal`: the operator's and developer's command line.
@main
struct FlashDeal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flashdeal",
        abstract: "Flash Deal: keep a flash sale standing when traffic explodes.",
        version: FlashDealVersion.current,
        subcommands: [
            Ping.self, Topics.self, OrderIDCommand.self, EventCommand.self, PolicyCommand.self, TokenCommand.self,
            DealCommand.self, OrderCommand.self, VerifyCommand.self, ReconcileCommand.self, AutoscaleCommand.self,
            SaleCommand.self,
        ])
}

enum FlashDealVersion {
    static let current = "0.1.0"
}
