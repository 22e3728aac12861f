import AffiliateCore
import Foundation
import Synchronization
import Testing

/// webhooks.md §8 items 1, 2, 4 and 5 against a real server and a real receiver, on SQLite.
@Suite struct WebhookDeliveryTests {
    // Each test runs on every store in `WebhookStore.all`.
    /// `acme` (firstpromoter-v1, the spec's example state) with endpoint `crm` at `receiver`.
    static func runFirstPromoter(
        _ receiver: WebhookReceiver, on store: WebhookStore, endpoint: String? = nil, delivery: String = Webhooks.delivery(),
        _ body: @escaping @Sendable (TestHost) async throws -> Void
    ) async throws {
        let yaml = delivery + FirstPromoter.config(acme: endpoint ?? Webhooks.endpoint(url: receiver.url))
        try await store.withStorage { storage in
            try await TestHost.run(
                yaml: store.yaml(yaml, storage: storage),
                files: Webhooks.files.merging(["acme.yaml": FirstPromoter.specFixtures]) { $1 }, body
            )
        }
    }

    @Test(arguments: WebhookStore.all) func aPayoutStatusChangeArrivesSignedWithTheResponseAsData(store: WebhookStore) async throws {
        try await WebhookReceiver.run { receiver in
            try await Self.runFirstPromoter(receiver, on: store) { host in
                let changed = try await host.fpForm(.put, "/api/v1/payouts/update", "id=2709870&status=completed")
                #expect(changed.status == 200)
                let received = try await receiver.wait(count: 1)
                let request = received[0]
                Webhooks.expectSigned(request)
                #expect(request.webhookID.hasPrefix("evt_") && request.webhookID.count == 20)
                #expect(request.headers["user-agent"]?.hasPrefix("affhost/") == true)
                let event = request.json["event"]
                #expect(event?["type"] == .string("payout_status_changed"))
                #expect(event?["previous_status"] == .string("pending"))
                #expect(event?["id"]?.integerValue.map { $0 > 0 } == true)
                #expect(event?["created_at"]?.stringValue.flatMap { Timestamp(iso8601: $0) } != nil)
                #expect(request.json.objectValue?.keys == ["event", "data"])
                #expect(event?.objectValue?.keys == ["id", "type", "created_at", "previous_status"])
                // `data` is the object the API returned for the change, byte for byte.
                #expect(request.json["data"]?.serialized == changed.body)

                // A same-status PUT and a refused change emit nothing.
                #expect(try await host.fpForm(.put, "/api/v1/payouts/update", "id=2709870&status=completed").status == 200)
                #expect(try await host.fpForm(.put, "/api/v1/payouts/update", "id=2709870&status=lost").status == 422)
                let reward = try await host.fpForm(.put, "/api/v1/rewards/update", "id=5101002&status=approved")
                #expect(reward.status == 200)
                let next = try await receiver.wait("two events") { $0.firstOfEachID.count == 2 }.firstOfEachID
                #expect(next.last?.json["event"]?["type"] == .string("reward_status_changed"))
                #expect(next.last?.json["data"]?.serialized == reward.body)
                try await Task.sleep(for: .milliseconds(300))
                #expect(receiver.hooks.firstOfEachID.count == 2)
                // Event ids are the outbox numbers, in commit order.
                let ids = receiver.hooks.firstOfEachID.compactMap { $0.json["event"]?["id"]?.integerValue }
                #expect(ids.count == 2 && ids[0] < ids[1])
            }
        }
    }

    @Test(arguments: WebhookStore.all) func creationsEmitTheirEventsAndFixturesEmitNothing(store: WebhookStore) async throws {
        try await WebhookReceiver.run { receiver in
            try await Self.runFirstPromoter(receiver, on: store) { host in
                let reward = try await host.fpForm(
                    .post, "/api/v1/rewards/create", "ref_id=avery&reward_type=cash&amount=700&event_id=evt-web-1"
                )
                #expect(reward.status == 200)
                let received = try await receiver.wait(count: 1)
                #expect(received[0].json["event"]?["type"] == .string("reward_created"))
                #expect(received[0].json["event"]?["previous_status"] == .null)
                #expect(received[0].json["data"]?.serialized == reward.body)

                let promoter = try await host.fpForm(.post, "/api/v1/promoters/create", "email=webhook.new@example.com")
                #expect(promoter.status == 200)
                let events = try await receiver.wait("two events") { $0.firstOfEachID.count == 2 }.firstOfEachID
                let signedUp = events[1]
                #expect(signedUp.json["event"]?["type"] == .string("promoter_signed_up"))
                #expect(signedUp.json["data"]?["promoter"]?.serialized == promoter.body)
                #expect(signedUp.json["data"]?["promotions"] == promoter.fpValue["promotions"])
                try await Task.sleep(for: .milliseconds(300))
                #expect(receiver.hooks.firstOfEachID.count == 2)
            }
        }
    }

