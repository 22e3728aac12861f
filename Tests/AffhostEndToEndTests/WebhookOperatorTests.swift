import AffiliateCore
import Foundation
import Synchronization
import Testing

/// webhooks.md §8 item 7: reload's effects on queues, and every §6 CLI verb against a running
/// server, with the same output and exit-code conventions as the other admin verbs.
@Suite struct WebhookOperatorTests {
    static func yaml(endpoint: String, schedule: String) -> String {
        Webhooks.delivery(schedule: schedule) + FirstPromoter.config(acme: endpoint)
    }

    static let files = Webhooks.files.merging(["acme.yaml": FirstPromoter.specFixtures]) { $1 }

    @Test(arguments: WebhookStore.all) func everyVerbWorksAgainstARunningServer(store: WebhookStore) async throws {
        try await WebhookReceiver.run { receiver in
            let failing = Mutex(true)
            receiver.answer { _ in failing.withLock { $0 } ? .status(500) : .status(200) }
            let yaml = Self.yaml(endpoint: Webhooks.endpoint(url: receiver.url), schedule: "[100ms]")
            try await store.withStorage { storage in try await TestHost.run(yaml: store.yaml(yaml, storage: storage), files: Self.files) { host in
                let directory = host.directory
                #expect(try await host.fpForm(.put, "/api/v1/payouts/update", "id=2709870&status=completed").status == 200)
                let failed = try await host.waitForDelivery(state: "failed")
                let id = failed["id"]?.integerValue ?? 0
                #expect(failed["attempts"] == .int(2))

                let list = try AffhostProcess.run(["webhooks", "list", "--config", "affhost.yaml"], in: directory)
                #expect(list.status == 0, "\(list.standardError)")
                let lines = list.standardOutput.split(separator: "\n")
                #expect(lines.count == 2)
                #expect(lines.first?.hasPrefix("ID") == true)
                #expect(lines.first?.hasSuffix("LAST STATUS/ERROR") == true)
                let cells = lines.last?.split(separator: " ", omittingEmptySubsequences: true).map(String.init) ?? []
                #expect(cells == [
                    String(id), "acme", "crm", "payout_status_changed", receiver.hooks[0].webhookID, "failed", "2", "-", "500",
                ])

                let json = try AffhostProcess.run(["webhooks", "list", "--config", "affhost.yaml", "--state", "failed", "--json"], in: directory)
                #expect(json.status == 0)
                let listed = try JSONValue(parsing: json.standardOutput)
                #expect(listed["deliveries"]?.arrayValue?.count == 1)

                let show = try AffhostProcess.run(["webhooks", "show", String(id), "--config", "affhost.yaml"], in: directory)
                #expect(show.status == 0)
                let detail = try JSONValue(parsing: show.standardOutput)
                #expect(detail["attempt_log"]?.arrayValue?.map { $0["response_code"] } == [.int(500), .int(500)])
                #expect(detail["previous_status"] == .string("pending"))
                #expect(detail["body"]?.stringValue.map { Array($0.utf8) } == receiver.hooks[0].body)

                failing.withLock { $0 = false }
                let retry = try AffhostProcess.run(["webhooks", "retry", String(id), "--config", "affhost.yaml"], in: directory)
                #expect(retry.status == 0)
                #expect(retry.standardOutput == "delivery \(id): pending, due now\n")
                _ = try await receiver.wait(count: 3)
                let delivered = try await host.waitForDelivery(state: "delivered")
                #expect(delivered["attempts"] == .int(3))

                let since = Timestamp(microseconds: Timestamp.now().microseconds - 3_600_000_000).iso8601Seconds
                let replayFailed = try AffhostProcess.run(["webhooks", "replay", "--since", since, "--config", "affhost.yaml"], in: directory)
                #expect(replayFailed.standardOutput == "0 deliveries due again\n")
                let replayAll = try AffhostProcess.run(
                    ["webhooks", "replay", "--since", since, "--all", "--tenant", "acme", "--config", "affhost.yaml"], in: directory
                )
                #expect(replayAll.status == 0)
                #expect(replayAll.standardOutput == "1 deliveries due again\n")
                let again = try await receiver.wait(count: 4)
                #expect(again[3].webhookID == again[0].webhookID)

                let resume = try AffhostProcess.run(["webhooks", "resume", "acme/crm", "--config", "affhost.yaml"], in: directory)
                #expect(resume.status == 0)
                #expect(resume.standardOutput == "acme/crm was not paused\n")

                let missing = try AffhostProcess.run(["webhooks", "retry", "999999", "--config", "affhost.yaml"], in: directory)
                #expect(missing.status == 1)
                #expect(missing.standardError == "no delivery 999999\n")
                let unknown = try AffhostProcess.run(["webhooks", "resume", "acme/nope", "--config", "affhost.yaml"], in: directory)
                #expect(unknown.status == 1)
                #expect(unknown.standardError == "no endpoint acme/nope in the served configuration\n")
                let badState = try AffhostProcess.run(["webhooks", "list", "--state", "lost", "--config", "affhost.yaml"], in: directory)
                #expect(badState.status == 1)
                #expect(badState.standardError.hasPrefix("state 'lost' is not one of: pending, retrying"))
            } }
        }
        let down = try AffhostProcess.run(["webhooks", "list", "--admin", "unix:/nonexistent/admin.sock"], in: TestHost.repositoryRoot)
        #expect(down.status == 1)
        #expect(down.standardError.hasPrefix("cannot reach the admin API at unix:/nonexistent/admin.sock"))
    }

    @Test(arguments: WebhookStore.all) func reloadMovesHoldsAndCancelsQueues(store: WebhookStore) async throws {
        try await WebhookReceiver.run { first in
            try await WebhookReceiver.run { second in
                first.answer { _ in .status(500) }
                // Long enough that no retry falls between a change and the reload after it, even on
                // a machine busy with the whole test run.
                let schedule = "[3s, 3s, 3s, 3s]"
                try await store.withStorage { storage in
                @Sendable func yaml(_ endpoint: String) -> String {
                    store.yaml(Self.yaml(endpoint: endpoint, schedule: schedule), storage: storage)
                }
                try await TestHost.run(yaml: yaml(Webhooks.endpoint(url: first.url)), files: Self.files) { host in
                    #expect(try await host.fpForm(.put, "/api/v1/payouts/update", "id=2709870&status=completed").status == 200)
                    _ = try await first.wait(count: 1)

                    // A new URL takes the queue: the next attempt goes there.
                    try host.rewriteConfig(yaml(Webhooks.endpoint(url: second.url)))
                    #expect(try await host.adminClient().post("/reload").body["result"] == .string("applied"))
                    let moved = try await second.wait(count: 1)
                    #expect(moved[0].webhookID == first.hooks[0].webhookID)
                    _ = try await host.waitForDelivery(state: "delivered")

                    // enabled: false queues nothing new and holds what is queued.
                    second.answer { _ in .status(500) }
                    #expect(try await host.fpForm(.put, "/api/v1/rewards/update", "id=5101002&status=approved").status == 200)
                    _ = try await second.wait(count: 2)
                    let held = Webhooks.endpoint(url: second.url, enabled: false)
                    try host.rewriteConfig(yaml(held))
                    #expect(try await host.adminClient().post("/reload").body["result"] == .string("applied"))
                    #expect(try await host.fpForm(.put, "/api/v1/rewards/update", "id=5101002&status=denied").status == 200)
                    try await Task.sleep(for: .milliseconds(3_500))
                    #expect(second.hooks.count == 2)
                    let all = try await host.adminClient().get("/webhooks/deliveries")
                    #expect(all.body["deliveries"]?.arrayValue?.map { $0["state"] } == [.string("retrying"), .string("delivered")])

                    // Removal cancels what is queued.
                    try host.rewriteConfig(yaml(""))
                    #expect(try await host.adminClient().post("/reload").body["result"] == .string("applied"))
                    let after = try await host.adminClient().get("/webhooks/deliveries")
                    #expect(after.body["deliveries"]?.arrayValue?.map { $0["state"] } == [.string("cancelled"), .string("delivered")])
                    let retry = try await host.adminClient().post("/webhooks/deliveries/\(after.body["deliveries"]?.arrayValue?.first?["id"]?.integerValue ?? 0)/retry")
                    #expect(retry.status == 409)
                    #expect(retry.body == .object(["error": .string("endpoint acme/crm is no longer configured")]))
                }
                }
            }
        }
    }
}
