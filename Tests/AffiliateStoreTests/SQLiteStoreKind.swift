import AffiliateCore
import AffiliateStoreSQLite
import Logging

import Foundation

extension StoreKind {
    /// A file two folders deep in a new temporary folder, so that every test also checks that
    /// opening creates the missing folders.
    static let sqlite = StoreKind(name: "sqlite") {
        let folder = try StoreTemporaryFolder.make()
        let path = folder.appendingPathComponent("data/nested/affhost.sqlite").path
        return StorePlace(
            open: { try await SQLiteStore.open(path: path, logger: StoreTestLogger.quiet) },
            destroy: { try FileManager.default.removeItem(at: folder) }
        )
    }
}

enum StoreTestLogger {
    /// Warnings and errors only: tests open hundreds of stores.
    static let quiet: Logger = {
        var logger = Logger(label: "affhost.store.tests")
        logger.logLevel = .warning
        return logger
    }()
}

enum StoreTemporaryFolder {
    static func make() throws -> URL {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("affhost-store-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
