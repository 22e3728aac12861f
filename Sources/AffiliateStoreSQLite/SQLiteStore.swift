import AffiliateCore
import GRDB
import Logging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The embedded store: one SQLite file in WAL mode, durable on every acknowledged commit.
///
/// Reads run on a pool of reader connections and never wait for writes; every write goes
/// through ``SQLiteWriteQueue``, which gives concurrent commits one shared fsync.
public final class SQLiteStore: Store {
    public let description: String
    let pool: DatabasePool
    let writes: SQLiteWriteQueue
    let checkpointer: SQLiteCheckpointer
    private let logger: Logger
    public let webhookCommits = WebhookCommitSignal()
    /// Deliveries being sent (leases live in memory: see ``leaseDeliveries(owner:capacity:limit:lease:)``).
    let webhookLeases = SQLiteWebhookLeases()

    private init(
        pool: DatabasePool, checkpointer: SQLiteCheckpointer, description: String, logger: Logger, instruments: StoreInstruments
    ) {
        self.pool = pool
        self.checkpointer = checkpointer
        self.description = description
        self.logger = logger
        let generations = SQLiteOrderGenerations()
        self.orderGenerations = generations
        // Once per group transaction, with the write lock held: commits of other processes
        // made before it move every generation before any of the group's writes is applied.
        // After it, the log starts over once it grew long.
        self.writes = SQLiteWriteQueue(
            pool: pool, location: description, logger: logger, instruments: instruments, groupStarted: { generations.look($0) },
            groupEnded: { checkpointer.restartLogIfLong($0) }
        )
    }

    /// Opens (creating the file and its folder) and migrates. `path` is a file path; commits
    /// and checkpoints are reported to `instruments`.
    ///
    /// Throws ``StoreFailure`` when the file cannot be opened, is not an SQLite database, or
    /// was migrated by a newer affhost than this one.
    public static func open(
        path: String, logger: Logger = Logger(label: "affhost.store"),
        instruments: StoreInstruments = .none(store: "sqlite")
    ) async throws -> SQLiteStore {
        let description = "sqlite:\(path)"
        let pool: DatabasePool
        do {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            pool = try DatabasePool(path: path, configuration: configuration())
            // GRDB turns WAL on with `synchronous = NORMAL`, which may lose the last commits on
            // power loss; an acknowledged write here must survive it.
            try await pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        } catch {
            throw StoreFailure("\(description): cannot open: \(error)")
        }
        try await migrate(pool, description: description, logger: logger)
        let checkpointer: SQLiteCheckpointer
        do {
            checkpointer = try SQLiteCheckpointer(
                path: path, location: description, logger: logger, instruments: instruments
            )
            try await pool.writeWithoutTransaction { checkpointer.install(on: $0) }
        } catch {
            try? pool.close()
            throw StoreFailure("\(description): cannot open: \(error)")
        }
        logger.info("store opened", metadata: ["store": "\(description)"])
        return SQLiteStore(
            pool: pool, checkpointer: checkpointer, description: description, logger: logger, instruments: instruments
        )
    }

