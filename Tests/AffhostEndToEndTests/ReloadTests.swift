import AffiliateCore
import AffiliateServer
import Foundation
import Testing

/// Live reload through the admin API over its unix socket: keys, tenants, dialects, broken
/// files, stranded statuses, and reloads under load.
@Suite struct ReloadTests {
    static let oldKey = "fp_reload_old"
    static let newKey = "fp_reload_new"
    static let otherKey = "sk_reload_other"

    static func acme(key: String = oldKey, dialect: String = "firstpromoter-v1", extra: String = "") -> String {
        """
          acme:
            name: Acme
            dialect: \(dialect)
            api_keys: [ { id: acme-\(key == oldKey ? "old" : "new"), sha256: \(KeyDigest.sha256Hex(key)) } ]
        \(dialect == "firstpromoter-v1" ? """
                campaigns: [ { id: 15161, name: Test new campaign, landing_url: "http://example.com/" } ]
                fixtures: $DIR/acme.yaml
            """ : "")
        \(extra)
        """
    }

    static let campus = """
          campus:
            name: Campus
            dialect: vantio-v1
            api_keys: [ { id: campus-main, sha256: \(KeyDigest.sha256Hex(otherKey)) } ]
        """

    static func file(_ tenants: String...) -> String { "tenants:\n" + tenants.joined(separator: "\n") }

    static var fixtures: [String: String] {
        ["acme.yaml": try! String(contentsOfFile: TestHost.repositoryRoot + "/config/fixtures/acme.yaml", encoding: .utf8)]
    }

    static func fp(_ key: String) -> [String: String] { ["X-API-KEY": key] }

    @Test func rotatingAKeyServesTheNewOneAndRefusesTheOldOne() async throws {
        try await TestHost.run(yaml: Self.file(Self.acme()), files: Self.fixtures) { host in
            #expect(try await host.send(.get, "/api/v1/payouts/list", headers: Self.fp(Self.oldKey)).status == 200)
            try host.rewriteConfig(Self.file(Self.acme(key: Self.newKey)))
            let reply = try await host.adminClient().post("/reload")
            #expect(reply.status == 200)
            #expect(reply.body["result"] == .string("applied"))
            #expect(reply.body["changes"]?["keys_added"] == .array([.string("acme/acme-new")]))
            #expect(reply.body["changes"]?["keys_revoked"] == .array([.string("acme/acme-old")]))
            #expect(reply.body["changes"]?["tenants_changed"] == .array([.string("acme")]))
            #expect(try await host.send(.get, "/api/v1/payouts/list", headers: Self.fp(Self.newKey)).status == 200)
            let old = try await host.send(.get, "/api/v1/payouts/list", headers: Self.fp(Self.oldKey))
            #expect(old.status == 401)
            #expect(old.body == #""Bad credentials""#)
        }
    }

    /// The served snapshot drops fixture records after loading them; a reload still knows an
    /// unchanged fixture file from a changed one.
    @Test func aTenantWithUnchangedFixturesIsNotReportedChanged() async throws {
        try await TestHost.run(yaml: Self.file(Self.acme()), files: Self.fixtures) { host in
            #expect(host.runtime.config.tenantsByID["acme"]?.seed.isEmpty == true)
            try host.rewriteConfig(Self.file(Self.acme(), Self.campus))
            let reply = try await host.adminClient().post("/reload")
            #expect(reply.body["changes"]?["tenants_added"] == .array([.string("campus")]))
            #expect(reply.body["changes"]?["tenants_changed"] == .array([]))
        }
    }

    @Test func anUnchangedFileIsANoOp() async throws {
        try await TestHost.run(yaml: Self.file(Self.acme()), files: Self.fixtures) { host in
            let reply = try await host.adminClient().post("/reload")
            #expect(reply.status == 200)
            #expect(reply.body["result"] == .string("unchanged"))
        }
    }

