import AffiliateCore
import AffiliateServer
import Foundation
import Synchronization
import Testing

/// A real `affhost serve` killed with SIGKILL under HTTP write load loses no acknowledged change.
///
/// Each trial serves a copy of the demo configuration (both tenants, their demo keys and status
/// words) on a fresh SQLite file, with extra payouts (`acme`, FirstPromoter) and earnings
/// (`campus`, Vantio) in the fixtures. Sixteen clients each own two records and move them
/// through their status words one request at a time, so the order of each record's changes,
/// and therefore its last acknowledged status, is exact. After a random 300-900 ms the server
/// is killed while requests are outstanding, started again on the same file, and every record
/// is read back over HTTP and its audit trail over the admin socket: each must end at the last
/// status answered 200, or at the one whose request was cut off by the kill. A trial fails
/// unless the kill left at least one request sent before it without an answer (a run where it
/// did not is checked all the same, then repeated, at most three runs a trial).
///
/// Both tenants also send every event to a receiver in the test (webhooks.md §8 item 3): after
/// the restart, each record's distinct `webhook-id`s received equal its audit trail's changes,
/// one to one, with the same previous statuses in the same order.
@Suite("affhost serve killed under write load", .serialized, .timeLimit(.minutes(3)))
struct ServeCrashTests {
    static let fpKey = "fp_test_key_acme"
    static let vantioKey = "sk_your_secret_key_here"
    static let clientsPerTenant = 8
    static let recordsPerClient = 2
    /// Below this many acknowledged changes before the kill the trial proves nothing.
    static let minimumAcknowledged = 20
    /// Bounds on each client, whatever happens to the kill.
    static let maximumRequestsPerClient = 5_000
    static let loadTimeout: Duration = .seconds(20)

    enum Tenant: String, Sendable {
        case acme, campus

        var resource: String { self == .acme ? "payouts" : "earnings" }

        /// The demo's words, in an order where each differs from the one before, starting away
        /// from the fixtures' `pending`.
        var cycle: [String] { self == .acme ? ["processing", "completed", "pending"] : ["processing", "paid", "failed", "pending"] }
    }

    struct Target: Hashable, Sendable, CustomStringConvertible {
        let tenant: Tenant
        let id: String
        var description: String { "\(tenant.rawValue)/\(tenant.resource)/\(id)" }
    }

    enum Outcome: Sendable {
        case acknowledged
        /// No answer: the connection failed or was cut (the kill). `sentBeforeKill`: the request
        /// was started before SIGKILL was sent, so it was outstanding when the kill came.
        case unanswered(String, sentBeforeKill: Bool)
        /// An answer other than 200.
        case refused(Int, String)
    }

    struct Attempt: Sendable {
        let target: Target
        let word: String
        let outcome: Outcome
    }

    /// Shared between the clients and the task that kills the server.
    final class Load: Sendable {
        /// 0 while loading, 1 from just before SIGKILL is sent, 2 once it was sent. Clients keep
        /// sending until 2, so requests are still outstanding when the kill lands.
        let phase = Atomic<Int>(0)
        let inFlight = Atomic<Int>(0)
        let acknowledged = Atomic<Int>(0)
    }

    static func targets(client: Int) -> [Target] {
        (0..<recordsPerClient).map { slot in
            let index = client * recordsPerClient + slot
            if client < clientsPerTenant {
                return Target(tenant: .acme, id: String(2_720_001 + index))
            }
            return Target(tenant: .campus, id: "earn_crash" + String(format: "%011d", index))
        }
    }

    static var allTargets: [Target] { (0..<(2 * clientsPerTenant)).flatMap(targets(client:)) }

    // MARK: Configuration

    /// `text` with `old` replaced, which must be there (so a changed demo file fails loudly).
    static func replacing(_ old: String, with new: String, in text: String) throws -> String {
        try #require(text.contains(old), "the demo configuration no longer contains \(old)")
        return text.replacingOccurrences(of: old, with: new)
    }

    /// The demo configuration, served from `directory` on `port`, every event of both tenants
    /// sent to `receiver`.
    static func config(directory: String, port: Int, receiver: String, timeout: String = "15s") throws -> String {
        var yaml = try String(contentsOfFile: TestHost.repositoryRoot + "/config/affhost.yaml", encoding: .utf8)
        yaml = try replacing("listen: 127.0.0.1:3000", with: "listen: 127.0.0.1:\(port)", in: yaml)
        yaml = try replacing("unix:data/admin.sock", with: "unix:\(directory)/admin.sock", in: yaml)
        yaml = try replacing("sqlite:data/affhost.sqlite", with: "sqlite:\(directory)/affhost.sqlite", in: yaml)
        yaml = try replacing("fixtures: config/fixtures/", with: "fixtures: \(directory)/", in: yaml)
        for tenant in ["acme", "campus"] {
            let webhook = """
                fixtures: \(directory)/\(tenant).yaml
                webhooks:
                  - { id: crm, url: "\(receiver)", events: ["*"], secrets: [ { file: \(directory)/crm.whsec } ], timeout: \(timeout) }
            """
            yaml = try replacing("    fixtures: \(directory)/\(tenant).yaml", with: webhook, in: yaml)
        }
        return "webhook_delivery:\n  retry_schedule: [200ms, 500ms, 1s, 1s, 1s, 1s, 1s, 1s]\n  poll_interval: 200ms\n" + yaml
    }

