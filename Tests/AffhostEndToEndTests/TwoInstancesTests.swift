import AffiliateCore
import Foundation
import PostgresTestSupport
import Testing

/// Two affhost servers with the same YAML on one PostgreSQL database, as behind a load
/// balancer: clients spread across both change the same records at once, and nothing is lost.
@Suite(.enabled(if: PostgresTestCluster.shouldRun, Comment(rawValue: PostgresTestCluster.notInstalled)))
struct TwoInstancesTests {
    static func config(storage: String) -> String {
        let fixtures = TestHost.repositoryRoot + "/config/fixtures"
        return """
            storage:
              url: \(storage)
            tenants:
              acme:
                name: Acme
                dialect: firstpromoter-v1
                api_keys: [ { id: acme-main, sha256: \(KeyDigest.sha256Hex("fp_fleet")) } ]
                campaigns: [ { id: 15161, name: Test new campaign, landing_url: "http://example.com/", color: "#00bcd4" } ]
                payout_due_days: 29
                fixtures: \(fixtures)/acme.yaml
              campus:
                name: Campus
                dialect: vantio-v1
                api_keys: [ { id: campus-main, sha256: \(KeyDigest.sha256Hex("sk_fleet")) } ]
                fixtures: \(fixtures)/campus.yaml
            """
    }

    @Test func concurrentClientsOnBothInstancesLoseNoUpdate() async throws {
        let cluster = try await PostgresTestCluster.shared()
        let database = try await cluster.createDatabase()
        let yaml = Self.config(storage: cluster.url(database: database))
        let first = try TestHost.makeTemporaryDirectory()
        let second = try TestHost.makeTemporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: first)
            try? FileManager.default.removeItem(atPath: second)
        }
        let firstPath = try TestHost.writeConfig(yaml, into: first)
        let secondPath = try TestHost.writeConfig(yaml, into: second)
        try await TestHost.serve(configPath: firstPath, directory: first) { a in
            try await TestHost.serve(configPath: secondPath, directory: second) { b in
                let words = ["pending", "processing", "completed"]
                let clients = 24
                let failures = try await withThrowingTaskGroup(of: [String].self) { group in
                    for client in 0..<clients {
                        group.addTask {
                            let host = client % 2 == 0 ? a : b
                            var failures: [String] = []
                            let payout = try await host.send(
                                .put, "/api/v1/payouts/update?id=2710287&status=\(words[client % 3])",
                                headers: ["X-API-KEY": "fp_fleet"]
                            )
                            if payout.status != 200 { failures.append("payout \(client): \(payout.status) \(payout.body)") }
                            let earning = try await host.send(
                                .put, "/api/v1/earnings/earn_123abc",
                                headers: ["Authorization": "Bearer sk_fleet", "Content-Type": "application/json"],
                                body: #"{"metadata": {"client_\#(client)": \#(client)}}"#
                            )
                            if earning.status != 200 { failures.append("earning \(client): \(earning.status) \(earning.body)") }
                            return failures
                        }
                    }
                    var all: [String] = []
                    for try await failures in group { all += failures }
                    return all
                }
                #expect(failures == [])

                // Every merge survived: no instance overwrote another's metadata.
                let fromA = try await a.send(.get, "/api/v1/earnings/earn_123abc", headers: ["Authorization": "Bearer sk_fleet"])
                let fromB = try await b.send(.get, "/api/v1/earnings/earn_123abc", headers: ["Authorization": "Bearer sk_fleet"])
                #expect(fromA.body == fromB.body)
                let metadata = try #require(try fromA.json()["metadata"]?.objectValue)
                for client in 0..<clients {
                    #expect(metadata["client_\(client)"] == .int(client))
                }

                // The payout's audit trail is one unbroken chain ending at the stored status.
                let trail = try await a.store.auditTrail(tenant: "acme", resource: "payouts", recordID: "2710287")
                #expect(trail.first?.from == "pending")
                for (previous, next) in zip(trail, trail.dropFirst()) {
                    #expect(next.from == previous.to)
                }
                let payoutA = try await a.send(.get, "/api/v1/payouts/list?promoter_id=8262622", headers: ["X-API-KEY": "fp_fleet"])
                let payoutB = try await b.send(.get, "/api/v1/payouts/list?promoter_id=8262622", headers: ["X-API-KEY": "fp_fleet"])
                #expect(payoutA.body == payoutB.body)
                let stored = try await b.store.record(tenant: "acme", resource: "payouts", id: "2710287")
                #expect(stored?.status == trail.last?.to)
            }
        }
        try await cluster.dropDatabase(database)
    }
}
