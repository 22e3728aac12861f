import AffiliateCore
import GRDB
import Testing

@testable import AffiliateStoreSQLite

import Foundation

/// What only the SQLite store has: its file, its schema versions, its durability settings,
/// group commit and its query plans.
@Suite("SQLite store")
struct SQLiteStoreTests {
    /// A path two folders deep inside a new temporary folder; `body` gets the path.
    private func withFile<T>(_ body: (String) async throws -> T) async throws -> T {
        let folder = try StoreTemporaryFolder.make()
        defer { try? FileManager.default.removeItem(at: folder) }
        return try await body(folder.appendingPathComponent("data/nested/affhost.sqlite").path)
    }

    private func open(_ path: String) async throws -> SQLiteStore {
        try await SQLiteStore.open(path: path, logger: StoreTestLogger.quiet)
    }

    private func inspect<T: Sendable>(_ path: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try await queue.read(body)
    }

    @Test func openingAnEmptyPlaceCreatesFolderFileAndSchemaV1() async throws {
        try await withFile { path in
            let store = try await open(path)
            #expect(store.description == "sqlite:\(path)")
            try await store.close()
            #expect(FileManager.default.fileExists(atPath: path))
            let (migrations, tables, journal) = try await inspect(path) { db in
                (
                    try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier"),
                    try String.fetchAll(
                        db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
                    ),
                    try String.fetchOne(db, sql: "PRAGMA journal_mode")
                )
            }
            #expect(migrations == ["v1", "v2", "v3", "v4", "v5"])
            #expect(
                tables == [
                    "audit_event", "claim", "grdb_migrations", "idempotency_entry", "record", "record_sum", "record_tag",
                    "record_tally", "sequence", "store_note", "webhook_attempt", "webhook_delivery", "webhook_event",
                    "webhook_pause",
                ]
            )
            #expect(journal == "wal")
        }
    }

    @Test func reopeningKeepsDataAndRunsNoMigrationTwice() async throws {
        try await withFile { path in
            let first = try await open(path)
            let stored = try await StoreSample.insert([StoreSample.record("1")], into: first)
            try await first.close()
            let second = try await open(path)
            #expect(try await second.record(tenant: "acme", resource: "payouts", id: "1") == stored[0])
            try await second.close()
            let migrations = try await inspect(path) { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations") }
            #expect(migrations == ["v1", "v2", "v3", "v4", "v5"])
        }
    }

    /// A file written by the first schema keeps its records, and v2 rebuilds the tallies
    /// (now also per tag and status) from them.
    @Test func aVersion1FileIsMigratedWithItsData() async throws {
        try await withFile { path in
            try FileManager.default.createDirectory(
                at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true
            )
            let queue = try DatabaseQueue(path: path)
            try SQLiteSchema.migrator.migrate(queue, upTo: "v1")
            try await queue.write { db in
                for (id, status, promoter) in [("1", "pending", "7"), ("2", "completed", "7"), ("3", "pending", "8")] {
                    try db.execute(
                        sql: """
                            INSERT INTO record (tenant, resource, id, status, sort_key, version, data, tags)
                            VALUES ('acme', 'payouts', ?, ?, ?, 1, '{"id":1}', ?);
                            INSERT INTO record_tag (tenant, resource, name, value, sort_key, record_id)
                            VALUES ('acme', 'payouts', 'promoter_id', ?, ?, ?);
                            """,
                        arguments: [id, status, "000" + id, #"[["promoter_id",""# + promoter + #""]]"#, promoter, "000" + id, id]
                    )
                }
            }
            try queue.close()

            let store = try await open(path)
            func total(_ tags: [Tag], _ status: String?) async throws -> Int? {
                try await store.records(
                    matching: RecordQuery(tenant: "acme", resource: "payouts", tags: tags, status: status, countTotal: true)
                ).total
            }
            #expect(try await total([], nil) == 3)
            #expect(try await total([], "pending") == 2)
            #expect(try await total([Tag("promoter_id", "7")], nil) == 2)
            #expect(try await total([Tag("promoter_id", "7")], "pending") == 1)
            #expect(try await total([Tag("promoter_id", "8")], "completed") == 0)
            #expect(try await store.statusCounts(tenant: "acme", resource: "payouts") == ["pending": 2, "completed": 1])
            let record = try await store.record(tenant: "acme", resource: "payouts", id: "2")
            #expect(record == Record(
                tenant: "acme", resource: "payouts", id: "2", status: "completed", sortKey: "0002", version: 1,
                data: ["id": .int(1)], tags: [Tag("promoter_id", "7")]
            ))
            try await store.close()
            let migrations = try await inspect(path) { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations") }
            #expect(migrations == ["v1", "v2", "v3", "v4", "v5"])
        }
    }

    @Test func aFileWithANewerSchemaIsRefusedWithAClearError() async throws {
        try await withFile { path in
            try await open(path).close()
            let queue = try DatabaseQueue(path: path)
            try await queue.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v9'), ('v10')") }
            try queue.close()
            let error = await #expect(throws: StoreFailure.self) { try await open(path) }
            #expect(
                error?.description
                    == "sqlite:\(path): the file's schema is newer than this affhost knows (unknown migrations: v10, v9); "
                    + "upgrade affhost to open it"
            )
        }
    }

    @Test func aFileThatIsNotADatabaseIsRefused() async throws {
        try await withFile { path in
            try FileManager.default.createDirectory(
                at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true
            )
            let text = String(repeating: "affhost is not a database. ", count: 200)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            let error = await #expect(throws: StoreFailure.self) { try await open(path) }
            #expect(error?.description.hasPrefix("sqlite:\(path): cannot open: ") == true)
            #expect(error?.description.contains("file is not a database") == true)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(text.utf8))
        }
    }

    @Test func aFolderThatCannotBeCreatedIsAStoreFailure() async throws {
        try await withFile { path in
            let blocker = URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent()
            try FileManager.default.createDirectory(at: blocker.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("a file where a folder should be".utf8).write(to: blocker)
            let error = await #expect(throws: StoreFailure.self) { try await open(path) }
            #expect(error?.description.hasPrefix("sqlite:\(path): cannot open: ") == true)
        }
    }

    @Test func aClosedStoreRefusesCallsWithAStoreFailure() async throws {
        try await withFile { path in
            let store = try await open(path)
            try await store.close()
            await #expect(throws: StoreFailure.self) { try await store.record(tenant: "acme", resource: "payouts", id: "1") }
            let error = await #expect(throws: StoreFailure.self) {
                try await store.commit(StoreSample.inserting([StoreSample.record("1")]))
            }
            #expect(error?.description == "sqlite:\(path) is closed")
            await #expect(throws: StoreFailure.self) {
                try await store.nextSequenceValue(tenant: "acme", sequence: "payouts", atLeast: 1)
            }
        }
    }

    /// A row whose `data` is not an object (edited by hand with the `sqlite3` shell) is a
    /// store failure naming the record, whether the page is decoded or copied as stored; the
    /// other records still read.
    @Test func aRecordWhoseDataIsNotAnObjectIsAStoreFailure() async throws {
        try await withFile { path in
            let store = try await open(path)
            try await StoreSample.insert([StoreSample.record("1"), StoreSample.record("2")], into: store)
            for broken in ["oops", "[1]", ""] {
                let queue = try DatabaseQueue(path: path)
                try await queue.write { try $0.execute(sql: "UPDATE record SET data = ? WHERE id = '2'", arguments: [broken]) }
                try queue.close()
                let query = RecordQuery(tenant: "acme", resource: "payouts")
                let expected = "stored record payouts/2 has unreadable data"
                let decoded = await #expect(throws: StoreFailure.self) { try await store.records(matching: query) }
                #expect(decoded?.description == expected, "\(broken)")
                let copied = await #expect(throws: StoreFailure.self) { try await store.recordData(matching: query) }
                #expect(copied?.description == expected, "\(broken)")
                #expect(try await store.record(tenant: "acme", resource: "payouts", id: "1")?.id == "1")
                let first = try await store.recordData(matching: RecordQuery(tenant: "acme", resource: "payouts", limit: 1))
                #expect(first.count == 1)
            }
            try await store.close()
        }
    }

    @Test func theWriterUsesWALWithFullSynchronousWrites() async throws {
        try await withFile { path in
            let store = try await open(path)
            let settings = try await store.durabilitySettings()
            #expect(settings.journalMode == "wal")
            #expect(settings.synchronous == 2)
            try await store.close()
        }
    }

    /// Checkpoints run off the writer: commits that fill the write-ahead log past the threshold
    /// start them on the checkpointer's connection, the log's pages reach the database file,
    /// and every committed record is there after a reopen.
    @Test func commitsThatFillTheLogStartBackgroundCheckpoints() async throws {
        try await withFile { path in
            let store = try await open(path)
            let payload = String(repeating: "x", count: 6_000)
            for batch in 0..<40 {
                var records: [Record] = []
                for index in 0..<60 {
                    var record = StoreSample.record("r\(batch)-\(index)")
                    record.data["padding"] = .string(payload)
                    records.append(record)
                }
                try await store.commit(StoreSample.inserting(records))
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while store.checkpointer.checkpoints == 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(store.checkpointer.checkpoints > 0)
            // The log was copied into the database file: it holds the data without the log.
            let fileBytes = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            #expect(fileBytes > 2_400 * 6_000 / 2)
            try await store.close()
            let reopened = try await open(path)
            let stored = try await reopened.records(matching: RecordQuery(tenant: "acme", resource: "payouts", countTotal: true))
            #expect(stored.total == 2_400)
            try await reopened.close()
        }
    }

    /// Under back-to-back writes with readers always on the log, the log still starts over:
    /// the writer restarts it between groups once it passes the threshold, so it stays a few
    /// thresholds long instead of growing to the inline backstop, and nothing is lost.
    @Test func theLogStartsOverUnderSteadyWritesAndReads() async throws {
        try await withFile { path in
            let store = try await open(path)
            let payload = String(repeating: "y", count: 3_000)
            let writes = 12_000
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        for index in stride(from: writer, to: writes, by: 8) {
                            var record = StoreSample.record("w\(index)")
                            record.data["padding"] = .string(payload)
                            try await store.commit(StoreSample.inserting([record]))
                        }
                    }
                }
                for reader in 0..<4 {
                    group.addTask {
                        var read = 0
                        while store.groupCommitStatistics.writes < writes {
                            _ = try await store.record(tenant: "acme", resource: "payouts", id: "w\(read * 4 + reader)")
                            read += 1
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(store.checkpointer.restarts > 0)
            #expect(store.checkpointer.largestLogPages < SQLiteCheckpointer.restartThreshold * 3)
            try await store.close()
            let reopened = try await open(path)
            let stored = try await reopened.records(matching: RecordQuery(tenant: "acme", resource: "payouts", countTotal: true))
            #expect(stored.total == writes)
            try await reopened.close()
        }
    }

    /// Writes that queue up behind a transaction in flight share the next one, and a
    /// conflicting write in that shared transaction fails alone.
    @Test func writesQueuedBehindATransactionShareTheNextOne() async throws {
        try await withFile { path in
            let store = try await open(path)
            // The first transaction stays open until all forty writes have queued behind it (or
            // 30 s pass), so the grouping does not depend on how busy the machine is.
            let slow = Task {
                try await store.writes.perform { _, _ in
                    let deadline = Date().addingTimeInterval(30)
                    while store.writes.pendingCount < 40, Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
                }
            }
            while store.groupCommitStatistics.transactions == 0 { try await Task.sleep(for: .milliseconds(5)) }
            let outcomes = await concurrentCommits(40, on: store) { index in
                StoreSample.inserting([StoreSample.record(index < 2 ? "duplicate" : "r\(index)")])
            }
            try await slow.value
            #expect(store.groupCommitStatistics == .init(transactions: 2, writes: 41))
            #expect(outcomes.filter(\.succeeded).count == 39)
            #expect(outcomes.compactMap(\.conflict) == [.version(resource: "payouts", id: "duplicate")])
            let page = try await store.records(matching: RecordQuery(tenant: "acme", resource: "payouts", countTotal: true))
            #expect(page.total == 39)
            #expect(page.records.count == 39)
            try await store.close()
        }
    }

    @Test func closeWaitsForQueuedWrites() async throws {
        try await withFile { path in
            let store = try await open(path)
            let writes = Task { await concurrentCommits(20, on: store) { StoreSample.inserting([StoreSample.record("r\($0)")]) } }
            while store.groupCommitStatistics.writes == 0 { try await Task.sleep(for: .milliseconds(1)) }
            try await store.close()
            let outcomes = await writes.value
            let reopened = try await open(path)
            let stored = try await reopened.records(matching: RecordQuery(tenant: "acme", resource: "payouts", countTotal: true))
            // Every write either committed before the close or was refused by it; none is lost
            // after being acknowledged.
            #expect(stored.total == outcomes.filter(\.succeeded).count)
            for case .failure(let error) in outcomes {
                #expect((error as? StoreFailure)?.description == "sqlite:\(path) is closed")
            }
            try await reopened.close()
        }
    }

    /// Every list shape walks an index in list order, whichever index drives it: no table
    /// scan and no sort of the matches, so a page costs the same at a thousand records as at
    /// a million. Only the page's own rows are sorted again after the join.
    @Test func everyListShapeIsServedByAnIndexInOrder() async throws {
        try await withFile { path in
            let store = try await open(path)
            try await StoreSample.insert(Self.tagged, into: store)
            try await store.close()
            for query in Self.shapes {
                for driver in Self.drivers(query) {
                    let filter = SQLiteListFilter(query, driver: driver)
                    let page = try await plan(path, SQLiteRecordReader.pageSQL(filter, query))
                    let count = try await plan(path, SQLiteRecordReader.countSQL(filter))
                    let outer = page.filter { $0.parent == 0 }.map(\.detail)
                    #expect(outer.count == 4, "\(query) \(driver): \(page)")
                    #expect(outer.first == "CO-ROUTINE p")
                    #expect(outer.dropFirst().first == "SCAN p")
                    #expect(outer.dropFirst(2).first?.hasPrefix("SEARCH r USING ") == true, "\(query) \(driver): \(page)")
                    #expect(outer.last == "USE TEMP B-TREE FOR ORDER BY")
                    let filtering = page.filter { $0.parent != 0 } + count
                    #expect(!filtering.isEmpty)
                    for step in filtering.map(\.detail) where !step.hasPrefix("CORRELATED SCALAR SUBQUERY") {
                        #expect(step.hasPrefix("SEARCH "), "\(query) \(driver): \(step)")
                        #expect(!step.contains("TEMP B-TREE"), "\(query) \(driver): \(step)")
                    }
                }
            }
        }
    }

    /// The store picks the driving index from the tallies; whichever it picks, the page and
    /// the total are the same.
    @Test func everyDrivingIndexGivesTheSamePage() async throws {
        try await withFile { path in
            let store = try await open(path)
            let stored = try await StoreSample.insert(Self.tagged, into: store)
            for shape in Self.shapes {
                for (offset, limit) in [(0, 5), (3, 4), (0, nil)] as [(Int, Int?)] {
                    var query = shape
                    query.offset = offset
                    query.limit = limit
                    query.countTotal = true
                    let matching = stored.filter { record in
                        query.tags.allSatisfy(record.tags.contains) && (query.status == nil || record.status == query.status)
                    }
                    let expected = RecordPage(
                        records: Array(matching.dropFirst(offset).prefix(limit ?? .max)), total: matching.count
                    )
                    #expect(try await store.records(matching: query) == expected, "\(query)")
                    for driver in Self.drivers(query) {
                        let page = try await store.pool.read { [query] in
                            try SQLiteRecordReader(db: $0).records(matching: query, driver: driver)
                        }
                        #expect(page == expected, "\(query) \(driver)")
                    }
                }
            }
            try await store.close()
        }
    }

    /// Fifty payouts: every one in campaign 1, a fifth per promoter, every seventh completed.
    private static let tagged = (1...50).map {
        StoreSample.record(
            String($0), status: $0 % 7 == 0 ? "completed" : "pending",
            tags: [Tag("campaign_id", "1"), Tag("promoter_id", "\($0 % 5)")]
        )
    }

    private static let shapes: [RecordQuery] = [
        RecordQuery(tenant: "acme", resource: "payouts", offset: 10, limit: 5),
        RecordQuery(tenant: "acme", resource: "payouts", status: "pending", limit: 5),
        RecordQuery(tenant: "acme", resource: "payouts", tags: [Tag("campaign_id", "1")], limit: 5),
        RecordQuery(tenant: "acme", resource: "payouts", tags: [Tag("campaign_id", "1")], status: "completed", limit: 5),
        RecordQuery(
            tenant: "acme", resource: "payouts", tags: [Tag("campaign_id", "1"), Tag("promoter_id", "2")],
            status: "pending", limit: 5
        ),
        RecordQuery(tenant: "acme", resource: "payouts", tags: [Tag("campaign_id", "1"), Tag("promoter_id", "3")], limit: 5),
    ]

    /// Every index that can drive `query`.
    private static func drivers(_ query: RecordQuery) -> [SQLiteListFilter.Driver] {
        [.records] + query.tags.indices.map { .tag($0) }
    }

    private func plan(
        _ path: String, _ statement: (sql: String, arguments: StatementArguments)
    ) async throws -> [(parent: Int, detail: String)] {
        try await inspect(path) { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + statement.sql, arguments: statement.arguments)
                .map { (parent: $0["parent"], detail: $0["detail"]) }
        }
    }
}
