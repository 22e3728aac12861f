import AffiliateCore
import AffiliateStorePostgres
import AffiliateStoreSQLite
import Foundation
import Logging
import Metrics

/// Opens the store a `storage.url` names. The only place that knows which stores exist.
public enum StoreOpener {
    /// - `sqlite:PATH` / `sqlite://PATH`: the embedded default.
    /// - `postgres://` / `postgresql://`: several instances on one database. The password may
    ///   come from the URL, `AFFHOST_DATABASE_PASSWORD`, or the file `AFFHOST_DATABASE_PASSWORD_FILE`
    ///   names, so it need not sit in the YAML.
    ///
    /// Records stored before amounts were kept apart get theirs from `registry`'s dialects
    /// before the store is handed out (once per store; see ``Store/deriveAmounts(_:)``).
    /// The store reports its commits, checkpoints and pool waits through `metrics`.
    public static func open(
        _ settings: StorageSettings, registry: ProviderRegistry, logger: Logger,
        metrics: any MetricsFactory = NOOPMetricsHandler.instance
    ) async throws -> any Store {
        let store = try await open(settings.url, logger: logger, metrics: metrics)
        do {
            let given = try await store.deriveAmounts(registry.amountRules)
            if given > 0 {
                logger.info("amount totals built", metadata: ["store": "\(store.description)", "records": "\(given)"])
            }
        } catch {
            try? await store.close()
            throw error
        }
        return store
    }

    private static func open(_ url: String, logger: Logger, metrics: any MetricsFactory) async throws -> any Store {
        if let path = sqlitePath(of: url) {
            return try await SQLiteStore.open(
                path: path, logger: logger, instruments: StoreInstruments(store: "sqlite", factory: metrics)
            )
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            let passwordFile = ProcessInfo.processInfo.environment["AFFHOST_DATABASE_PASSWORD_FILE"]
            let options = PostgresStore.Options(instruments: StoreInstruments(store: "postgres", factory: metrics))
            return try await PostgresStore.open(url: url, passwordFile: passwordFile, options: options, logger: logger)
        }
        throw StoreFailure("unsupported storage url \(url): expected sqlite:PATH or postgres://user@host:port/database")
    }

    /// `sqlite:data/affhost.sqlite` and `sqlite://data/affhost.sqlite` both name a relative path.
    static func sqlitePath(of url: String) -> String? {
        if url.hasPrefix("sqlite://") { return String(url.dropFirst("sqlite://".count)) }
        if url.hasPrefix("sqlite:") { return String(url.dropFirst("sqlite:".count)) }
        return nil
    }
}
