public import CoreMetrics
import Metrics

/// What a store reports about its own work, for the host's metrics endpoint.
///
/// Instruments are made once, when the store opens, from the factory the host hands over, so a
/// commit only bumps counters it already holds. Without a factory they record nothing.
public struct StoreInstruments: Sendable {
    /// Seconds from the start of a durable transaction to its commit (its fsync included).
    public let commitDuration: CoreMetrics.Timer
    /// Callers one transaction answered: the group-commit batch size (SQLite), 1 otherwise.
    public let writesPerCommit: Recorder
    /// Transactions that failed and were rolled back.
    public let commitFailures: Counter
    /// SQLite write-ahead-log checkpoints, by kind (`background`, `restart`, `inline`).
    public let backgroundCheckpoints: Counter
    public let logRestarts: Counter
    public let inlineCheckpoints: Counter
    /// Seconds a PostgreSQL call waited for a pooled connection.
    public let poolWait: CoreMetrics.Timer
    /// PostgreSQL calls that failed for want of the database (no connection, timeout, lost link).
    public let poolFailures: Counter

    /// `kind` is `sqlite` or `postgres`; each gets only the instruments it reports to, so the
    /// metrics endpoint shows no checkpoints for PostgreSQL and no pool for SQLite.
    public init(store kind: String, factory: any MetricsFactory) {
        let store = [("store", kind)]
        let checkpointing = kind == "sqlite" ? factory : NOOPMetricsHandler.instance
        let pooling = kind == "postgres" ? factory : NOOPMetricsHandler.instance
        commitDuration = CoreMetrics.Timer(label: "affhost_store_commit_duration_seconds", dimensions: store, factory: factory)
        writesPerCommit = Recorder(label: "affhost_store_writes_per_commit", dimensions: store, aggregate: true, factory: factory)
        commitFailures = Counter(label: "affhost_store_commit_failures_total", dimensions: store, factory: factory)
        backgroundCheckpoints = Counter(
            label: "affhost_store_wal_checkpoints_total", dimensions: store + [("kind", "background")], factory: checkpointing
        )
        logRestarts = Counter(
            label: "affhost_store_wal_checkpoints_total", dimensions: store + [("kind", "restart")], factory: checkpointing
        )
        inlineCheckpoints = Counter(
            label: "affhost_store_wal_checkpoints_total", dimensions: store + [("kind", "inline")], factory: checkpointing
        )
        poolWait = CoreMetrics.Timer(label: "affhost_store_pool_wait_seconds", dimensions: store, factory: pooling)
        poolFailures = Counter(label: "affhost_store_pool_failures_total", dimensions: store, factory: pooling)
    }

    /// Instruments that record nothing, for stores opened outside a serving host.
    public static func none(store kind: String) -> StoreInstruments {
        StoreInstruments(store: kind, factory: NOOPMetricsHandler.instance)
    }
}