    /// The demo fixture file with `items` appended to its last list, which must be `list`.
    static func fixtures(_ name: String, appending items: [String], toLast list: String) throws -> String {
        let demo = try String(contentsOfFile: TestHost.repositoryRoot + "/config/fixtures/\(name)", encoding: .utf8)
        let lastKey = demo.split(separator: "\n").last { $0.first?.isLetter == true }
        try #require(lastKey == "\(list):", "\(name) no longer ends with its \(list) list")
        return demo + (demo.hasSuffix("\n") ? "" : "\n") + items.joined()
    }

    static func fixtureFiles() throws -> [String: String] {
        let targets = allTargets
        let payouts = targets.filter { $0.tenant == .acme }.map { target in
            """
              - id: \(target.id)
                promoter_id: 8262622
                campaign_id: 15161
                status: pending
                amount: 1000
                unit: cash
                created_at: "2024-09-15T10:00:00.000Z"

            """
        }
        let earnings = targets.filter { $0.tenant == .campus }.map { target in
            """
              - id: \(target.id)
                referral_id: ref_123abc
                amount: 1000
                currency: USD
                type: purchase
                status: pending
                created_at: "2024-01-15T10:30:00Z"

            """
        }
        return [
            "acme.yaml": try fixtures("acme.yaml", appending: payouts, toLast: "payouts"),
            "campus.yaml": try fixtures("campus.yaml", appending: earnings, toLast: "earnings"),
        ]
    }

    // MARK: HTTP

    static func change(port: Int, _ target: Target, to word: String) async throws -> TestResponse {
        switch target.tenant {
        case .acme:
            try await TestHost.send(
                port: port, .put, "/api/v1/payouts/update?id=\(target.id)&status=\(word)", headers: ["X-API-KEY": fpKey]
            )
        case .campus:
            try await TestHost.send(
                port: port, .put, "/api/v1/earnings/\(target.id)",
                headers: ["Authorization": "Bearer \(vantioKey)", "Content-Type": "application/json"],
                body: #"{"status": "\#(word)"}"#
            )
        }
    }

    /// The stored status of every target, as the public API answers it.
    static func readStatuses(port: Int) async throws -> [Target: String] {
        var statuses: [Target: String] = [:]
        let payouts = try await TestHost.send(
            port: port, .get, "/api/v1/payouts/list?promoter_id=8262622&per_page=100", headers: ["X-API-KEY": fpKey]
        )
        #expect(payouts.status == 200, "payouts/list: \(payouts.body)")
        for payout in try payouts.json().arrayValue ?? [] {
            if let id = payout["id"]?.integerValue, let status = payout["status"]?.stringValue {
                statuses[Target(tenant: .acme, id: String(id))] = status
            }
        }
        for target in allTargets where target.tenant == .campus {
            let earning = try await TestHost.send(
                port: port, .get, "/api/v1/earnings/\(target.id)", headers: ["Authorization": "Bearer \(vantioKey)"]
            )
            #expect(earning.status == 200, "\(target): \(earning.body)")
            statuses[target] = try earning.json()["status"]?.stringValue
        }
        return statuses
    }

    // MARK: The load

    /// One client: moves its records through their words, one request at a time, until the
    /// server is killed, a request gets no 200, or a bound is reached.
    static func client(_ client: Int, port: Int, load: Load, deadline: ContinuousClock.Instant) async -> [Attempt] {
        let owned = targets(client: client)
        var serials = [Int](repeating: 0, count: owned.count)
        var attempts: [Attempt] = []
        for step in 0..<maximumRequestsPerClient {
            let phase = load.phase.load(ordering: .acquiring)
            guard phase < 2, ContinuousClock.now < deadline else { break }
            let slot = step % owned.count
            let target = owned[slot]
            let word = target.tenant.cycle[serials[slot] % target.tenant.cycle.count]
            serials[slot] += 1
            load.inFlight.add(1, ordering: .relaxed)
            let response: TestResponse
            do {
                response = try await change(port: port, target, to: word)
            } catch {
                load.inFlight.subtract(1, ordering: .relaxed)
                attempts.append(Attempt(target: target, word: word, outcome: .unanswered("\(error)", sentBeforeKill: phase == 0)))
                break
            }
            load.inFlight.subtract(1, ordering: .relaxed)
            guard response.status == 200 else {
                attempts.append(Attempt(target: target, word: word, outcome: .refused(response.status, response.body)))
                break
            }
            attempts.append(Attempt(target: target, word: word, outcome: .acknowledged))
            load.acknowledged.add(1, ordering: .relaxed)
        }
        return attempts
    }

