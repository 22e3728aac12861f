import AffiliateCore
import GRDB

/// Applies writes inside the writer connection's open transaction.
///
/// Each function either applies everything it was given or throws (a ``StoreConflict`` for a
/// lost race); the caller's savepoint then undoes whatever it had applied. Statements are the
/// connection's cached ones: a write parses no SQL after the first time. Count changes are
/// only gathered in ``tallies``; the group commit writes them.
struct SQLiteBatchWriter {
    let db: Database
    private(set) var tallies = SQLiteTallies()
    /// The (tenant, resource) whose list order or membership the writes changed: an insert, a
    /// status, sort key or tag change. A data-only update is not here, so it keeps the lists'
    /// offset anchors (see ``SQLiteOrderGenerations``).
    private(set) var reordered: Set<SQLiteOrderGenerations.Key> = []

    init(db: Database) {
        self.db = db
    }

    mutating func apply(_ batch: WriteBatch, now: Timestamp) throws {
        for record in batch.records { try write(record) }
        // Releases first, so that one batch can move a value from one record to another.
        for key in batch.releases { try release(key) }
        for claim in batch.claims { try self.claim(claim) }
        for event in batch.audit { try append(event) }
        for entry in batch.idempotency { try remember(entry, now: now) }
    }

    // MARK: Records

    /// What the commit needs to know of a stored record to check and update it.
    struct Stored {
        var rowID: Int64
        var version: Int64
        var status: String?
        var sortKey: String
        var tagsText: String
        var amount: Amount?
    }

    /// The row ``read(tenant:resource:id:)`` found, until it is written: writing it needs no
    /// second read (see ``SQLiteStore/change(_:)``).
    private var readRow: (tenant: String, resource: String, id: String, stored: Stored)?

    private func stored(tenant: String, resource: String, id: String) throws -> Stored? {
        if let row = readRow, row.tenant == tenant, row.resource == resource, row.id == id { return row.stored }
        let statement = try db.cachedStatement(
            sql: """
                SELECT rowid, version, status, sort_key, tags, amount, amount_unit, amount_totals_by FROM record
                WHERE tenant = ? AND resource = ? AND id = ?
                """
        )
        return try statement.decodeFirstRow([tenant, resource, id]) { row in
            Stored(
                rowID: row[0], version: row[1], status: row[2], sortKey: row[3], tagsText: row[4],
                amount: try SQLiteRecordCoding.amount(row[5], unit: row[6], totalsBy: row[7], of: row)
            )
        }
    }

    /// The stored record, remembered with what writing it needs: one read for both.
    mutating func read(tenant: String, resource: String, id: String) throws -> Record? {
        let statement = try db.cachedStatement(
            sql: """
                SELECT \(SQLiteRecordCoding.columns("r")), r.rowid FROM record r
                WHERE r.tenant = ? AND r.resource = ? AND r.id = ?
                """
        )
        let found = try statement.decodeFirstRow([tenant, resource, id]) { row in
            // The tags as stored, not written again from the decoded ones: they are compared
            // with the new text to see whether the tag index changes.
            (try SQLiteRecordCoding.record(from: row), row[SQLiteRecordCoding.columnCount] as Int64, row[7] as String)
        }
        guard let (record, rowID, tagsText) = found else { return nil }
        let stored = Stored(
            rowID: rowID, version: record.version, status: record.status, sortKey: record.sortKey, tagsText: tagsText,
            amount: record.amount
        )
        readRow = (tenant, resource, id, stored)
        return record
    }

