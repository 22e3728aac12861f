import PostgresTestSupport
import Testing

extension Trait where Self == ConditionTrait {
    /// Skips a PostgreSQL test where PostgreSQL is not installed, saying how to install it;
    /// with `AFFHOST_REQUIRE_POSTGRES=1` the test runs, and fails.
    static var postgresInstalled: Self {
        .enabled(if: PostgresTestCluster.shouldRun, Comment(rawValue: PostgresTestCluster.notInstalled))
    }
}
