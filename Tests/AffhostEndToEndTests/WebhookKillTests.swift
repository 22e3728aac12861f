import AffiliateCore
import AffiliateServer
import Foundation
import Synchronization
import Testing

/// webhooks.md §8 item 3: an event committed while its receiver hangs survives a SIGKILL of
/// `affhost serve` between the commit and the delivery, and arrives after the restart under the
/// same `webhook-id`.
@Suite("webhook delivery across SIGKILL", .timeLimit(.minutes(3)))
struct WebhookKillTests {
    /// On PostgreSQL the restarted server is a new instance: the attempt the killed one had in
    /// flight is retaken once its lease (timeout 1 s + 30 s) expires.
    @Test(arguments: WebhookStore.all)
    func anEventCommittedBeforeSIGKILLArrivesAfterTheRestart(store: WebhookStore) async throws {
        try await store.withStorage { storage in try await WebhookReceiver.run { receiver in
            let hanging = Mutex(true)
            receiver.answer { _ in hanging.withLock { $0 } ? .hang : .status(200) }
            let directory = try TestHost.makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            for (name, content) in try ServeCrashTests.fixtureFiles() {
                try content.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
            }
            try (Webhooks.current + "\n").write(toFile: directory + "/crm.whsec", atomically: true, encoding: .utf8)
            let port = try AffhostProcess.freePort()
            try store.yaml(
                ServeCrashTests.config(directory: directory, port: port, receiver: receiver.url, timeout: "1s")
                    .replacingOccurrences(of: "sqlite:\(directory)/affhost.sqlite", with: "sqlite:$DIR/affhost.sqlite"),
                storage: storage
            ).replacingOccurrences(of: "$DIR", with: directory)
                .write(toFile: directory + "/affhost.yaml", atomically: true, encoding: .utf8)

            let server = try AffhostProcess.Server(config: "affhost.yaml", in: directory, port: port)
            defer { server.stop() }
            try await server.waitUntilServing()
            let changed = try await TestHost.send(
                port: port, .put, "/api/v1/payouts/update?id=2709870&status=completed", headers: ["X-API-KEY": ServeCrashTests.fpKey]
            )
            #expect(changed.status == 200)
            let first = try await receiver.wait(count: 1)[0]
            server.signal(SIGKILL)
            server.process.waitUntilExit()
            #expect(server.process.terminationStatus == SIGKILL)

            hanging.withLock { $0 = false }
            let restarted = try AffhostProcess.Server(config: "affhost.yaml", in: directory, port: port)
            defer { restarted.stop() }
            try await restarted.waitUntilServing()
            let again = try await receiver.wait(count: 2, timeout: .seconds(60))
            #expect(again[1].webhookID == first.webhookID)
            #expect(again[1].body == first.body)
            #expect(again[1].json["data"]?.serialized == changed.body)

            let admin = AdminClient(address: .unix(path: directory + "/admin.sock"))
            var state: JSONValue?
            for _ in 0..<200 {
                state = try await admin.get("/webhooks/deliveries").body["deliveries"]?.arrayValue?.first?["state"]
                if state == .string("delivered") { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(state == .string("delivered"))
        } }
    }
}