    mutating func write(_ record: Record) throws {
        let existing = try stored(tenant: record.tenant, resource: record.resource, id: record.id)
        readRow = nil
        let tagsText = SQLiteRecordCoding.encodeTags(record.tags)
        if record.version == 0 {
            guard existing == nil else { throw StoreConflict.version(resource: record.resource, id: record.id) }
            try insert(record, tagsText: tagsText)
            return
        }
        guard let existing, existing.version == record.version else {
            throw StoreConflict.version(resource: record.resource, id: record.id)
        }
        // SQLite rewrites an index whenever its column is assigned, changed or not: assigning
        // only what changed keeps a status update out of `record_order`, and a data-only
        // update out of both list indexes (fewer pages to write to the WAL).
        var assignments = "version = ?, data = ?, tags = ?"
        var arguments: StatementArguments = [record.version + 1, SQLiteRecordCoding.encodeData(record.data), tagsText]
        if existing.status != record.status {
            assignments += ", status = ?"
            arguments += [record.status]
        }
        if existing.sortKey != record.sortKey {
            assignments += ", sort_key = ?"
            arguments += [record.sortKey]
        }
        if existing.amount != record.amount {
            let amount = SQLiteRecordCoding.encodeAmount(record.amount)
            assignments += ", amount = ?, amount_unit = ?, amount_totals_by = ?"
            arguments += [amount.value, amount.unit, amount.totalsBy]
        }
        arguments += [existing.rowID]
        try db.cachedStatement(sql: "UPDATE record SET \(assignments) WHERE rowid = ?").execute(arguments: arguments)
        if existing.status != record.status || existing.sortKey != record.sortKey || existing.tagsText != tagsText {
            reordered.insert(SQLiteOrderGenerations.Key(tenant: record.tenant, resource: record.resource))
        }
        let newTags = record.tags.withoutRepeats
        // A status update, the common write, keeps its tags and sort key: the tag index is
        // left alone.
        guard existing.tagsText != tagsText || existing.sortKey != record.sortKey else {
            tallies.move(
                tenant: record.tenant, resource: record.resource,
                from: .init(status: existing.status, tags: newTags), to: .init(status: record.status, tags: newTags)
            )
            try SQLiteAmountTotals.move(
                tenant: record.tenant, resource: record.resource,
                from: .init(status: existing.status, tags: newTags, amount: existing.amount),
                to: .init(status: record.status, tags: newTags, amount: record.amount), in: db
            )
            return
        }
        let oldTags = (SQLiteRecordCoding.decodeTags(existing.tagsText) ?? []).withoutRepeats
        let delete = try db.cachedStatement(
            sql: """
                DELETE FROM record_tag
                WHERE tenant = ? AND resource = ? AND name = ? AND value = ? AND sort_key = ? AND record_id = ?
                """
        )
        for tag in oldTags {
            try delete.execute(arguments: [
                record.tenant, record.resource, tag.name, tag.value, existing.sortKey, record.id,
            ])
        }
        try insertTags(newTags, of: record)
        tallies.move(
            tenant: record.tenant, resource: record.resource,
            from: .init(status: existing.status, tags: oldTags), to: .init(status: record.status, tags: newTags)
        )
        try SQLiteAmountTotals.move(
            tenant: record.tenant, resource: record.resource,
            from: .init(status: existing.status, tags: oldTags, amount: existing.amount),
            to: .init(status: record.status, tags: newTags, amount: record.amount), in: db
        )
    }

