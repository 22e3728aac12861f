import AffiliateCore
import AffiliateServer
import Foundation
import PostgresTestSupport
import Synchronization
import Testing

/// webhooks.md §8 item 6: two `affhost serve` processes with the same YAML on one PostgreSQL
/// database share one delivery queue through leases. Every event reaches the receiver once and
/// never from both at once; when one instance is killed, the other takes its leases over once
/// they expire.
@Suite(
    "webhooks on two PostgreSQL instances", .serialized, .timeLimit(.minutes(4)),
    .enabled(if: PostgresTestCluster.shouldRun, Comment(rawValue: PostgresTestCluster.notInstalled))
)
struct WebhookFleetTests {
    /// One instance's folder, configuration and process.
    struct Instance {
        let directory: String
        let server: AffhostProcess.Server
        var port: Int { server.port }
    }

    static func start(storage: String, receiver: WebhookReceiver, timeout: String) async throws -> Instance {
        let directory = try TestHost.makeTemporaryDirectory()
        for (name, content) in try ServeCrashTests.fixtureFiles() {
            try content.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        try (Webhooks.current + "\n").write(toFile: directory + "/crm.whsec", atomically: true, encoding: .utf8)
        let port = try AffhostProcess.freePort()
        let yaml = try ServeCrashTests.config(directory: directory, port: port, receiver: receiver.url, timeout: timeout)
            .replacingOccurrences(of: "sqlite:\(directory)/affhost.sqlite", with: storage)
        try yaml.write(toFile: directory + "/affhost.yaml", atomically: true, encoding: .utf8)
        let server = try AffhostProcess.Server(config: "affhost.yaml", in: directory, port: port)
        try await server.waitUntilServing()
        return Instance(directory: directory, server: server)
    }

    /// Moves the crash tests' records through their words, `changes` requests in all, each record's
    /// one after another, sent to `ports` in turn; `onChange` hears each record's step. Returns
    /// how many were answered 200.
    static func change(_ changes: Int, ports: [Int], onChange: @escaping @Sendable (Int) async -> Void = { _ in }) async throws -> Int {
        let targets = ServeCrashTests.allTargets
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for (index, target) in targets.enumerated() {
                group.addTask {
                    var acknowledged = 0
                    let mine = changes / targets.count + (index < changes % targets.count ? 1 : 0)
                    for step in 0..<mine {
                        let word = target.tenant.cycle[step % target.tenant.cycle.count]
                        let port = ports[(index + step) % ports.count]
                        // A 503 (the database slower than the server's patience, on a machine busy
                        // with the whole test run) is retried as a client would; the audit trail,
                        // not this count, says which changes happened.
                        var response = try await ServeCrashTests.change(port: port, target, to: word)
                        for _ in 0..<5 where response.status == 503 {
                            try await Task.sleep(for: .milliseconds(200))
                            response = try await ServeCrashTests.change(port: port, target, to: word)
                        }
                        #expect(response.status == 200, "\(target) -> \(word): \(response.status) \(response.body)")
                        if response.status == 200 { acknowledged += 1 }
                        await onChange(step)
                    }
                    return acknowledged
                }
            }
            return try await group.reduce(0, +)
        }
    }

    @Test func everyEventIsReceivedOnceFromOneInstanceAtATime() async throws {
        let cluster = try await PostgresTestCluster.shared()
        let database = try await cluster.createDatabase()
        defer { Task { try? await cluster.dropDatabase(database) } }
        try await WebhookReceiver.run { receiver in
            receiver.answer { _ in .delayed(.milliseconds(5), status: 200) }
            let storage = cluster.url(database: database)
            let a = try await Self.start(storage: storage, receiver: receiver, timeout: "5s")
            let b = try await Self.start(storage: storage, receiver: receiver, timeout: "5s")
            defer {
                for instance in [a, b] {
                    instance.server.stop()
                    try? FileManager.default.removeItem(atPath: instance.directory)
                }
            }
            let acknowledged = try await Self.change(1_000, ports: [a.port, b.port])
            #expect(acknowledged == 1_000)
            let changes = try await Self.auditedChanges(admin: a.directory + "/admin.sock")
            #expect(changes >= acknowledged)
            _ = try await receiver.wait(timeout: .seconds(60), "\(changes) events") { Set($0.map(\.webhookID)).count >= changes }
            try await Task.sleep(for: .milliseconds(500))
            let received = receiver.hooks
            #expect(Set(received.map(\.webhookID)).count == changes)
            #expect(received.count == changes, "each (event, endpoint) received once")
            #expect(receiver.overlappingDeliveries == 0)
            // Both instances delivered.
            for instance in [a, b] {
                let metrics = try await AdminClient(address: .unix(path: instance.directory + "/admin.sock")).get("/metrics")
                let text = metrics.body.stringValue ?? ""
                let sent = text.split(separator: "\n").filter { $0.hasPrefix("affhost_webhook_attempts_total{") }
                    .compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
                #expect(sent > 0, "instance on port \(instance.port) delivered nothing")
            }
        }
    }

