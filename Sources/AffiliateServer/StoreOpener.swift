import AffiliateCore
import AffiliateStoreSQLite
import Logging

/// Opens the store a `storage.url` names. The only place that knows which stores exist.
public enum StoreOpener {
    public static func open(_ settings: StorageSettings, logger: Logger) async throws -> any Store {
        let url = settings.url
        if let path = sqlitePath(of: url) {
            return try await SQLiteStore.open(path: path, logger: logger)
        }
        throw StoreFailure("unsupported storage url \(url): expected sqlite:PATH")
    }

    /// `sqlite:data/affhost.sqlite` and `sqlite://data/affhost.sqlite` both name a relative path.
    static func sqlitePath(of url: String) -> String? {
        if url.hasPrefix("sqlite://") { return String(url.dropFirst("sqlite://".count)) }
        if url.hasPrefix("sqlite:") { return String(url.dropFirst("sqlite:".count)) }
        return nil
    }
}
