import Admission
import ArgumentParser
import DealData
import Domain
import Foundation
import Infrastructure

/// `flashdeal deal create|show`: put a deal into the catalog and Redis, and look at one.
struct DealCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deal",
        abstract: "Create a deal (MongoDB catalog + Redis hot state) and inspect it.",
        subcommands: [Create.self, Show.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upsert a product and a deal into MongoDB and seed the deal's stock and waiting room in Redis.",
            discussion: """
                Safe to repeat: the catalog is updated, and an existing deal keeps its remaining stock, \
                its waiting room and its draw seed unless --reset is given. Prints the deal and the \
                commitment of the pre-queue draw's seed (hex SHA-256; the seed is revealed after the draw).
                """)

        @OptionGroup var options: EndpointOptions
        @Option(help: "Deal id (letters, digits, - _ . :).") var id: String
        @Option(help: "Product id.") var product: String
        @Option(help: "Product name (default: the deal's title).") var productName: String?
        @Option(help: "Product description.") var productDescription: String?
        @Option(help: "Deal title.") var title: String
        @Option(help: "Price in major units, e.g. 19.99 (no more decimals than the currency has).") var price: String
        @Option(help: "ISO 4217 currency code, e.g. EUR, USD, KRW.") var currency: String
        @Option(help: "Units for sale.") var stock: Int
        @Option(help: "Most units one shopper may hold.") var limit: Int = 1
        @Option(help: "Start this long from now, e.g. 10s, 5m, 1h, 500ms (negative: already started).") var startsIn:
            String?
        @Option(help: "Start at this instant, ISO 8601, e.g. 2026-11-25T10:00:00Z.") var startsAt: String?
        @Option(help: "How long the deal lasts, e.g. 30m.") var duration: String
        @Option(
            help:
                "Confirmed orders not paid within this long are cancelled (EXPIRED) and their units go back on sale, e.g. 10m (default: no payment window)."
        )
        var paymentWindow: String?
        @Flag(help: "Start over: full stock, no sold-out flag, an empty waiting room and a new draw seed.") var reset =
            false

        func validate() throws {
            switch (startsIn, startsAt) {
            case (nil, nil): throw ValidationError("give the start: --starts-in (e.g. 10s) or --starts-at (ISO 8601)")
            case (.some, .some): throw ValidationError("use either --starts-in or --starts-at, not both")
            default: break
            }
            guard stock >= 1 else { throw ValidationError("--stock must be at least 1, got \(stock)") }
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1, got \(limit)") }
            _ = try model(now: Date())
        }

        /// The deal and product described by the options, at `now`.
        func model(now: Date) throws -> (Deal, Product) {
            do {
                let currencyCode = try CurrencyCode(currency.uppercased())
                let amount = try DealInput.minorUnits(price, currency: currencyCode)
                let start: Date
                if let startsAt {
                    start = try DealInput.instant(startsAt)
                } else {
                    start = now.addingTimeInterval(
                        try DealInput.duration(startsIn ?? "0s", option: "--starts-in").seconds)
                }
                let length = try DealInput.duration(duration, option: "--duration")
                guard length > .zero else { throw ValidationError("--duration must be positive, got \(duration)") }
                let window = try paymentWindow.map { try DealInput.duration($0, option: "--payment-window") }
                let productId = try ProductID(product)
                let deal = try Deal(
                    id: try DealID(id), productId: productId, title: title,
                    price: Money(amountMinor: amount, currency: currencyCode), startsAt: start,
                    endsAt: start.addingTimeInterval(length.seconds), totalStock: stock,
                    perCustomerLimit: limit, paymentWindow: window)
                let item = try Product(id: productId, name: productName ?? deal.title, description: productDescription)
                return (deal, item)
            } catch let error as ValidationError {
                throw error
            } catch {
                throw ValidationError("\(error)")
            }
        }

        func run() async throws {
            let (deal, item) = try model(now: Date())
            let e = try options.load()
            let mongo = try MongoClient(configuration: MongoConfiguration(endpoints: e))
            defer { mongo.shutdown() }
            let redis = RedisClient(
                configuration: RedisConfiguration(host: e.redisHost, port: e.redisPort, connections: 1))
            defer { redis.shutdown() }

            let catalog = DealCatalog(mongo: mongo)
            try await catalog.upsert(item)
            try await catalog.upsert(deal)
            let store = DealStateStore(redis: redis)
            try await store.prepare()
            if reset { try await ReservationStore(redis: redis).reset(deal.id) }
            let seeding = try await store.seed(deal, reset: reset)

            print(DealInput.describe(deal, product: item))
            print(
                "remaining    \(seeding.remaining) of \(deal.totalStock)"
                    + (seeding.createdStock ? (reset ? " (reset)" : " (new)") : " (kept; --reset starts over)"))
            print("commitment   \(seeding.seedCommitment)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a deal: catalog entry, live state in Redis, waiting room and draw record.")

        @OptionGroup var options: EndpointOptions
        @Option(help: "Deal id.") var id: String

        func run() async throws {
            let dealId: DealID
            do { dealId = try DealID(id) } catch { throw ValidationError("\(error)") }
            let e = try options.load()
            let mongo = try MongoClient(configuration: MongoConfiguration(endpoints: e))
            defer { mongo.shutdown() }
            let redis = RedisClient(
                configuration: RedisConfiguration(host: e.redisHost, port: e.redisPort, connections: 1))
            defer { redis.shutdown() }
            let catalog = DealCatalog(mongo: mongo)
            let store = DealStateStore(redis: redis)

            let deal = try await catalog.deal(dealId)
            let state = try await store.state(of: dealId, budget: nil)
            guard deal != nil || state != nil else {
                print("no deal \(dealId) in the catalog or in Redis")
                throw ExitCode.failure
            }
            if let deal {
                let product = try await catalog.product(deal.productId)
                print(DealInput.describe(deal, product: product))
            } else {
                print("catalog      (not in MongoDB)")
            }
            guard let state else {
                print("redis        (not seeded: run `flashdeal deal create`)")
                return
            }
            let phase = state.phase(at: Date(), preQueueWindow: WaitingRoomSettings().preQueueWindow)
            print("phase        \(phase.rawValue)")
            print(
                "remaining    \(state.remaining) of \(state.totalStock)\(state.soldOutFlag ? ", sold-out flag set" : "")"
            )
            if let deal,
                deal.startsAt != state.startsAt || deal.endsAt != state.endsAt
                    || deal.totalStock != state.totalStock || deal.perCustomerLimit != state.perCustomerLimit
            {
                print(
                    "warning      Redis holds another window, stock or limit than the catalog: "
                        + "\(Timestamp.format(state.startsAt))–\(Timestamp.format(state.endsAt)), "
                        + "stock \(state.totalStock), limit \(state.perCustomerLimit)")
            }
            let room = try await store.counters(of: dealId)
            print(
                "waiting room \(room.waiting) waiting, \(room.preQueueEntrants) pre-queue entrants, "
                    + "\(room.admitted) admitted, \(room.skipped) skipped, \(room.activePasses) active passes, "
                    + "\(room.passesUsed) used, \(room.reclaimed) reclaimed, "
                    + String(format: "%.1f/s", room.ratePerSecond))
            if let draw = try await store.draw(of: dealId) {
                print("commitment   \(draw.seedCommitment)")
                if let seed = draw.seed {
                    print(
                        "seed         \(seed)  (drawn \(draw.drawnAt.map(Timestamp.format) ?? "?"), \(draw.entrants) entrants)"
                    )
                } else {
                    print("seed         (revealed after the draw; \(draw.entrants) entrants so far)")
                }
            }
        }
    }
}

