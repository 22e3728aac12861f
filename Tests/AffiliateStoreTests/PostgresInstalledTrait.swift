import PostgresTestSupport
import Testing

extension Trait where Self == ConditionTrait {
    /// Skips a PostgreSQL test where PostgreSQL is not installed, saying how to install it;
    /// with `AFFHOST_REQUIRE_POSTGRES=1` the test runs, and fails.
    ///
    /// The PostgreSQL suites also carry a time limit: a test that stops, restarts or waits on
    /// a cluster once hung a whole run with no name to look at; past the limit swift-testing
    /// names the test that is still running.
    static var postgresInstalled: Self {
        .enabled(if: PostgresTestCluster.shouldRun, Comment(rawValue: PostgresTestCluster.notInstalled))
    }
}
