import AffiliateCore
import AffiliateStorePostgres
import PostgresTestSupport
import Testing

/// The database goes away while affhost serves, then comes back: calls fail within the
/// operation timeout (the engine answers 503), and work again without reopening the store.
/// This test stops its server, so it has a cluster of its own.
@Suite("PostgreSQL outage", .postgresInstalled, .timeLimit(.minutes(5)))
struct PostgresOutageTests {
    @Test func failsFastWhileDownAndRecoversWhenBack() async throws {
        let cluster = try await PostgresTestCluster.start()
        do {
            try await loseAndRegain(cluster)
        } catch {
            await cluster.remove()
            throw error
        }
        await cluster.remove()
    }

    /// After a minute without a connection postgres-nio's pool stops trying often; the store
    /// then fails calls at once and, when the server is back, is serving again within seconds.
    @Test func longOutageFailsAtOnceAndRecoversWithinSeconds() async throws {
        let cluster = try await PostgresTestCluster.start()
        do {
            try await loseForMoreThanAMinute(cluster)
        } catch {
            await cluster.remove()
            throw error
        }
        await cluster.remove()
    }

    private func loseForMoreThanAMinute(_ cluster: PostgresTestCluster) async throws {
        let database = try await cluster.createDatabase()
        let store = try await PostgresStore.open(
            url: cluster.url(database: database), options: .init(operationTimeout: .seconds(2)), logger: StoreTestLogger.quiet
        )
        try await Self.insertWhileServing(StoreSample.record("1"), into: store)
        try await cluster.stopServer()

        let clock = ContinuousClock()
        let gaveUp = "PostgreSQL at 127.0.0.1:\(cluster.port) is unavailable: no connection could be made for a minute"
        let giveUpDeadline = clock.now.advanced(by: .seconds(120))
        var lastFailure = ""
        while lastFailure != gaveUp, clock.now < giveUpDeadline {
            do {
                _ = try await store.record(tenant: "acme", resource: "payouts", id: "1")
                Issue.record("a call succeeded while the server was down")
                break
            } catch {
                lastFailure = String(describing: error)
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(lastFailure == gaveUp)
        // The call that saw the pool give up may have waited in its queue; the next one is
        // refused at once.
        let started = clock.now
        await #expect {
            _ = try await store.record(tenant: "acme", resource: "payouts", id: "1")
        } throws: { error in
            String(describing: error) == gaveUp
        }
        let refusal = started.duration(to: clock.now)
        #expect(refusal < .milliseconds(500), "refused after \(refusal)")

        try await cluster.startServer()
        let back = clock.now
        var recovered: Record?
        while recovered == nil, back.duration(to: clock.now) < .seconds(30) {
            recovered = try? await store.record(tenant: "acme", resource: "payouts", id: "1")
            if recovered == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let recovery = back.duration(to: clock.now)
        #expect(recovered?.version == 1)
        #expect(recovery < .seconds(5), "serving again after \(recovery)")
        try await store.close()
    }

    private func loseAndRegain(_ cluster: PostgresTestCluster) async throws {
        let database = try await cluster.createDatabase()
        let timeout = Duration.seconds(2)
        let store = try await PostgresStore.open(
            url: cluster.url(database: database), options: .init(operationTimeout: timeout), logger: StoreTestLogger.quiet
        )
        try await Self.insertWhileServing(StoreSample.record("1"), into: store)

        try await cluster.stopServer()
        let clock = ContinuousClock()
        // The first call finds its pooled connection dropped, the later ones wait for a new
        // connection that does not come: each must give up within the timeout.
        for attempt in 0..<3 {
            let started = clock.now
            await #expect("attempt \(attempt)") {
                _ = try await store.record(tenant: "acme", resource: "payouts", id: "1")
            } throws: { error in
                (error as? StoreFailure)?.description.hasPrefix("PostgreSQL at 127.0.0.1:\(cluster.port) ") == true
            }
            let elapsed = started.duration(to: clock.now)
            #expect(elapsed < timeout + .seconds(1), "attempt \(attempt) took \(elapsed)")
        }
        await #expect {
            try await store.commit(StoreSample.inserting([StoreSample.record("2")]))
        } throws: { error in
            error is StoreFailure
        }

        try await cluster.startServer()
        let deadline = clock.now.advanced(by: .seconds(30))
        var recovered: Record?
        while recovered == nil, clock.now < deadline {
            recovered = try? await store.record(tenant: "acme", resource: "payouts", id: "1")
            if recovered == nil { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(recovered?.version == 1)
        try await store.commit(StoreSample.inserting([StoreSample.record("2")]))
        #expect(try await store.record(tenant: "acme", resource: "payouts", id: "2")?.version == 1)
        try await store.close()
    }

    /// The record every test starts from, written while the server is up. On a machine busy with
    /// the whole test run the first call can outlast the short timeout these tests give the store
    /// (what they test is the outage, not that call), so it is repeated until it lands; a
    /// conflict means an earlier try committed after its caller gave up.
    private static func insertWhileServing(_ record: Record, into store: PostgresStore) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while true {
            do {
                try await StoreSample.insert([record], into: store)
                return
            } catch is StoreConflict {
                return
            } catch is StoreFailure where ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}