    /// Status changes in the audit trails of every record the load changes.
    static func auditedChanges(admin socket: String) async throws -> Int {
        let admin = AdminClient(address: .unix(path: socket))
        var count = 0
        for target in ServeCrashTests.allTargets {
            let reply = try await admin.get("/audit?tenant=\(target.tenant.rawValue)&resource=\(target.tenant.resource)&id=\(target.id)")
            count += reply.body["events"]?.arrayValue?.count ?? 0
        }
        return count
    }

    @Test func theSurvivorTakesOverAKilledInstancesLeases() async throws {
        let cluster = try await PostgresTestCluster.shared()
        let database = try await cluster.createDatabase()
        defer { Task { try? await cluster.dropDatabase(database) } }
        try await WebhookReceiver.run { receiver in
            // Slow answers, so that the killed instance has attempts in flight.
            receiver.answer { _ in .delayed(.milliseconds(400), status: 200) }
            let storage = cluster.url(database: database)
            // A timeout well above the receiver's 400 ms, so that no attempt of the survivor times
            // out and is resent on its own schedule: every repeat is a reclaimed lease.
            let a = try await Self.start(storage: storage, receiver: receiver, timeout: "3s")
            let b = try await Self.start(storage: storage, receiver: receiver, timeout: "3s")
            defer {
                for instance in [a, b] {
                    instance.server.stop()
                    try? FileManager.default.removeItem(atPath: instance.directory)
                }
            }
            // Changes go to the survivor; both deliver until one is killed halfway.
            let killed = Mutex<ContinuousClock.Instant?>(nil)
            let acknowledged = try await Self.change(160, ports: [b.port]) { step in
                guard step == 4 else { return }
                killed.withLock { instant in
                    if instant == nil {
                        a.server.signal(SIGKILL)
                        instant = .now
                    }
                }
            }
            #expect(acknowledged == 160)
            a.server.process.waitUntilExit()
            #expect(a.server.process.terminationStatus == SIGKILL)
            let changes = try await Self.auditedChanges(admin: b.directory + "/admin.sock")
            #expect(changes >= acknowledged)
            _ = try await receiver.wait(timeout: .seconds(90), "\(changes) events") { Set($0.map(\.webhookID)).count >= changes }
            let received = receiver.hooks
            #expect(Set(received.map(\.webhookID)).count == changes)
            #expect(receiver.overlappingDeliveries == 0)
            // What the killed instance was sending may arrive twice, and only after its lease
            // (timeout 3 s + 30 s) expired.
            let killedAt = try #require(killed.withLock { $0 })
            var firsts: [String: ContinuousClock.Instant] = [:]
            for request in received {
                if let first = firsts[request.webhookID] {
                    #expect(request.at - killedAt >= .seconds(30), "a resend before the lease expired")
                    #expect(request.at > first)
                } else {
                    firsts[request.webhookID] = request.at
                }
            }
            let metrics = try await AdminClient(address: .unix(path: b.directory + "/admin.sock")).get("/metrics")
            let reclaims = (metrics.body.stringValue ?? "").split(separator: "\n")
                .first { $0.hasPrefix("affhost_webhook_lease_reclaims_total ") }
            #expect(reclaims.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 >= 1 } == true)
        }
    }
}
