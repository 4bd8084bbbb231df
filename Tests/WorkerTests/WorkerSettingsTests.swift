import OrderWorker
import Testing

@Suite("Worker settings from the environment")
struct WorkerSettingsTests {
    @Test func theResenderAndProducerSettingsAreReadAndBadValuesNameTheirVariable() throws {
        let defaults = try WorkerSettings.load(environment: [:])
        #expect(defaults.resendAfter == .seconds(10))
        #expect(defaults.resendInterval == .seconds(1))
        #expect(defaults.resendLimit == 1_000)
        #expect(defaults.producerProperties.isEmpty)
        #expect(defaults.eventWatchGroupID == "flashdeal-order-worker.event-watch")

        let set = try WorkerSettings.load(environment: [
            "FLASHDEAL_WORKER_RESEND_AFTER_MS": "2500", "FLASHDEAL_WORKER_RESEND_INTERVAL_MS": "200",
            "FLASHDEAL_WORKER_RESEND_LIMIT": "50", "FLASHDEAL_KAFKA_PRODUCER_PROPERTIES": "enable.idempotence=true",
            "FLASHDEAL_WORKER_GROUP": "g",
        ])
        #expect(set.resendAfter == .milliseconds(2_500))
        #expect(set.resendInterval == .milliseconds(200))
        #expect(set.resendLimit == 50)
        #expect(set.producerProperties == ["enable.idempotence": "true"])
        #expect(set.eventWatchGroupID == "g.event-watch")

        for (name, value) in [
            ("FLASHDEAL_WORKER_RESEND_AFTER_MS", "50"), ("FLASHDEAL_WORKER_RESEND_AFTER_MS", "soon"),
            ("FLASHDEAL_WORKER_RESEND_LIMIT", "0"), ("FLASHDEAL_KAFKA_PRODUCER_PROPERTIES", "=1"),
        ] {
            #expect {
                _ = try WorkerSettings.load(environment: [name: value])
            } throws: { error in
                "\(error)".contains(name)
            }
        }
    }

    @Test func aStaticInstanceIdIsAKafkaGroupInstanceIdOrRefused() throws {
        #expect(try WorkerSettings.load(environment: [:]).instanceID == nil)
        let pod = "order-worker-7d9c6b5f4-x2x9k"
        #expect(try WorkerSettings.load(environment: ["FLASHDEAL_WORKER_INSTANCE_ID": pod]).instanceID == pod)
        // Empty is unset, as for every variable.
        #expect(try WorkerSettings.load(environment: ["FLASHDEAL_WORKER_INSTANCE_ID": ""]).instanceID == nil)
        for bad in ["pod name", "pod/1", String(repeating: "a", count: 250)] {
            #expect {
                _ = try WorkerSettings.load(environment: ["FLASHDEAL_WORKER_INSTANCE_ID": bad])
            } throws: { error in
                "\(error)".contains("FLASHDEAL_WORKER_INSTANCE_ID")
            }
        }
    }

    /// The tests run a debug build, where the checker's check can inject its bug; nothing else is
    /// accepted (a release build refuses the variable altogether).
    @Test func theInjectedBugIsOneKnownNameAndOffByDefault() throws {
        #expect(try WorkerSettings.load(environment: [:]).skipStockCheck == false)
        #expect(try WorkerSettings.load(environment: ["FLASHDEAL_INJECT_BUG": "skip-stock-check"]).skipStockCheck)
        #expect {
            _ = try WorkerSettings.load(environment: ["FLASHDEAL_INJECT_BUG": "oversell-please"])
        } throws: { error in
            "\(error)".contains("FLASHDEAL_INJECT_BUG")
        }
    }
}