    @Test(arguments: 1...3)
    func everyAcknowledgedChangeSurvivesSIGKILL(trial: Int) async throws {
        // A kill that lands when the server has answered every request sent so far (the test's
        // own clients lagging behind) cuts nothing off: such a run still checks every change,
        // but does not count as a kill under load, and is repeated (at most twice).
        var cutOff = 0
        for attempt in 1...3 where cutOff == 0 {
            cutOff = try await WebhookReceiver.run { receiver in
                try await Self.killUnderLoadAndRestart(trial: trial, attempt: attempt, receiver: receiver)
            }
        }
        #expect(cutOff > 0, "in 3 runs the kill never cut off a request the server was still working on")
    }

    /// One run: serve, load, SIGKILL, restart, check. Returns how many requests sent before the
    /// kill were left without an answer by it.
    static func killUnderLoadAndRestart(trial: Int, attempt: Int, receiver: WebhookReceiver) async throws -> Int {
        let directory = try TestHost.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (name, content) in try fixtureFiles() {
            try content.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        try (Webhooks.current + "\n").write(toFile: directory + "/crm.whsec", atomically: true, encoding: .utf8)
        let port = try AffhostProcess.freePort()
        try config(directory: directory, port: port, receiver: receiver.url)
            .write(toFile: directory + "/affhost.yaml", atomically: true, encoding: .utf8)

        let server = try AffhostProcess.Server(config: "affhost.yaml", in: directory, port: port)
        defer { server.stop() }
        try await server.waitUntilServing()
        // The fixtures loaded: every record is there, pending.
        let before = try await readStatuses(port: port)
        for target in allTargets {
            #expect(before[target] == "pending", "\(target) before the load")
        }

        // The load, and the kill after a random time (and at least the minimum of changes).
        let load = Load()
        let delay = Int.random(in: 300...900)
        let started = ContinuousClock.now
        let deadline = started + loadTimeout
        let (attempts, inFlightAtKill, acknowledgedAtKill) = await withTaskGroup(of: [Attempt].self) { group in
            for client in 0..<(2 * clientsPerTenant) {
                group.addTask { await Self.client(client, port: port, load: load, deadline: deadline) }
            }
            try? await Task.sleep(for: .milliseconds(delay))
            let patience = ContinuousClock.now + .seconds(10)
            while load.acknowledged.load(ordering: .relaxed) < minimumAcknowledged, ContinuousClock.now < patience {
                try? await Task.sleep(for: .milliseconds(10))
            }
            let inFlight = load.inFlight.load(ordering: .relaxed)
            let acknowledged = load.acknowledged.load(ordering: .relaxed)
            load.phase.store(1, ordering: .releasing)
            server.signal(SIGKILL)
            load.phase.store(2, ordering: .releasing)
            var all: [Attempt] = []
            for await attempts in group { all += attempts }
            return (all, inFlight, acknowledged)
        }
        let killedAfter = started.duration(to: .now)
        server.process.waitUntilExit()
        #expect(server.process.terminationReason == .uncaughtSignal, "the server exited by itself:\n\(server.log)")
        #expect(server.process.terminationStatus == SIGKILL)

        // What the clients were told.
        var acknowledged: [Target: [String]] = [:]
        var cutOff: [Target: String] = [:]
        var refusals: [String] = []
        var unanswered = 0
        var cutByTheKill = 0
        for attempt in attempts {
            switch attempt.outcome {
            case .acknowledged:
                acknowledged[attempt.target, default: []].append(attempt.word)
            case .unanswered(_, let sentBeforeKill):
                unanswered += 1
                if sentBeforeKill { cutByTheKill += 1 }
                cutOff[attempt.target] = attempt.word
            case .refused(let status, let body):
                refusals.append("\(attempt.target) -> \(attempt.word): \(status) \(body)")
                cutOff[attempt.target] = attempt.word
            }
        }
        let acknowledgedCount = acknowledged.values.map(\.count).reduce(0, +)
        print(
            "ServeCrash trial \(trial), run \(attempt): random delay \(delay) ms, killed after \(killedAfter), \(acknowledgedCount) changes "
                + "acknowledged (\(acknowledgedAtKill) when the kill was sent), \(inFlightAtKill) requests in flight at the "
                + "kill, \(unanswered) left unanswered (\(cutByTheKill) of them sent before the kill)"
        )
        #expect(refusals == [], "every change before the kill is answered 200")
        #expect(acknowledgedCount >= minimumAcknowledged, "too few acknowledged changes to prove anything")
        #expect(Set(acknowledged.keys.map(\.tenant)) == [.acme, .campus], "both tenants were written")
        #expect(inFlightAtKill > 0, "the kill came while requests were outstanding")

        // Restart on the same file (keeping the first run's log), and read everything back.
        try? FileManager.default.moveItem(atPath: server.logFile, toPath: directory + "/serve-killed.log")
        let restarted = try AffhostProcess.Server(config: "affhost.yaml", in: directory, port: port)
        defer { restarted.stop() }
        try await restarted.waitUntilServing()
        let after = try await readStatuses(port: port)
        let admin = AdminClient(address: .unix(path: directory + "/admin.sock"))
        var trails: [Target: [String]] = [:]
        for target in allTargets {
            let changes = acknowledged[target] ?? []
            let last = changes.last ?? "pending"
            var allowed = [last]
            if let word = cutOff[target] { allowed.append(word) }
            let stored = after[target]
            #expect(stored.map(allowed.contains) == true, "\(target): stored \(stored ?? "nothing"), acknowledged \(changes), cut off \(cutOff[target] ?? "none")")

            // The audit trail: the acknowledged moves in order, then at most the cut-off one,
            // one unbroken chain from `pending` to the stored status.
            let reply = try await admin.get("/audit?tenant=\(target.tenant.rawValue)&resource=\(target.tenant.resource)&id=\(target.id)")
            #expect(reply.status == 200, "\(target) audit: \(reply.body.serialized)")
            let events = reply.body["events"]?.arrayValue ?? []
            let moves = events.compactMap { $0["to"]?.stringValue }
            let froms = events.map { $0["from"]?.stringValue }
            var allowedMoves = [changes]
            if let word = cutOff[target] { allowedMoves.append(changes + [word]) }
            #expect(allowedMoves.contains(moves), "\(target) audit moves \(moves), acknowledged \(changes), cut off \(cutOff[target] ?? "none")")
            #expect(froms == (["pending"] + moves).dropLast().map(Optional.some), "\(target) audit chain: from \(froms) to \(moves)")
            #expect((moves.last ?? "pending") == stored, "\(target): audit ends at \(moves.last ?? "pending"), stored \(stored ?? "nothing")")
            trails[target] = froms.map { $0 ?? "" }
        }
        try await expectOneEventPerChange(trails, receiver: receiver)
        return cutByTheKill
    }

    /// Every audited change arrived as exactly one event (distinct `webhook-id`s; a delivery the
    /// kill cut off may arrive twice under its one id), with the audit's previous statuses in
    /// order, and no event for a change that is not in the audit trail.
    static func expectOneEventPerChange(_ trails: [Target: [String]], receiver: WebhookReceiver) async throws {
        func events(_ received: [WebhookReceiver.Received]) -> [Target: [(id: String, previous: String)]] {
            var byTarget: [Target: [(id: String, previous: String)]] = [:]
            var seen: Set<String> = []
            for request in received where seen.insert(request.webhookID).inserted {
                let body = request.json
                let data = body["data"]
                let previous = (body["event"]?["previous_status"] ?? body["previous_status"])?.stringValue ?? ""
                if let id = data?["id"]?.integerValue {
                    byTarget[Target(tenant: .acme, id: String(id)), default: []].append((request.webhookID, previous))
                } else if let id = data?["id"]?.stringValue {
                    byTarget[Target(tenant: .campus, id: id), default: []].append((request.webhookID, previous))
                }
            }
            return byTarget
        }
        let expected = trails.values.map(\.count).reduce(0, +)
        let received = try await receiver.wait(timeout: .seconds(30), "\(expected) distinct events") { requests in
            Set(requests.map(\.webhookID)).count >= expected
        }
        try await Task.sleep(for: .milliseconds(300))
        let byTarget = events(receiver.hooks)
        #expect(Set(receiver.hooks.map(\.webhookID)).count == expected, "distinct events received, against audited changes")
        for (target, froms) in trails {
            // Events of one record arrive in commit order (webhooks.md §5.4).
            let arrived = byTarget[target] ?? []
            #expect(arrived.map(\.previous) == froms, "\(target): events' previous statuses \(arrived.map(\.previous)), audit \(froms)")
        }
        #expect(received.count >= expected)
    }
}
