import AffiliateCore
import AffiliateStorePostgres
import PostgresTestSupport

extension StoreKind {
    /// A new database in the process's shared throwaway cluster, dropped afterwards.
    static let postgres = StoreKind(name: "postgres") {
        let cluster = try await PostgresTestCluster.shared()
        let database = try await cluster.createDatabase()
        return StorePlace(
            open: {
                try await PostgresStore.open(url: cluster.url(database: database), logger: StoreTestLogger.quiet)
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
