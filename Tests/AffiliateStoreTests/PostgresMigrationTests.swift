import AffiliateCore
import PostgresTestSupport
import Testing

@testable import AffiliateStorePostgres

@Suite("PostgreSQL migrations", .postgresInstalled, .timeLimit(.minutes(5)))
struct PostgresMigrationTests {
    @Test func fromEmptyThenRerun() async throws {
        try await PostgresTestCluster.withDatabase { cluster, database in
            let url = cluster.url(database: database)
            let first = try await PostgresStore.open(url: url, logger: StoreTestLogger.quiet)
            try await StoreSample.insert([StoreSample.record("1")], into: first)
            try await first.close()
            #expect(try await cluster.psql(database: database, "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations") == "1,2,3")

            let second = try await PostgresStore.open(url: url, logger: StoreTestLogger.quiet)
            #expect(try await second.record(tenant: "acme", resource: "payouts", id: "1")?.version == 1)
            try await second.close()
            #expect(try await cluster.psql(database: database, "SELECT count(*) FROM schema_migrations") == "3")
            #expect(
                try await cluster.psql(
                    database: database,
                    "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"
                ) == "audit_events,claims,idempotency_keys,record_sums,records,schema_migrations,sequences,store_notes,"
                    + "webhook_attempts,webhook_deliveries,webhook_events,webhook_pauses"
            )
        }
    }

    /// Instances of a fleet start together; the advisory lock lets exactly one migrate.
    @Test func instancesStartingAtOnce() async throws {
        try await PostgresTestCluster.withDatabase { cluster, database in
            let url = cluster.url(database: database)
            let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
                for _ in 0..<6 {
                    group.addTask { try await PostgresStore.open(url: url, logger: StoreTestLogger.quiet) }
                }
                var stores: [PostgresStore] = []
                for try await store in group { stores.append(store) }
                return stores
            }
            #expect(stores.count == 6)
            for store in stores { try await store.close() }
            #expect(try await cluster.psql(database: database, "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations") == "1,2,3")
        }
    }
}