    @Test(arguments: WebhookStore.all) func vantioEventsCarryTheirOwnEnvelope(store: WebhookStore) async throws {
        try await WebhookReceiver.run { receiver in
            let campus = Webhooks.endpoint(url: receiver.url, events: "[earning.status_changed, earning.created]")
            let yaml = Webhooks.delivery() + Vantio.config(campus: campus)
            let files = Webhooks.files.merging(["campus.yaml": Vantio.demoFixtures]) { $1 }
            try await store.withStorage { storage in try await TestHost.run(yaml: store.yaml(yaml, storage: storage), files: files) { host in
                let changed = try await host.vantio(.put, "/api/v1/earnings/earn_123abc", json: #"{"status": "paid"}"#)
                #expect(changed.status == 200)
                let request = try await receiver.wait(count: 1)[0]
                Webhooks.expectSigned(request)
                let body = request.json
                #expect(body.objectValue?.keys == ["id", "type", "timestamp", "previous_status", "data"])
                #expect(body["id"] == .string(request.webhookID))
                #expect(body["type"] == .string("earning.status_changed"))
                #expect(body["previous_status"] == .string("pending"))
                #expect(body["data"]?.serialized == changed.body)
            } }
        }
    }

    /// The events not covered above: firstpromoter-v1's `payout_created`; vantio-v1's
    /// `referral.created`, `referral.status_changed` and `earning.created`, none for an
    /// idempotent replay; and, with a rotating endpoint, two signatures each valid alone.
    @Test(arguments: WebhookStore.all) func everyOtherEventAndRotatedSignatures(store: WebhookStore) async throws {
        try await WebhookReceiver.run { receiver in
            let acme = Webhooks.endpoint(url: receiver.url, events: "[payout_created]", rotating: true)
            try await Self.runFirstPromoter(receiver, on: store, endpoint: acme) { host in
                #expect(try await host.fpForm(.put, "/api/v1/rewards/update", "id=5101002&status=approved").status == 200)
                let payout = try await host.fpForm(.post, "/api/v1/payouts/create", "promoter_id=8262622")
                #expect(payout.status == 200)
                let request = try await receiver.wait(count: 1)[0]
                #expect(request.json["event"]?["type"] == .string("payout_created"))
                #expect(request.json["event"]?["previous_status"] == .null)
                #expect(request.json["data"]?.serialized == payout.body)
                Webhooks.expectSigned(request, secrets: [Webhooks.current, Webhooks.previous])
                let signatures = (request.headers["webhook-signature"] ?? "").split(separator: " ").map(String.init)
                #expect(signatures.count == 2)
            }
        }
        try await WebhookReceiver.run { receiver in
            let campus = Webhooks.endpoint(url: receiver.url, events: "[\"*\"]")
            let yaml = Webhooks.delivery() + Vantio.config(campus: campus)
            let files = Webhooks.files.merging(["campus.yaml": Vantio.demoFixtures]) { $1 }
            try await store.withStorage { storage in try await TestHost.run(yaml: store.yaml(yaml, storage: storage), files: files) { host in
                let referral = try await host.vantio(.post, "/api/v1/referrals", json: #"""
                    {"impression_id": "imp_456jkl", "first_name": "Lena", "last_name": "Fischer", "email": "lena@uni.example.org"}
                    """#)
                #expect(referral.status == 201)
                let id = referral.object["id"]?.stringValue ?? ""
                let verified = try await host.vantio(.put, "/api/v1/referrals/\(id)", json: #"{"status": "verified"}"#)
                #expect(verified.status == 200)
                let earning = try await host.vantio(
                    .post, "/api/v1/earnings", json: #"{"referral_id": "\#(id)", "amount": 700, "idempotency_key": "k-1"}"#
                )
                #expect(earning.status == 201)
                let replay = try await host.vantio(
                    .post, "/api/v1/earnings", json: #"{"referral_id": "\#(id)", "amount": 700, "idempotency_key": "k-1"}"#
                )
                #expect(replay.body == earning.body)
                // At least once: a retry (a reused connection the receiver closed, say) may repeat an
                // event under its id, so events are counted by id.
                let received = try await receiver.wait("three events") { $0.firstOfEachID.count == 3 }.firstOfEachID
                #expect(received.map { $0.json["type"] } == [
                    .string("referral.created"), .string("referral.status_changed"), .string("earning.created"),
                ])
                #expect(received.map { $0.json["previous_status"] } == [.null, .string("pending"), .null])
                #expect(received[0].json["data"]?.serialized == referral.body)
                #expect(received[1].json["data"]?.serialized == verified.body)
                #expect(received[2].json["data"]?.serialized == earning.body)
                let got = try await host.vantio(.get, "/api/v1/earnings/\(earning.object["id"]?.stringValue ?? "")")
                #expect(received[2].json["data"]?.serialized == got.body)
                try await Task.sleep(for: .milliseconds(300))
                #expect(receiver.hooks.firstOfEachID.count == 3)
            } }
        }
    }

    @Test(arguments: WebhookStore.all) func aReceiverThatFailsGetsRetriedOnTheScheduleWithTheSameID(store: WebhookStore) async throws {
        try await WebhookReceiver.run { receiver in
            let failures = FailFirst(2)
            receiver.answer { _ in failures.next() ? .status(500) : .status(200) }
            try await Self.runFirstPromoter(receiver, on: store) { host in
                #expect(try await host.fpForm(.put, "/api/v1/payouts/update", "id=2709870&status=completed").status == 200)
                let received = try await receiver.wait(count: 3)
                #expect(Set(received.map(\.webhookID)).count == 1)
                #expect(Set(received.map(\.body)).count == 1)
                for (earlier, later) in zip(received, received.dropFirst()) {
                    #expect(later.at - earlier.at >= .milliseconds(170))
                }
                let listed = try await host.waitForDelivery(state: "delivered")
                #expect(listed["attempts"] == .int(3))
                #expect(listed["response_code"] == .int(200))
            }
        }
    }

    @Test(arguments: WebhookStore.all) func retryAfterIsHonouredAndARedirectIsNeverFollowed(store: WebhookStore) async throws {
        try await WebhookReceiver.run { receiver in
            let calls = FailFirst(2)
            receiver.answer { request in
                guard request.path == "/hooks" else { return .status(200) }
                switch calls.count() {
                case 0: return .status(429, headers: ["Retry-After": "2"])
                case 1: return .status(302, headers: ["Location": "http://127.0.0.1:\(receiver.port)/elsewhere"])
                default: return .status(204)
                }
            }
            try await Self.runFirstPromoter(receiver, on: store, delivery: Webhooks.delivery(schedule: "[100ms, 100ms, 100ms]")) { host in
                #expect(try await host.fpForm(.put, "/api/v1/payouts/update", "id=2709870&status=completed").status == 200)
                let received = try await receiver.wait(count: 3)
                #expect(received[1].at - received[0].at >= .seconds(2))
                #expect(receiver.received.allSatisfy { $0.path == "/hooks" })
                let listed = try await host.waitForDelivery(state: "delivered")
                #expect(listed["attempts"] == .int(3))
                let detail = try await host.adminClient().get("/webhooks/deliveries/\(listed["id"]?.integerValue ?? 0)")
                let log = detail.body["attempt_log"]?.arrayValue ?? []
                #expect(log.map { $0["response_code"] } == [.int(429), .int(302), .int(204)])
                #expect(log[1]["error"] == .string("redirect not followed"))
            }
        }
    }

    @Test(arguments: WebhookStore.all) func goneEndpointsPauseUntilResumed(store: WebhookStore) async throws {
        try await WebhookReceiver.run { receiver in
            let calls = FailFirst(1)
            receiver.answer { _ in calls.next() ? .status(410) : .status(200) }
            try await Self.runFirstPromoter(receiver, on: store) { host in
                #expect(try await host.fpForm(.put, "/api/v1/payouts/update", "id=2709870&status=completed").status == 200)
                _ = try await receiver.wait(count: 1)
                // The 410 is stored (and the endpoint paused) before the next change commits.
                let paused = try await host.waitForDelivery(state: "retrying")
                #expect(paused["response_code"] == .int(410))
                #expect(try await host.fpForm(.put, "/api/v1/rewards/update", "id=5101002&status=approved").status == 200)
                try await Task.sleep(for: .milliseconds(800))
                #expect(receiver.hooks.count == 1)
                let queued = try await host.adminClient().get("/webhooks/deliveries?state=pending")
                #expect(queued.body["deliveries"]?.arrayValue?.count == 1)

                let resumed = try await host.adminClient().post("/webhooks/endpoints/acme/crm/resume")
                #expect(resumed.status == 200)
                #expect(resumed.body == .object(["endpoint": .string("acme/crm"), "resumed": .bool(true)]))
                let received = try await receiver.wait(count: 3)
                #expect(Set(received.map(\.webhookID)).count == 2)
                // The paused delivery is tried again (both are sent at once, in either order).
                #expect(received[1...].contains { $0.webhookID == received[0].webhookID })
            }
        }
    }

    /// A receiver that is down (connection refused) costs the write path nothing; once it is up,
    /// everything queued arrives.
    @Test(arguments: WebhookStore.all) func aReceiverDownThenUpGetsEverything(store: WebhookStore) async throws {
        try await WebhookReceiver.run { receiver in
            let down = "http://127.0.0.1:\(try AffhostProcess.freePort())/hooks"
            let schedule = Webhooks.delivery(schedule: "[200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms]")
            try await Self.runFirstPromoter(receiver, on: store, endpoint: Webhooks.endpoint(url: down), delivery: schedule) { host in
                #expect(try await host.fpForm(.put, "/api/v1/payouts/update", "id=2709870&status=completed").status == 200)
                #expect(try await host.fpForm(.put, "/api/v1/rewards/update", "id=5101002&status=approved").status == 200)
                let retrying = try await host.waitForDelivery(state: "retrying")
                #expect(retrying["response_code"] == .null)
                #expect(retrying["last_error"]?.stringValue?.isEmpty == false)

                // The receiver comes up where the endpoint points.
                let yaml = schedule + FirstPromoter.config(acme: Webhooks.endpoint(url: receiver.url))
                let storage = host.runtime.config.storage.url
                try host.rewriteConfig(yaml.replacingOccurrences(of: "sqlite:$DIR/affhost.sqlite", with: storage))
                #expect(try await host.adminClient().post("/reload").body["result"] == .string("applied"))
                let received = try await receiver.wait(count: 2)
                #expect(Set(received.map { $0.json["event"]?["type"] }) == [.string("payout_status_changed"), .string("reward_status_changed")])
            }
        }
    }

    /// webhooks.md §6: the `affhost_webhook_*` series on the admin listener's `/metrics`.
    @Test(arguments: WebhookStore.all) func metricsCountEventsAttemptsAndDeliveries(store: WebhookStore) async throws {
        try await WebhookReceiver.run { receiver in
            let failures = FailFirst(1)
            receiver.answer { _ in failures.next() ? .status(500) : .status(200) }
            try await Self.runFirstPromoter(receiver, on: store) { host in
                #expect(try await host.fpForm(.put, "/api/v1/payouts/update", "id=2709870&status=completed").status == 200)
                _ = try await host.waitForDelivery(state: "delivered")
                let text = try await host.adminClient().get("/metrics").body.stringValue ?? ""
                let lines = Set(text.split(separator: "\n").map(String.init))
                for expected in [
                    #"affhost_webhook_events_total{tenant="acme",type="payout_status_changed"} 1"#,
                    #"affhost_webhook_attempts_total{tenant="acme",endpoint="crm",outcome="server_error"} 1"#,
                    #"affhost_webhook_attempts_total{tenant="acme",endpoint="crm",outcome="success"} 1"#,
                    #"affhost_webhook_deliveries_total{tenant="acme",endpoint="crm",result="delivered"} 1"#,
                    #"affhost_webhook_delivery_latency_seconds_count{tenant="acme",endpoint="crm"} 1"#,
                    #"affhost_webhook_attempt_duration_seconds_count{tenant="acme",endpoint="crm"} 2"#,
                ] {
                    #expect(lines.contains(expected), "missing: \(expected)")
                }
                #expect(!text.contains(Webhooks.current.dropFirst(6)))
            }
        }
    }

    @Test(arguments: WebhookStore.all) func oneRecordsEventsKeepTheirOrderWhileOthersFlow(store: WebhookStore) async throws {
        try await WebhookReceiver.run { receiver in
            // Every event's first attempt fails, and the payout's events keep failing until the
            // reward's event is in: were the reward held behind them, it would never arrive.
            let seen = SeenOnce()
            let rewardIn = Mutex(false)
            receiver.answer { request in
                let firstTry = seen.firstTime(request.webhookID)
                if request.json["event"]?["type"] == .string("reward_status_changed") {
                    if firstTry { return .status(503) }
                    rewardIn.withLock { $0 = true }
                    return .status(200)
                }
                return firstTry || !rewardIn.withLock({ $0 }) ? .status(503) : .status(200)
            }
            let statuses = "statuses:\n  payouts: [pending, processing, completed, failed]"
            let endpoint = Webhooks.endpoint(url: receiver.url, events: "[payout_status_changed, reward_status_changed]")
            let yaml = Webhooks.delivery(schedule: "[300ms, 300ms, 300ms]") + FirstPromoter.config(acme: statuses + "\n" + endpoint)
            let files = Webhooks.files.merging(["acme.yaml": FirstPromoter.specFixtures]) { $1 }
            try await store.withStorage { storage in try await TestHost.run(yaml: store.yaml(yaml, storage: storage), files: files) { host in
                for status in ["processing", "completed", "failed", "pending"] {
                    #expect(try await host.fpForm(.put, "/api/v1/payouts/update", "id=2709870&status=\(status)").status == 200)
                }
                #expect(try await host.fpForm(.put, "/api/v1/rewards/update", "id=5101002&status=approved").status == 200)
                // Five events, each delivered at last: the payout's in commit order.
                let all = try await receiver.wait(timeout: .seconds(60), "five events delivered") { requests in
                    Set(requests.map(\.webhookID)).count == 5 && rewardIn.withLock({ $0 })
                        && requests.filter { $0.json["event"]?["type"] == .string("payout_status_changed") }.count >= 8
                }
                _ = try await host.waitForDelivery(state: "delivered", timeout: .seconds(60))
                try await Task.sleep(for: .milliseconds(300))
                let firstArrivals = receiver.hooks.reduce(into: [String: WebhookReceiver.Received]()) { firsts, request in
                    if firsts[request.webhookID] == nil { firsts[request.webhookID] = request }
                }.values.sorted { $0.at < $1.at }
                let payouts = firstArrivals.filter { $0.json["event"]?["type"] == .string("payout_status_changed") }
                #expect(payouts.map { $0.json["event"]?["previous_status"] } == ["pending", "processing", "completed", "failed"].map(JSONValue.string))
                #expect(all.count >= 10)
            } }
        }
    }
}

/// Answers `true` for the first `count` calls of ``next()``.
final class FailFirst: Sendable {
    private let calls = Mutex(0)
    private let failing: Int
    init(_ failing: Int) { self.failing = failing }
    func next() -> Bool { calls.withLock { calls in defer { calls += 1 }; return calls < failing } }
    /// How many calls came before this one.
    func count() -> Int { calls.withLock { calls in defer { calls += 1 }; return calls } }
}

/// Whether an id is seen for the first time.
final class SeenOnce: Sendable {
    private let seen = Mutex<Set<String>>([])
    func firstTime(_ id: String) -> Bool { seen.withLock { $0.insert(id).inserted } }
}

extension TestHost {
    /// Waits until the newest delivery reaches `state`; returns it as the admin API lists it.
    func waitForDelivery(state: String, timeout: Duration = .seconds(20)) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let listed = try await adminClient().get("/webhooks/deliveries?limit=1")
            if let first = listed.body["deliveries"]?.arrayValue?.first, first["state"] == .string(state) { return first }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw WebhookReceiver.ReceiverTimeout(what: "a delivery in state \(state)", received: 0)
    }
}

extension [WebhookReceiver.Received] {
    /// Each event once, at its first arrival, in arrival order.
    var firstOfEachID: [WebhookReceiver.Received] {
        var seen: Set<String> = []
        return filter { seen.insert($0.webhookID).inserted }
    }
}