    @Test func addingRemovingAndReAddingATenantKeepsItsData() async throws {
        try await TestHost.run(yaml: Self.file(Self.campus), files: Self.fixtures) { host in
            try host.rewriteConfig(Self.file(Self.campus, Self.acme()))
            let added = try await host.adminClient().post("/reload")
            #expect(added.body["changes"]?["tenants_added"] == .array([.string("acme")]))
            let update = try await host.send(.put, "/api/v1/payouts/update?id=2710287&status=processing", headers: Self.fp(Self.oldKey))
            #expect(update.status == 200)

            try host.rewriteConfig(Self.file(Self.campus))
            let removed = try await host.adminClient().post("/reload")
            #expect(removed.body["changes"]?["tenants_removed"] == .array([.string("acme")]))
            #expect(try await host.send(.get, "/api/v1/payouts/list", headers: Self.fp(Self.oldKey)).status == 401)
            let stored = try await host.store.record(tenant: "acme", resource: "payouts", id: "2710287")
            #expect(stored?.status == "processing")

            try host.rewriteConfig(Self.file(Self.campus, Self.acme()))
            #expect(try await host.adminClient().post("/reload").body["result"] == .string("applied"))
            let back = try await host.send(.get, "/api/v1/payouts/list?status=processing", headers: Self.fp(Self.oldKey))
            #expect(back.status == 200)
            #expect(try back.json().arrayValue?.compactMap { $0["id"]?.integerValue } == [2_710_287])
        }
    }

