import AffiliateCore
import AffiliateStorePostgres
import AffiliateStoreSQLite
import Foundation
import Logging

/// Opens the store a `storage.url` names. The only place that knows which stores exist.
public enum StoreOpener {
    /// - `sqlite:PATH` / `sqlite://PATH`: the embedded default.
    /// - `postgres://` / `postgresql://`: several instances on one database. The password may
    ///   come from the URL, `AFFHOST_DATABASE_PASSWORD`, or the file `AFFHOST_DATABASE_PASSWORD_FILE`
    ///   names, so it need not sit in the YAML.
    public static func open(_ settings: StorageSettings, logger: Logger) async throws -> any Store {
        let url = settings.url
        if let path = sqlitePath(of: url) {
            return try await SQLiteStore.open(path: path, logger: logger)
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            let passwordFile = ProcessInfo.processInfo.environment["AFFHOST_DATABASE_PASSWORD_FILE"]
            return try await PostgresStore.open(url: url, passwordFile: passwordFile, logger: logger)
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
