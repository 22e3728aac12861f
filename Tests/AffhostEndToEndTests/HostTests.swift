import AffiliateCore
import Foundation
import Testing

/// What the host does before any dialect runs: health, request ids, authentication, body
/// limits, rate limits, logs, durability across restarts.
@Suite struct HostTests {
    static let fpKey = "fp_host_test_key"
    static let vantioKey = "sk_host_test_key"

    static func config(acmeExtra: String = "", maxBodyBytes: Int = 1_048_576) -> String {
        """
        server:
          listen: 127.0.0.1:0
          max_body_bytes: \(maxBodyBytes)
        tenants:
          acme:
            name: Acme
            dialect: firstpromoter-v1
            api_keys: [ { id: acme-main, sha256: \(KeyDigest.sha256Hex(fpKey)) } ]
            campaigns: [ { id: 15161, name: Test new campaign, landing_url: "http://example.com/" } ]
            fixtures: $DIR/acme.yaml
        \(acmeExtra)
          campus:
            name: Campus
            dialect: vantio-v1
            api_keys: [ { id: campus-main, sha256: \(KeyDigest.sha256Hex(vantioKey)) } ]
        """
    }

    static var fixtures: [String: String] {
        let acme = try! String(contentsOfFile: TestHost.repositoryRoot + "/config/fixtures/acme.yaml", encoding: .utf8)
        return ["acme.yaml": acme]
    }

    @Test func healthzAnswersOkWithoutAKeyAndEveryResponseHasARequestID() async throws {
        try await TestHost.run(yaml: Self.config(), files: Self.fixtures) { host in
            let health = try await host.send(.get, "/healthz")
            #expect(health.status == 200)
            #expect(health.body == "ok")
            let first = try #require(health.header("X-Request-Id"))
            let denied = try await host.send(.get, "/api/v1/payouts/list")
            let second = try #require(denied.header("X-Request-Id"))
            #expect(!first.isEmpty && first != second)
        }
    }

    @Test func aMissingOrUnknownKeyGetsTheDialectsOwn401() async throws {
        try await TestHost.run(yaml: Self.config(), files: Self.fixtures) { host in
            let noKeyFP = try await host.send(.get, "/api/v1/payouts/list")
            #expect(noKeyFP.status == 401)
            #expect(noKeyFP.body == #""Bad credentials""#)
            #expect(noKeyFP.header("Content-Type") == "application/json; charset=utf-8")

            let wrongKeyFP = try await host.send(.get, "/api/v1/payouts/list", headers: ["X-API-KEY": "fp_wrong"])
            #expect(wrongKeyFP.status == 401)
            #expect(wrongKeyFP.body == #""Bad credentials""#)

            let noKeyVantio = try await host.send(.get, "/api/v1/earnings")
            #expect(noKeyVantio.status == 401)
            #expect(noKeyVantio.body == #"{"error":"Unauthorized","message":"Invalid or missing API key"}"#)

            let wrongKeyVantio = try await host.send(.get, "/api/v1/earnings", headers: ["Authorization": "Bearer sk_wrong"])
            #expect(wrongKeyVantio.status == 401)
            #expect(wrongKeyVantio.header("WWW-Authenticate") == "Bearer")
        }
    }

    @Test func aKeyCountsOnlyInItsOwnDialectsStyle() async throws {
        try await TestHost.run(yaml: Self.config(), files: Self.fixtures) { host in
            // The Vantio tenant's key sent the FirstPromoter way opens nothing.
            let crossed = try await host.send(.get, "/api/v1/payouts/list", headers: ["X-API-KEY": Self.vantioKey])
            #expect(crossed.status == 401)
            #expect(crossed.body == #""Bad credentials""#)
            // And a FirstPromoter key as a Bearer token does not either.
            let crossedBack = try await host.send(.get, "/api/v1/earnings", headers: ["Authorization": "Bearer \(Self.fpKey)"])
            #expect(crossedBack.status == 401)
            #expect(crossedBack.body == #"{"error":"Unauthorized","message":"Invalid or missing API key"}"#)
        }
    }

    @Test func anOversizedBodyIs413BeforeTheKeyIsEvenChecked() async throws {
        try await TestHost.run(yaml: Self.config(maxBodyBytes: 64), files: Self.fixtures) { host in
            let body = String(repeating: "x", count: 65)
            let fp = try await host.send(.put, "/api/v1/payouts/update", headers: ["X-API-KEY": "fp_wrong"], body: body)
            #expect(fp.status == 413)
            #expect(fp.body == #"{"error":"Request body too large."}"#)
            let vantio = try await host.send(
                .put, "/api/v1/earnings/earn_x", headers: ["Authorization": "Bearer \(Self.vantioKey)", "Content-Type": "application/json"],
                body: body
            )
            #expect(vantio.status == 413)
            #expect(vantio.body == #"{"error":"Payload Too Large","message":"Request body exceeds 64 bytes"}"#)
        }
    }