    @Test func aTenantMovedToAnotherDialectKeepsItsRecords() async throws {
        try await TestHost.run(yaml: Self.file(Self.acme()), files: Self.fixtures) { host in
            try host.rewriteConfig(Self.file(Self.acme(dialect: "vantio-v1")))
            let moved = try await host.adminClient().post("/reload")
            #expect(moved.body["changes"]?["dialect_changes"] == .array([
                .object(["tenant": .string("acme"), "from": .string("firstpromoter-v1"), "to": .string("vantio-v1")]),
            ]))
            // The same key now speaks Vantio: Bearer works, X-API-KEY does not.
            let vantio = try await host.send(.get, "/api/v1/earnings", headers: ["Authorization": "Bearer \(Self.oldKey)"])
            #expect(vantio.status == 200)
            #expect(vantio.body == #"{"earnings":[]}"#)
            #expect(try await host.send(.get, "/api/v1/payouts/list", headers: Self.fp(Self.oldKey)).status == 401)

            try host.rewriteConfig(Self.file(Self.acme()))
            #expect(try await host.adminClient().post("/reload").body["result"] == .string("applied"))
            let payouts = try await host.send(.get, "/api/v1/payouts/list", headers: Self.fp(Self.oldKey))
            #expect(payouts.status == 200)
            #expect(try payouts.json().arrayValue?.count == 2)
        }
    }

    @Test func aBrokenFileIsRefusedWithPositionsAndTheOldOneKeepsServing() async throws {
        try await TestHost.run(yaml: Self.file(Self.acme()), files: Self.fixtures) { host in
            try host.rewriteConfig(Self.file(Self.acme(key: Self.newKey, dialect: "nosuch-v9")))
            let reply = try await host.adminClient().post("/reload")
            #expect(reply.status == 422)
            #expect(reply.body["result"] == .string("refused"))
            let errors = reply.body["errors"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(errors.count >= 1)
            #expect(errors.contains { $0.contains("affhost.yaml:") && $0.contains("tenants.acme.dialect") && $0.contains("nosuch-v9") })
            #expect(try await host.send(.get, "/api/v1/payouts/list", headers: Self.fp(Self.oldKey)).status == 200)
            #expect(try await host.send(.get, "/api/v1/payouts/list", headers: Self.fp(Self.newKey)).status == 401)

            try "tenants: [unclosed".write(toFile: host.runtime.configPath, atomically: true, encoding: .utf8)
            let notYAML = try await host.adminClient().post("/reload")
            #expect(notYAML.status == 422)
            #expect(try await host.send(.get, "/api/v1/payouts/list", headers: Self.fp(Self.oldKey)).status == 200)

            try FileManager.default.removeItem(atPath: host.runtime.configPath)
            let vanished = try await host.adminClient().post("/reload")
            #expect(vanished.status == 422)
            #expect(vanished.body["errors"] == .array([
                .string("\(host.runtime.configPath): cannot read the file (it does not exist or is not readable)"),
            ]))
            #expect(try await host.send(.get, "/api/v1/payouts/list", headers: Self.fp(Self.oldKey)).status == 200)
        }
    }

    @Test func aVocabularyThatStrandsStoredRecordsIsRefusedUnlessItMapsTheWord() async throws {
        try await TestHost.run(yaml: Self.file(Self.acme()), files: Self.fixtures) { host in
            let update = try await host.send(.put, "/api/v1/payouts/update?id=2710287&status=completed", headers: Self.fp(Self.oldKey))
            #expect(update.status == 200)
            try host.rewriteConfig(Self.file(Self.acme(extra: "    statuses: { payouts: [pending, processing] }")))
            let refused = try await host.adminClient().post("/reload")
            #expect(refused.status == 422)
            #expect(refused.body["errors"] == .array([
                .string("\(host.runtime.configPath): tenants.acme.statuses.payouts: 1 record still uses status \"completed\"; keep the word or map it to a phase"),
            ]))
            try host.rewriteConfig(Self.file(Self.acme(extra: "    statuses: { payouts: { pending: open, processing: in_progress, completed: settled, paid: settled } }")))
            #expect(try await host.adminClient().post("/reload").body["result"] == .string("applied"))
            let wrongMethod = try await host.send(.get, "/api/v1/payouts/update?id=2710287&status=nope", headers: Self.fp(Self.oldKey))
            #expect(wrongMethod.status == 404)
            let invalid = try await host.send(.put, "/api/v1/payouts/update?id=2710287&status=nope", headers: Self.fp(Self.oldKey))
            #expect(invalid.body == #"{"error":"Invalid status. Must be one of: pending, processing, completed, paid"}"#)
        }
    }

    @Test func aTCPAdminListenerRequiresItsToken() async throws {
        let token = "admin-token-for-tests"
        func yaml(key: String) -> String {
            """
            admin:
              listen: 127.0.0.1:0
              token_sha256: \(KeyDigest.sha256Hex(token))
            """ + "\n" + Self.file(Self.acme(key: key))
        }
        try await TestHost.run(yaml: yaml(key: Self.oldKey), files: Self.fixtures) { host in
            try host.rewriteConfig(yaml(key: Self.newKey))
            let missing = try await host.adminClient().post("/reload")
            #expect(missing.status == 401)
            let wrong = try await host.adminClient(token: "guess").post("/reload")
            #expect(wrong.status == 401)
            #expect(try await host.send(.get, "/api/v1/payouts/list", headers: Self.fp(Self.oldKey)).status == 200)
            let right = try await host.adminClient(token: token).post("/reload")
            #expect(right.status == 200)
            #expect(try await host.send(.get, "/api/v1/payouts/list", headers: Self.fp(Self.newKey)).status == 200)
        }
    }

    @Test func statusAndAuditAnswerFromTheRunningServer() async throws {
        try await TestHost.run(yaml: Self.file(Self.acme(), Self.campus), files: Self.fixtures) { host in
            let update = try await host.send(.put, "/api/v1/payouts/update?id=2710287&status=completed", headers: Self.fp(Self.oldKey))
            let status = try await host.adminClient().get("/status")
            #expect(status.status == 200)
            #expect(status.body["digest"]?.stringValue == host.runtime.config.digest)
            #expect(status.body["tenants"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["acme", "campus"])
            #expect(status.body["tenants"]?.arrayValue?.first?["keys"] == .array([.string("acme-old")]))
            #expect(status.body["last_reload"] == .null)
            let audit = try await host.adminClient().get("/audit?tenant=acme&resource=payouts&id=2710287")
            let event = try #require(audit.body["events"]?.arrayValue?.first)
            #expect(event["from"] == .string("pending"))
            #expect(event["to"] == .string("completed"))
            #expect(event["key_id"] == .string("acme-old"))
            #expect(event["request_id"]?.stringValue == update.header("X-Request-Id"))
        }
    }

    static func vantioTenant(_ id: String, name: String? = nil, key: String) -> String {
        """
          \(id):
            name: \(name ?? "Tenant \(id)")
            dialect: vantio-v1
            api_keys: [ { id: \(id)-main, sha256: \(KeyDigest.sha256Hex(key)) } ]

        """
    }

    static func bearer(_ key: String) -> [String: String] { ["Authorization": "Bearer \(key)"] }

    /// A reload takes unchanged tenants from the served file's text; a problem that involves
    /// one of them after it moved down is still reported at the line it stands at now.
    @Test func anUnchangedTenantThatMovedIsReportedAtItsNewLine() async throws {
        func yaml(_ above: String = "", betaName: String? = nil, betaKey: String = "vantio_beta") -> String {
            "tenants:\n" + above + Self.vantioTenant("alpha", key: "vantio_alpha")
                + Self.vantioTenant("beta", name: betaName, key: betaKey) + Self.vantioTenant("gamma", key: "vantio_gamma")
        }
        try await TestHost.run(yaml: yaml()) { host in
            try host.rewriteConfig(yaml(betaName: "Beta Renamed"))
            let renamed = try await host.adminClient().post("/reload")
            #expect(renamed.status == 200)
            #expect(renamed.body["changes"]?["tenants_changed"] == .array([.string("beta")]))
            #expect(renamed.body["changes"]?["tenants_added"] == .array([]))
            #expect(renamed.body["changes"]?["keys_added"] == .array([]))
            for key in ["vantio_alpha", "vantio_beta", "vantio_gamma"] {
                #expect(try await host.send(.get, "/api/v1/earnings", headers: Self.bearer(key)).status == 200)
            }

            // Six lines of test defaults, `tenants:` on line 7, two comment lines, then four
            // lines per tenant: beta's key is on line 17, gamma's (four lines lower than it was
            // read) on line 21.
            try host.rewriteConfig(yaml("  # two lines\n  # above\n", betaName: "Beta Renamed", betaKey: "vantio_gamma"))
            let refused = try await host.adminClient().post("/reload")
            #expect(refused.status == 422)
            #expect(refused.body["errors"] == .array([
                .string("\(host.runtime.configPath):21:43 tenants.gamma.api_keys[0].sha256: duplicate key: this sha256 is already used by key \"beta-main\" of tenant \"beta\" (line 17)"),
            ]))
            #expect(try await host.send(.get, "/api/v1/earnings", headers: Self.bearer("vantio_beta")).status == 200)
        }
    }

    /// A fixture file can change while the YAML naming it does not: the tenant is read again
    /// with the file as it is now, whatever else the reload changed.
    @Test func aFixtureFileChangedUnderUnchangedYAMLIsReadAgain() async throws {
        let fixtures = try #require(Self.fixtures["acme.yaml"])
        let extraPayout = """
              - id: 2710300
                promoter_id: 8262622
                campaign_id: 15161
                status: $STATUS
                amount: 4500
                unit: cash
                created_at: "2024-09-20T10:00:00.000Z"
                due_date: "2024-10-19T00:00:00.000Z"

            """
        let campusRenamed = Self.campus.replacingOccurrences(of: "name: Campus", with: "name: Campus Renamed")
        try await TestHost.run(yaml: Self.file(Self.acme(), Self.campus), files: Self.fixtures) { host in
            let fixturePath = host.directory + "/acme.yaml"
            let grown = fixtures + extraPayout.replacingOccurrences(of: "$STATUS", with: "pending")
            try grown.write(toFile: fixturePath, atomically: true, encoding: .utf8)
            try host.rewriteConfig(Self.file(Self.acme(), campusRenamed))
            let applied = try await host.adminClient().post("/reload")
            #expect(applied.status == 200)
            #expect(applied.body["changes"]?["tenants_changed"] == .array([.string("campus"), .string("acme")]))
            let payouts = try await host.send(.get, "/api/v1/payouts/list", headers: Self.fp(Self.oldKey))
            #expect(try payouts.json().arrayValue?.compactMap { $0["id"]?.integerValue }.contains(2_710_300) == true)

            let statusLine = grown.split(separator: "\n", omittingEmptySubsequences: false).count - 5
            let broken = fixtures + extraPayout.replacingOccurrences(of: "$STATUS", with: "nonsense")
            try broken.write(toFile: fixturePath, atomically: true, encoding: .utf8)
            try host.rewriteConfig(Self.file(Self.acme(), Self.campus))
            let refused = try await host.adminClient().post("/reload")
            #expect(refused.status == 422)
            let errors = refused.body["errors"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(errors.count == 1)
            #expect(errors.first?.hasPrefix("\(fixturePath):\(statusLine):5 payouts[2].status: ") == true)
            #expect(try await host.send(.get, "/api/v1/payouts/list", headers: Self.fp(Self.oldKey)).status == 200)
        }
    }

    /// Twenty reloads alternating a good file and a broken one while clients hammer the seed
    /// endpoint: no request fails, and every 422 lists exactly one complete vocabulary.
    @Test func reloadsUnderLoadDropNoRequestAndNeverMixSnapshots() async throws {
        let vocabularyA = "    statuses: { payouts: [pending, processing, completed] }"
        let vocabularyB = "    statuses: { payouts: [pending, processing, completed, failed] }"
        let good = [Self.file(Self.acme(extra: vocabularyA)), Self.file(Self.acme(extra: vocabularyB))]
        let broken = Self.file(Self.acme(extra: vocabularyB + "\n    statuses_typo: 1"))
        try await TestHost.run(yaml: good[0], files: Self.fixtures) { host in
            let deadline = ContinuousClock.now + .seconds(30)
            let stop = ManagedFlag()
            let failures = try await withThrowingTaskGroup(of: [String].self) { group in
                for client in 0..<8 {
                    group.addTask {
                        var failures: [String] = []
                        var round = 0
                        while !stop.isSet, ContinuousClock.now < deadline {
                            round += 1
                            if round % 3 == 0 {
                                let response = try await host.send(.put, "/api/v1/payouts/update?id=2709870&status=nope", headers: Self.fp(Self.oldKey))
                                let allowed = [
                                    #"{"error":"Invalid status. Must be one of: pending, processing, completed"}"#,
                                    #"{"error":"Invalid status. Must be one of: pending, processing, completed, failed"}"#,
                                ]
                                if response.status != 422 || !allowed.contains(response.body) {
                                    failures.append("client \(client): \(response.status) \(response.body)")
                                }
                            } else {
                                let word = round % 2 == 0 ? "processing" : "pending"
                                let response = try await host.send(.put, "/api/v1/payouts/update?id=2710287&status=\(word)", headers: Self.fp(Self.oldKey))
                                if response.status != 200 { failures.append("client \(client): \(response.status) \(response.body)") }
                            }
                        }
                        return failures
                    }
                }
                group.addTask {
                    var failures: [String] = []
                    for round in 0..<20 {
                        let isGood = round % 2 == 0
                        try host.rewriteConfig(isGood ? good[(round / 2 + 1) % 2] : broken)
                        let reply = try await host.adminClient().post("/reload")
                        let expected = isGood ? "applied" : "refused"
                        if reply.body["result"]?.stringValue != expected {
                            failures.append("reload \(round): expected \(expected), got \(reply.body.serialized)")
                        }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    stop.set()
                    return failures
                }
                var all: [String] = []
                for try await failures in group { all += failures }
                return all
            }
            #expect(failures == [])
        }
    }
}

/// A flag the reloading task raises to stop the clients.
final class ManagedFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

import Synchronization
