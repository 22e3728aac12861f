import AffiliateCore
import AffiliateStorePostgres
import PostgresTestSupport

extension StoreKind {
    /// A new database in the process's shared throwaway cluster, dropped afterwards.
    ///
    /// Calls may take 60 s rather than the 5 s a server gives them: these tests check what the
    /// store answers, and on two cores shared with the whole test run twenty commits queued on
    /// one lock can take longer than a server's patience. The deadline has tests of its own.
    static let postgres = StoreKind(name: "postgres") {
        let cluster = try await PostgresTestCluster.shared()
        let database = try await cluster.createDatabase()
        return StorePlace(
            open: {
                try await PostgresStore.open(
                    url: cluster.url(database: database), options: .init(operationTimeout: .seconds(60)),
                    logger: StoreTestLogger.quiet
                )
            },
            destroy: { try await cluster.dropDatabase(database) }
        )
    }

    /// PostgreSQL where it is installed (or required); elsewhere the conformance suite runs on
    /// the other stores, and the PostgreSQL tests report the skip with the install command.
    static var postgresWhenInstalled: [StoreKind] {
        PostgresTestCluster.shouldRun ? [.postgres] : []
    }
}