    @Test func aTenantRateLimitAnswers429WithHeadersAndCountsPerKey() async throws {
        let yaml = Self.config(acmeExtra: "    rate_limit: 2/min")
        try await TestHost.run(yaml: yaml, files: Self.fixtures) { host in
            let headers = ["X-API-KEY": Self.fpKey]
            let first = try await host.send(.get, "/api/v1/payouts/list", headers: headers)
            #expect(first.status == 200)
            #expect(first.header("X-RateLimit-Limit") == "2")
            #expect(first.header("X-RateLimit-Remaining") == "1")
            _ = try await host.send(.get, "/api/v1/payouts/list", headers: headers)
            let third = try await host.send(.get, "/api/v1/payouts/list", headers: headers)
            #expect(third.status == 429)
            #expect(third.body == #"{"error":"Rate limit exceeded."}"#)
            #expect(third.header("X-RateLimit-Remaining") == "0")
            let retryAfter = try #require(third.header("Retry-After").flatMap(Int.init))
            #expect((1...60).contains(retryAfter))
            let reset = try #require(third.header("X-RateLimit-Reset").flatMap(Int64.init))
            #expect(reset > Int64(Date().timeIntervalSince1970) - 1)
            // The other tenant is not limited.
            let other = try await host.send(.get, "/api/v1/earnings", headers: ["Authorization": "Bearer \(Self.vantioKey)"])
            #expect(other.status == 200)
            #expect(other.header("X-RateLimit-Limit") == nil)
        }
    }

    @Test func logsNeverContainAKey() async throws {
        let logs = CapturedLogs()
        let directory = try TestHost.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = try TestHost.writeConfig(Self.config(), files: Self.fixtures, into: directory)
        try await TestHost.serve(configPath: path, directory: directory, logger: logs.logger()) { host in
            _ = try await host.send(.put, "/api/v1/payouts/update?id=2710287&status=completed", headers: ["X-API-KEY": Self.fpKey])
            _ = try await host.send(.get, "/api/v1/payouts/list", headers: ["X-API-KEY": "fp_guessed_secret"])
            _ = try await host.send(.get, "/api/v1/earnings", headers: ["Authorization": "Bearer sk_guessed_secret"])
            _ = try await host.send(.get, "/api/v1/nope", headers: ["X-API-KEY": Self.fpKey])
        }
        let text = logs.text
        #expect(text.contains("unauthorized"))
        #expect(!text.contains(Self.fpKey))
        #expect(!text.contains("fp_guessed_secret"))
        #expect(!text.contains("sk_guessed_secret"))
    }

    @Test func anAcknowledgedWriteSurvivesARestartAndFixturesDoNotOverwriteIt() async throws {
        let directory = try TestHost.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = try TestHost.writeConfig(Self.config(), files: Self.fixtures, into: directory)
        let headers = ["X-API-KEY": Self.fpKey]
        try await TestHost.serve(configPath: path, directory: directory) { host in
            let update = try await host.send(.put, "/api/v1/payouts/update?id=2710287&status=completed", headers: headers)
            #expect(update.status == 200)
        }
        try await TestHost.serve(configPath: path, directory: directory) { host in
            let list = try await host.send(.get, "/api/v1/payouts/list?status=completed", headers: headers)
            #expect(list.status == 200)
            let ids = try list.json().arrayValue?.compactMap { $0["id"]?.integerValue }
            #expect(ids == [2_710_287])
            let trail = try await host.store.auditTrail(tenant: "acme", resource: "payouts", recordID: "2710287")
            #expect(trail.map(\.to) == ["completed"])
            #expect(trail.first?.keyID == "acme-main")
        }
    }

    @Test func theDemoSeedRequestWritesItsAuditRowWithKeyAndRequestID() async throws {
        try await TestHost.runDemo { host in
            let response = try await host.send(
                .put, "/api/v1/payouts/update?id=2710287&status=completed", headers: ["X-API-KEY": "fp_test_key_acme"]
            )
            #expect(response.status == 200)
            let payout = try response.json()
            #expect(payout["status"] == .string("completed"))
            #expect(payout["date_paid"]?.stringValue != nil)
            let trail = try await host.store.auditTrail(tenant: "acme", resource: "payouts", recordID: "2710287")
            let event = try #require(trail.last)
            #expect(trail.count == 1)
            #expect(event.from == "pending")
            #expect(event.to == "completed")
            #expect(event.keyID == "acme-main")
            #expect(event.requestID == response.header("X-Request-Id"))
            #expect(event.tenant == "acme")
        }
    }

    /// Forty clients change one record at once: every request succeeds (losers of a
    /// compare-and-set race retry), and the audit trail is one unbroken chain of moves.
    @Test func concurrentWritersOnOneRecordAllSucceedAndTheAuditTrailIsOneChain() async throws {
        try await TestHost.run(yaml: Self.config(), files: Self.fixtures) { host in
            let words = ["pending", "processing", "completed"]
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for client in 0..<40 {
                    group.addTask {
                        try await host.send(
                            .put, "/api/v1/payouts/update?id=2710287&status=\(words[client % 3])", headers: ["X-API-KEY": Self.fpKey]
                        ).status
                    }
                }
                var statuses: [Int] = []
                for try await status in group { statuses.append(status) }
                return statuses
            }
            #expect(statuses == Array(repeating: 200, count: 40))
            let trail = try await host.store.auditTrail(tenant: "acme", resource: "payouts", recordID: "2710287")
            #expect(!trail.isEmpty)
            #expect(trail.first?.from == "pending")
            for (previous, next) in zip(trail, trail.dropFirst()) {
                #expect(next.from == previous.to)
            }
            let stored = try await host.store.record(tenant: "acme", resource: "payouts", id: "2710287")
            #expect(stored?.status == trail.last?.to)
        }
    }
}