    private static func configuration() -> Configuration {
        var configuration = Configuration()
        // Another affhost process (`affhost check`, a second instance by mistake) may hold the
        // write lock for a moment: wait for it rather than failing the request.
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Page caches are per connection and count in the server's memory. The writer's is
            // the larger: it keeps the upper levels of every index it updates. Readers share the
            // operating system's file cache, so a small cache each costs them a copy per page,
            // no disk read. (A memory map was tried: each connection maps the file separately
            // and the same page counted once per connection, 1.1 GB at 1M records.)
            try db.execute(sql: db.configuration.readonly ? "PRAGMA cache_size = -4096" : "PRAGMA cache_size = -32768")
        }
        return configuration
    }

    private static func migrate(_ pool: DatabasePool, description: String, logger: Logger) async throws {
        let migrator = SQLiteSchema.migrator
        do {
            let (superseded, applied) = try await pool.read { db in
                (try migrator.hasBeenSuperseded(db), try migrator.appliedIdentifiers(db))
            }
            if superseded {
                let known = Set(migrator.migrations)
                let unknown = applied.subtracting(known).sorted().joined(separator: ", ")
                throw StoreFailure(
                    "\(description): the file's schema is newer than this affhost knows (unknown migrations: \(unknown)); "
                        + "upgrade affhost to open it"
                )
            }
            let pending = migrator.migrations.filter { !applied.contains($0) }
            if !pending.isEmpty {
                logger.info("migrating store", metadata: ["store": "\(description)", "migrations": "\(pending)"])
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                    migrator.asyncMigrate(pool) { result in
                        continuation.resume(with: result.map { _ in () })
                    }
                }
            }
        } catch let failure as StoreFailure {
            try? pool.close()
            throw failure
        } catch {
            try? pool.close()
            throw StoreFailure("\(description): cannot migrate: \(error)")
        }
    }

    // MARK: Reads

    /// Runs a read on a reader connection. A read of one statement sees one committed state
    /// by itself; `snapshot` wraps several statements in one read transaction so that they
    /// agree (a page and its total).
    func read<T: Sendable>(
        snapshot: Bool = false, _ body: @escaping @Sendable (SQLiteRecordReader) throws -> T
    ) async throws -> T {
        do {
            if snapshot {
                return try await pool.read { try body(SQLiteRecordReader(db: $0)) }
            }
            return try await pool.unsafeRead { try body(SQLiteRecordReader(db: $0)) }
        } catch {
            throw storeError(error)
        }
    }

    public func record(tenant: String, resource: String, id: String) async throws -> AffiliateCore.Record? {
        try await read { try $0.record(tenant: tenant, resource: resource, id: id) }
    }

    public func record(claimedBy claim: ClaimKey) async throws -> AffiliateCore.Record? {
        try await read { try $0.record(claimedBy: claim) }
    }

    /// Where deep list pages start, per list shape.
    let listAnchors = SQLiteListAnchors()
    /// Whether those anchors still describe the stored order (written by ``commit(_:)`` and
    /// ``seed(_:tenant:)``, and by each group commit's look at other processes' commits).
    let orderGenerations: SQLiteOrderGenerations

    /// A page at an offset below one anchor spacing is read as it always was. A deeper one is
    /// read from the list's anchors (``SQLiteListAnchors``) in one read transaction when the
    /// stamps of ``SQLiteOrderGenerations`` taken before it and after its first statement
    /// agree; otherwise by plain `OFFSET`, as before anchors. Both give the same page.
    public func records(matching query: RecordQuery) async throws -> RecordPage {
        try await records(matching: query, inspect: nil)
    }

    /// `inspect` (for tests) runs on each page read from anchors, in the same read transaction.
    func records(
        matching query: RecordQuery, inspect: (@Sendable (SQLiteRecordReader, RecordPage) throws -> Void)?
    ) async throws -> RecordPage {
        try await page(matching: query, as: SQLiteRecordRows.self, inspect: inspect)
    }

    /// The stored `data` texts of the page, copied as they are.
    public func recordData(matching query: RecordQuery) async throws -> RecordDataPage {
        try await page(matching: query, as: SQLiteDataRows.self, inspect: nil)
    }

    private func page<Rows: SQLitePageRows>(
        matching query: RecordQuery, as rows: Rows.Type,
        inspect: (@Sendable (SQLiteRecordReader, Rows.Page) throws -> Void)?
    ) async throws -> Rows.Page {
        guard query.offset >= SQLiteListAnchors.spacing, let before = anchorStamp(query) else {
            return try await read(snapshot: query.countTotal) { try $0.page(matching: query, as: rows) }
        }
        let anchors = listAnchors
        let generations = orderGenerations
        return try await read(snapshot: true) { reader in
            try reader.beginSnapshot()
            guard generations.stamp(tenant: query.tenant, resource: query.resource) == before else {
                return try reader.page(matching: query, as: rows)
            }
            let page = try reader.page(matching: query, anchors: anchors, stamp: before, as: rows)
            try inspect?(reader, page)
            return page
        }
    }

    /// The stamp of the query's (tenant, resource), queueing a look at other processes'
    /// commits on the writer connection when the last one is half as old as anchors allow.
    private func anchorStamp(_ query: RecordQuery) -> SQLiteOrderGenerations.Stamp? {
        if orderGenerations.claimLook() {
            let generations = orderGenerations
            pool.asyncWriteWithoutTransaction { generations.look($0) }
        }
        return orderGenerations.stamp(tenant: query.tenant, resource: query.resource)
    }

    public func idempotencyEntry(tenant: String, scope: String, key: String) async throws -> IdempotencyEntry? {
        try await read { try $0.idempotencyEntry(tenant: tenant, scope: scope, key: key) }
    }

    public func auditTrail(tenant: String, resource: String, recordID: String) async throws -> [AuditEvent] {
        try await read { try $0.auditTrail(tenant: tenant, resource: resource, recordID: recordID) }
    }

    public func statusCounts(tenant: String, resource: String) async throws -> [String: Int] {
        try await read { try $0.statusCounts(of: [(tenant, resource)])[0] }
    }

    /// One statement for all of them.
    public func statusCounts(of pairs: [(tenant: String, resource: String)]) async throws -> [[String: Int]] {
        try await read { try $0.statusCounts(of: pairs) }
    }

    public func amountTotals(tenant: String, _ queries: [AmountTotalsQuery]) async throws -> [[AmountTotal]] {
        try await read(snapshot: queries.count > 1) { try SQLiteAmountTotals.read(tenant: tenant, queries, in: $0.db) }
    }

    /// One read transaction on one reader connection for all of them.
    public func records(
        tenant: String, ids: [(resource: String, id: String)], pages: [RecordQuery], totals: [AmountTotalsQuery]
    ) async throws -> RelatedRecords {
        try await read(snapshot: ids.count + pages.count + totals.count > 1) { reader in
            try reader.related(tenant: tenant, ids: ids, pages: pages, totals: totals)
        }
    }

    // MARK: Writes

    /// Runs a write in the next group transaction, once it is durable.
    func write<T: Sendable>(_ body: @escaping @Sendable (inout SQLiteBatchWriter) throws -> T) async throws -> T {
        do {
            return try await writes.perform { db, tallies in
                var writer = SQLiteBatchWriter(db: db)
                let result = try body(&writer)
                tallies.add(writer.tallies)
                return result
            }
        } catch {
            throw storeError(error)
        }
    }

    public func commit(_ batch: WriteBatch) async throws {
        guard !batch.isEmpty else { return }
        let ticket = SQLiteOrderGenerations.Ticket(orderGenerations)
        defer { ticket.finish() }
        try await write { writer in
            let now = Timestamp.now()
            try writer.apply(batch, now: now)
            try writer.queue(batch.webhookEvents, now: now)
            ticket.mark(writer.reordered)
        }
        webhookCommits.committed(batch.webhookEvents)
    }

    /// The whole change runs in the next group transaction on the writer connection: the
    /// record is read there (once: the write reuses what the read found), the plan runs on
    /// it, its batch is applied, and what it names is read back before the group commits.
    /// Nothing else can write in between, so no version race is ever lost here.
    public func change<T: Sendable>(_ change: RecordChange<T>) async throws -> ChangeOutcome<T> {
        let ticket = SQLiteOrderGenerations.Ticket(orderGenerations)
        defer { ticket.finish() }
        let (outcome, queued) = try await write { writer in
            let stored = try writer.read(tenant: change.tenant, resource: change.resource, id: change.id)
            let plan = try change.plan(stored)
            let now = Timestamp.now()
            try writer.apply(plan.batch, now: now)
            ticket.mark(writer.reordered)
            let readBack = plan.readBack
            var related = RelatedRecords.empty
            if !readBack.isEmpty {
                related = try SQLiteRecordReader(db: writer.db).related(
                    tenant: change.tenant, ids: readBack.records, pages: [], totals: readBack.totals
                )
            }
            let events = plan.batch.webhookEvents
            try writer.queue(events, now: now, known: (readBack, related))
            return (ChangeOutcome(value: plan.value, related: related), events)
        }
        webhookCommits.committed(queued)
        return outcome
    }

    /// One write transaction over every record still without an amount, then a note that it
    /// ran: records written since carry their amounts, so it never needs to run again.
    public func deriveAmounts(_ rules: [String: AmountRule]) async throws -> Int {
        try await write { writer in try SQLiteAmountDerivation.run(rules, writer: &writer) }
    }

    public func nextSequenceValue(tenant: String, sequence: String, atLeast: Int64) async throws -> Int64 {
        try await write { try $0.nextValue(tenant: tenant, sequence: sequence, atLeast: atLeast) }
    }

    public func seed(_ data: SeedData, tenant: String) async throws -> Int {
        let ticket = SQLiteOrderGenerations.Ticket(orderGenerations)
        defer { ticket.finish() }
        return try await write { writer in
            var added = 0
            for var record in data.records {
                record.tenant = tenant
                guard try !writer.exists(tenant: tenant, resource: record.resource, id: record.id) else { continue }
                try writer.insert(record, tagsText: SQLiteRecordCoding.encodeTags(record.tags))
                added += 1
            }
            for var claim in data.claims {
                claim.tenant = tenant
                try writer.insertClaimIfFree(claim)
            }
            for (sequence, floor) in data.sequenceFloors.sorted(by: { $0.key < $1.key }) {
                try writer.raise(tenant: tenant, sequence: sequence, to: floor)
            }
            ticket.mark(writer.reordered)
            return added
        }
    }

    /// Waits for queued writes, then closes every connection. Later calls throw.
    public func close() async throws {
        await writes.close()
        await checkpointer.finish()
        do {
            try pool.close()
        } catch {
            throw storeError(error)
        }
        checkpointer.close()
        // How the writes went: callers per durable transaction, and whether the log kept
        // starting over (its longest stretch in 4 KiB pages).
        let statistics = groupCommitStatistics
        logger.info(
            "store closed",
            metadata: [
                "store": "\(description)", "writes": "\(statistics.writes)", "transactions": "\(statistics.transactions)",
                "log_restarts": "\(checkpointer.restarts)", "longest_log_pages": "\(checkpointer.largestLogPages)",
            ]
        )
    }

    /// How concurrent writes were grouped into transactions so far.
    var groupCommitStatistics: SQLiteWriteQueue.Statistics { writes.statistics }

    /// The writer connection's journal mode and `synchronous` level (2 is FULL), which decide
    /// what an acknowledged commit survives.
    func durabilitySettings() async throws -> (journalMode: String, synchronous: Int) {
        try await pool.writeWithoutTransaction { db in
            (
                try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "",
                try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
            )
        }
    }

    /// Conflicts and failures pass through; anything else (an SQLite error) becomes a
    /// ``StoreFailure`` naming this store.
    func storeError(_ error: Error) -> Error {
        switch error {
        case is StoreConflict, is StoreFailure, is ChangeRefused: error
        default: StoreFailure("\(description): \(error)")
        }
    }
}