    /// Inserts a record that does not exist yet, with version 1.
    mutating func insert(_ record: Record, tagsText: String) throws {
        let amount = SQLiteRecordCoding.encodeAmount(record.amount)
        try db.cachedStatement(
            sql: """
                INSERT INTO record (tenant, resource, id, status, sort_key, version, data, tags, amount, amount_unit,
                    amount_totals_by)
                VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            record.tenant, record.resource, record.id, record.status, record.sortKey,
            SQLiteRecordCoding.encodeData(record.data), tagsText, amount.value, amount.unit, amount.totalsBy,
        ])
        let tags = record.tags.withoutRepeats
        try insertTags(tags, of: record)
        tallies.move(tenant: record.tenant, resource: record.resource, from: nil, to: .init(status: record.status, tags: tags))
        try SQLiteAmountTotals.move(
            tenant: record.tenant, resource: record.resource, from: nil,
            to: .init(status: record.status, tags: tags, amount: record.amount), in: db
        )
        reordered.insert(SQLiteOrderGenerations.Key(tenant: record.tenant, resource: record.resource))
    }

    /// Whether a record with this id is stored (seeding skips those).
    func exists(tenant: String, resource: String, id: String) throws -> Bool {
        try stored(tenant: tenant, resource: resource, id: id) != nil
    }

    private func insertTags(_ tags: [Tag], of record: Record) throws {
        guard !tags.isEmpty else { return }
        let statement = try db.cachedStatement(
            sql: "INSERT INTO record_tag (tenant, resource, name, value, sort_key, record_id) VALUES (?, ?, ?, ?, ?, ?)"
        )
        for tag in tags {
            try statement.execute(arguments: [
                record.tenant, record.resource, tag.name, tag.value, record.sortKey, record.id,
            ])
        }
    }


    // MARK: Claims

    private func holder(of key: ClaimKey) throws -> String? {
        try String.fetchOne(
            db.cachedStatement(
                sql: "SELECT record_id FROM claim WHERE tenant = ? AND resource = ? AND name = ? AND value = ?"
            ),
            arguments: [key.tenant, key.resource, key.name, key.value]
        )
    }

    func claim(_ claim: UniqueClaim) throws {
        let key = ClaimKey(tenant: claim.tenant, resource: claim.resource, name: claim.name, value: claim.value)
        switch try holder(of: key) {
        case claim.recordID?:
            return
        case .some:
            throw StoreConflict.claim(key)
        case nil:
            try insertClaim(claim)
        }
    }

    /// Inserts a claim whose value nobody holds; a held value is left to its holder.
    func insertClaimIfFree(_ claim: UniqueClaim) throws {
        let key = ClaimKey(tenant: claim.tenant, resource: claim.resource, name: claim.name, value: claim.value)
        if try holder(of: key) == nil { try insertClaim(claim) }
    }

    private func insertClaim(_ claim: UniqueClaim) throws {
        try db.cachedStatement(
            sql: "INSERT INTO claim (tenant, resource, name, value, record_id) VALUES (?, ?, ?, ?, ?)"
        ).execute(arguments: [claim.tenant, claim.resource, claim.name, claim.value, claim.recordID])
    }

    func release(_ key: ClaimKey) throws {
        try db.cachedStatement(
            sql: "DELETE FROM claim WHERE tenant = ? AND resource = ? AND name = ? AND value = ?"
        ).execute(arguments: [key.tenant, key.resource, key.name, key.value])
    }

    // MARK: Audit and idempotency

    func append(_ event: AuditEvent) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO audit_event (tenant, resource, record_id, from_status, to_status, at, key_id, request_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            event.tenant, event.resource, event.recordID, event.from, event.to, event.at.microseconds, event.keyID,
            event.requestID,
        ])
    }

    /// Inserts the entry unless an unexpired one holds its key; an expired one is replaced.
    func remember(_ entry: IdempotencyEntry, now: Timestamp) throws {
        let expiresAt = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT expires_at FROM idempotency_entry WHERE tenant = ? AND scope = ? AND key = ?"),
            arguments: [entry.tenant, entry.scope, entry.key]
        )
        if let expiresAt, expiresAt > now.microseconds {
            throw StoreConflict.idempotency(scope: entry.scope, key: entry.key)
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO idempotency_entry (tenant, scope, key, payload_digest, record_id, expires_at)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (tenant, scope, key) DO UPDATE SET
                    payload_digest = excluded.payload_digest, record_id = excluded.record_id,
                    expires_at = excluded.expires_at
                """
        ).execute(arguments: [
            entry.tenant, entry.scope, entry.key, entry.payloadDigest, entry.recordID, entry.expiresAt.microseconds,
        ])
    }

    // MARK: Sequences

    func nextValue(tenant: String, sequence: String, atLeast: Int64) throws -> Int64 {
        let value = try Int64.fetchOne(
            db.cachedStatement(
                sql: """
                    INSERT INTO sequence (tenant, name, value) VALUES (?, ?, max(1, ?))
                    ON CONFLICT (tenant, name) DO UPDATE SET value = max(value + 1, excluded.value)
                    RETURNING value
                    """
            ),
            arguments: [tenant, sequence, atLeast]
        )
        guard let value else { throw StoreFailure("sequence \(sequence) returned no value") }
        return value
    }

    /// Raises the sequence to `floor` (never lowers it): the next value will exceed it.
    func raise(tenant: String, sequence: String, to floor: Int64) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO sequence (tenant, name, value) VALUES (?, ?, ?)
                ON CONFLICT (tenant, name) DO UPDATE SET value = max(value, excluded.value)
                """
        ).execute(arguments: [tenant, sequence, floor])
    }
}