/// Parsing and printing for `flashdeal deal`.
enum DealInput {
    /// ISO 4217 currencies whose minor unit is not the hundredth.
    static let minorUnitDigits: [String: Int] = [
        "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
        "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
        "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    ]

    static func digits(_ currency: CurrencyCode) -> Int { minorUnitDigits[currency.rawValue] ?? 2 }

    /// "19.99" in EUR → 1999; "1000" in KRW → 1000. Exact decimal arithmetic, no floating point.
    static func minorUnits(_ text: String, currency: CurrencyCode) throws -> Int64 {
        let digits = digits(currency)
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit), fraction.allSatisfy(\.isASCIIDigit),
            parts.count == 1 || !fraction.isEmpty
        else {
            throw ValidationError("--price \(text.debugDescription) is not a non-negative decimal number like 19.99")
        }
        guard fraction.count <= digits else {
            throw ValidationError("--price \(text) has \(fraction.count) decimals; \(currency) has \(digits)")
        }
        let padded = String(fraction) + String(repeating: "0", count: digits - fraction.count)
        guard let amount = Int64(String(whole) + padded) else { throw ValidationError("--price \(text) is too large") }
        return amount
    }

    static func formatPrice(_ money: Money) -> String {
        let digits = digits(money.currency)
        guard digits > 0 else { return "\(money.amountMinor) \(money.currency)" }
        var divisor: Int64 = 1
        for _ in 0..<digits { divisor *= 10 }
        let fraction = String(money.amountMinor % divisor)
        return
            "\(money.amountMinor / divisor).\(String(repeating: "0", count: digits - fraction.count))\(fraction) \(money.currency)"
    }

    /// `500ms`, `10s`, `5m`, `2h`, `1d`, with an optional leading `-`; a bare number is seconds.
    static func duration(_ text: String, option: String) throws -> Duration {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        let negative = body.hasPrefix("-")
        if negative { body = body.dropFirst() }
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3_600), ("d", 86_400)]
        var scale = 1.0
        for (suffix, factor) in units where body.hasSuffix(suffix) {
            body = body.dropLast(suffix.count)
            scale = factor
            break
        }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCIIDigit || $0 == "." }), let value = Double(body) else {
            throw ValidationError("\(option) \(text.debugDescription) is not a duration like 500ms, 10s, 5m, 1h or 2d")
        }
        return .seconds((negative ? -1 : 1) * value * scale)
    }

    /// `2026-11-25T10:00:00Z`, with optional fractional seconds, or with a `±hh:mm` offset.
    static func instant(_ text: String) throws -> Date {
        if let date = Timestamp.parse(text) { return date }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        throw ValidationError(
            "--starts-at \(text.debugDescription) is not an ISO 8601 instant like 2026-11-25T10:00:00Z")
    }

    static func describe(_ deal: Deal, product: Product?) -> String {
        """
        deal         \(deal.id)  \(deal.title.debugDescription)
        product      \(deal.productId)\(product.map { "  \($0.name.debugDescription)" } ?? "  (not in the catalog)")
        price        \(formatPrice(deal.price))
        window       \(Timestamp.format(deal.startsAt)) – \(Timestamp.format(deal.endsAt))
        stock        \(deal.totalStock) units, at most \(deal.perCustomerLimit) per shopper
        payment      \(deal.paymentWindow.map { "within \(Int($0.seconds)) s of confirmation, else the order expires" } ?? "no payment window")
        """
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
