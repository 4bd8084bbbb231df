public import DealData
public import Infrastructure

/// The order worker's tuning, from the environment (docs/worker.md has the table).
public struct WorkerSettings: Sendable, Equatable {
    /// Messages taken per poll and processed together (`FLASHDEAL_WORKER_BATCH`, default 2,000).
    public var batchSize = 2_000
    /// Consumer group (`FLASHDEAL_WORKER_GROUP`, default `flashdeal-order-worker`).
    public var groupID = "flashdeal-order-worker"
    /// How long after a deal's end queued orders are still served (`FLASHDEAL_WORKER_CLOSE_GRACE_MS`,
    /// default 300,000): they were accepted before the end.
    public var closeGrace: Duration = .seconds(300)
    /// How long MongoDB may stay unavailable before a batch is failed and its stock released
    /// (`FLASHDEAL_WORKER_MONGO_BUDGET_MS`, default 30,000).
    public var mongoRetryBudget: Duration = .seconds(30)
    /// First and longest pause between retries of a failed dependency call.
    public var retryBackoff: ClosedRange<Duration> = .milliseconds(50) ... .seconds(2)
    /// How often the outbox is written to MongoDB (`FLASHDEAL_WORKER_OUTBOX_MS`, default 1,000).
    public var outboxInterval: Duration = .seconds(1)
    /// Kafka producer linger for outcome events (`FLASHDEAL_WORKER_LINGER_MS`, default 20).
    public var linger: Duration = .milliseconds(20)
    /// How often reservations past their payment deadline are released
    /// (`FLASHDEAL_WORKER_EXPIRY_MS`, default 1,000).
    public var expiryInterval: Duration = .seconds(1)
    /// Consumer session timeout (`FLASHDEAL_WORKER_SESSION_TIMEOUT_MS`, default 6,000).
    public var sessionTimeout: Duration = .seconds(6)
    /// Static group membership (`FLASHDEAL_WORKER_INSTANCE_ID`, e.g. the pod's name): the consumers'
    /// `group.instance.id`, so a worker that restarts within the session timeout takes its partitions
    /// back without a rebalance of the whole group. None by default (dynamic membership).
    public var instanceID: String?
    /// How long an accepted order may stay undecided, or a published outcome unseen in the log, before
    /// the re-sender sends it again (`FLASHDEAL_WORKER_RESEND_AFTER_MS`, default 10,000). Shorter
    /// finds a loss sooner; longer re-sends fewer orders that were only queued behind a backlog.
    public var resendAfter: Duration = .seconds(10)
    /// How often the re-sender looks (`FLASHDEAL_WORKER_RESEND_INTERVAL_MS`, default 1,000).
    public var resendInterval: Duration = .seconds(1)
    /// Most orders of one deal sent again per look and kind (`FLASHDEAL_WORKER_RESEND_LIMIT`, default 1,000).
    public var resendLimit = 1_000
    /// librdkafka properties for the event producer, over Flash Deal's own
    /// (`FLASHDEAL_KAFKA_PRODUCER_PROPERTIES`, `name=value,…`).
    public var producerProperties: [String: String] = [:]
    public var topics = OrderTopics()

    /// The consumer group of the event watcher, which reads outcome events back from the log.
    public var eventWatchGroupID: String { groupID + ".event-watch" }

    /// The Redis set of deals this deployment sweeps for payment deadlines; workers on prefixed
    /// topics keep a set of their own (their expiry events go to their own topics).
    public var expiringDealsKey: String {
        let prefix = String(topics.requests.dropLast(FlashDealTopics.orderRequests.count))
        return OrderKeys.expiringDeals + (prefix.isEmpty ? "" : ":" + prefix)
    }

    #if DEBUG
        /// A deliberate bug, for checking that the checkers catch one (debug builds only, never in a
        /// release binary): `FLASHDEAL_INJECT_BUG=skip-stock-check` confirms a reservation Redis
        /// refused as sold out, as a reservation that skipped the stock check would.
        public var skipStockCheck = false
    #endif

    public init() {}

    public typealias Invalid = ConfigurationError

    public static func load(environment: [String: String]) throws -> WorkerSettings {
        var s = WorkerSettings()
        let env = EnvironmentValues(environment)
        let day = 86_400_000
        if let v = try env.int("FLASHDEAL_WORKER_BATCH", in: 1...10_000) { s.batchSize = v }
        if let prefix = env.string("FLASHDEAL_TOPIC_PREFIX") { s.topics = OrderTopics(prefix: prefix) }
        if let group = env.string("FLASHDEAL_WORKER_GROUP") { s.groupID = group }
        if let v = try env.milliseconds("FLASHDEAL_WORKER_CLOSE_GRACE_MS", in: 0...day) { s.closeGrace = v }
        if let v = try env.milliseconds("FLASHDEAL_WORKER_MONGO_BUDGET_MS", in: 0...day) { s.mongoRetryBudget = v }
        if let v = try env.milliseconds("FLASHDEAL_WORKER_OUTBOX_MS", in: 10...day) { s.outboxInterval = v }
        if let v = try env.milliseconds("FLASHDEAL_WORKER_LINGER_MS", in: 0...10_000) { s.linger = v }
        if let v = try env.milliseconds("FLASHDEAL_WORKER_SESSION_TIMEOUT_MS", in: 1_000...600_000) {
            s.sessionTimeout = v
        }
        if let id = env.string("FLASHDEAL_WORKER_INSTANCE_ID") {
            // Kafka's rule for group.instance.id: 1–249 of [A-Za-z0-9._-].
            let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
            guard (1...249).contains(id.count), id.allSatisfy(allowed.contains) else {
                throw Invalid(
                    "FLASHDEAL_WORKER_INSTANCE_ID: '\(id)' is not a group instance id (1–249 of A–Z a–z 0–9 . _ -)",
                    setting: "FLASHDEAL_WORKER_INSTANCE_ID")
            }
            s.instanceID = id
        }
        if let v = try env.milliseconds("FLASHDEAL_WORKER_EXPIRY_MS", in: 10...day) { s.expiryInterval = v }
        if let v = try env.milliseconds("FLASHDEAL_WORKER_RESEND_AFTER_MS", in: 100...day) { s.resendAfter = v }
        if let v = try env.milliseconds("FLASHDEAL_WORKER_RESEND_INTERVAL_MS", in: 10...day) {
            s.resendInterval = v
        }
        if let v = try env.int("FLASHDEAL_WORKER_RESEND_LIMIT", in: 1...100_000) { s.resendLimit = v }
        if let raw = env.string("FLASHDEAL_KAFKA_PRODUCER_PROPERTIES") {
            do { s.producerProperties = try KafkaProducerConfiguration.parseProperties(raw) } catch {
                throw Invalid(
                    "FLASHDEAL_KAFKA_PRODUCER_PROPERTIES: \(error.message)",
                    setting: "FLASHDEAL_KAFKA_PRODUCER_PROPERTIES")
            }
        }
        #if DEBUG
            if let bug = env.string("FLASHDEAL_INJECT_BUG") {
                guard bug == "skip-stock-check" else {
                    throw Invalid(
                        "FLASHDEAL_INJECT_BUG: '\(bug)' is not an injectable bug (skip-stock-check)",
                        setting: "FLASHDEAL_INJECT_BUG")
                }
                s.skipStockCheck = true
            }
        #else
            if env.string("FLASHDEAL_INJECT_BUG") != nil {
                throw Invalid(
                    "FLASHDEAL_INJECT_BUG: bugs are injected into debug builds only", setting: "FLASHDEAL_INJECT_BUG")
            }
        #endif
        return s
    }
}
