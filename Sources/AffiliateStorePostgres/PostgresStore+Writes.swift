import AffiliateCore
import PostgresNIO

extension PostgresStore {
    /// Applies the batch in one transaction. Each step is a single statement whose outcome the
    /// database decides (a version compared in the `WHERE`, a key inserted `ON CONFLICT`), so the
    /// batch is refused with ``StoreConflict`` whenever another writer got there first, on any
    /// instance. Records go first and in a fixed order: two batches touching the same records
    /// then queue on their row locks instead of deadlocking, and audit rows are numbered after the
    /// record they describe was locked, so the trail follows commit order. The batch's webhook
    /// events join the same transaction (``PostgresWebhookOutbox``); the worker is woken once it
    /// committed.
    public func commit(_ batch: WriteBatch) async throws {
        if batch.isEmpty { return }
        try Self.refuseNul(in: batch)
        let logger = self.logger
        try await withTransaction { connection in
            try await Self.apply(batch, on: connection, logger: logger)
            try await PostgresWebhookOutbox.write(batch.webhookEvents, on: connection, logger: logger)
        }
        webhookCommits.committed(batch.webhookEvents)
    }

    /// Optimistic, as every write here, so that instances sharing the database never hold a row
    /// lock while a plan runs: the record is read, the plan runs on it, and its writes (checked
    /// against the version read; a lost race throws ``StoreConflict`` and the engine runs the
    /// plan again) and the read-back go through one connection in one transaction, so the
    /// read-back is what the commit wrote.
    ///
    /// A change whose earlier attempts lost (``RecordChange/holdsRecord``) reads the record
    /// `FOR UPDATE` in the same transaction instead: it holds the row across its round trips,
    /// so it is only done for a record other writers keep winning.
    public func change<T: Sendable>(_ change: RecordChange<T>) async throws -> ChangeOutcome<T> {
        if change.holdsRecord { return try await changeHoldingRecord(change) }
        let logger = self.logger
        let tenant = change.tenant
        let stored = try await record(tenant: tenant, resource: change.resource, id: change.id)
        let plan = try change.plan(stored)
        let batch = plan.batch
        let readBack = plan.readBack
        if !batch.isEmpty { try Self.refuseNul(in: batch) }
        if batch.isEmpty {
            guard !readBack.isEmpty else { return ChangeOutcome(value: plan.value, related: .empty) }
            let related = try await withConnection { connection in
                try await Self.readBack(readBack, tenant: tenant, on: connection, logger: logger)
            }
            return ChangeOutcome(value: plan.value, related: related)
        }
        let related = try await withTransaction { connection in
            try await Self.apply(batch, on: connection, logger: logger)
            let related = try await Self.readBack(readBack, tenant: tenant, on: connection, logger: logger)
            try await PostgresWebhookOutbox.write(batch.webhookEvents, known: (readBack, related), on: connection, logger: logger)
            return related
        }
        webhookCommits.committed(batch.webhookEvents)
        return ChangeOutcome(value: plan.value, related: related)
    }

    private func changeHoldingRecord<T: Sendable>(_ change: RecordChange<T>) async throws -> ChangeOutcome<T> {
        let logger = self.logger
        let (tenant, resource, id) = (change.tenant, change.resource, change.id)
        let (outcome, queued) = try await withTransaction { connection in
            var stored: Record?
            if !NulCharacter.isIn(tenant, resource, id) {
                let rows = try await connection.query(
                    """
                    SELECT \(unescaped: RecordColumns.list) FROM records
                    WHERE tenant = \(tenant) AND resource = \(resource) AND id = \(id)
                    FOR UPDATE
                    """,
                    logger: logger
                )
                for try await row in rows.decode(RecordColumns.Row.self) {
                    stored = try RecordColumns.record(tenant: tenant, resource: resource, row: row)
                }
            }
            let plan = try change.plan(stored)
            if !plan.batch.isEmpty {
                try Self.refuseNul(in: plan.batch)
                try await Self.apply(plan.batch, on: connection, logger: logger)
            }
            let related = try await Self.readBack(plan.readBack, tenant: tenant, on: connection, logger: logger)
            let events = plan.batch.webhookEvents
            try await PostgresWebhookOutbox.write(events, known: (plan.readBack, related), on: connection, logger: logger)
            return (ChangeOutcome(value: plan.value, related: related), events)
        }
        webhookCommits.committed(queued)
        return outcome
    }

    /// What a change's plan (or a webhook event's rendering) names, read on `connection`.
    static func readBack(
        _ readBack: ReadBack, tenant: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> RelatedRecords {
        guard !readBack.isEmpty else { return .empty }
        var records: [Record?] = []
        for key in readBack.records {
            records.append(try await record(tenant: tenant, resource: key.resource, id: key.id, on: connection, logger: logger))
        }
        let totals = try await PostgresAmountTotals.read(tenant: tenant, readBack.totals, on: connection, logger: logger)
        return RelatedRecords(records: records, pages: [], totals: totals)
    }

    /// Applies the batch inside the connection's open transaction (see ``commit(_:)``).
    static func apply(_ batch: WriteBatch, on connection: PostgresConnection, logger: Logger) async throws {
        let records = batch.records.sorted { ($0.resource, $0.id) < ($1.resource, $1.id) }
        let releases = batch.releases.sorted { ($0.resource, $0.name, $0.value) < ($1.resource, $1.name, $1.value) }
        let claims = batch.claims.sorted { ($0.resource, $0.name, $0.value) < ($1.resource, $1.name, $1.value) }
        let audit = batch.audit
        let idempotency = batch.idempotency
        let now = Timestamp.now().microseconds
        do {
            for record in records {
                try await Self.write(record, on: connection, logger: logger)
            }
            for key in releases {
                try await connection.query(
                    """
                    DELETE FROM claims WHERE tenant = \(key.tenant) AND resource = \(key.resource)
                      AND name = \(key.name) AND value = \(key.value)
                    """,
                    logger: logger
                )
            }
            for claim in claims {
                // Re-claiming a value the same record holds is a no-op, not a conflict.
                let rows = try await connection.query(
                    """
                    INSERT INTO claims (tenant, resource, name, value, record_id)
                    VALUES (\(claim.tenant), \(claim.resource), \(claim.name), \(claim.value), \(claim.recordID))
                    ON CONFLICT (tenant, resource, name, value) DO UPDATE SET record_id = claims.record_id
                    WHERE claims.record_id = excluded.record_id
                    RETURNING 1
                    """,
                    logger: logger
                )
                if try await rows.collect().isEmpty {
                    throw StoreConflict.claim(
                        ClaimKey(tenant: claim.tenant, resource: claim.resource, name: claim.name, value: claim.value)
                    )
                }
            }
            for event in audit {
                try await connection.query(
                    """
                    INSERT INTO audit_events (tenant, resource, record_id, from_status, to_status, at, key_id, request_id)
                    VALUES (\(event.tenant), \(event.resource), \(event.recordID), \(event.from), \(event.to),
                            \(event.at.microseconds), \(event.keyID), \(event.requestID))
                    """,
                    logger: logger
                )
            }
            for entry in idempotency {
                // An expired entry is forgotten: the key may be used afresh.
                let rows = try await connection.query(
                    """
                    INSERT INTO idempotency_keys (tenant, scope, key, payload_digest, record_id, expires_at)
                    VALUES (\(entry.tenant), \(entry.scope), \(entry.key), \(entry.payloadDigest), \(entry.recordID),
                            \(entry.expiresAt.microseconds))
                    ON CONFLICT (tenant, scope, key) DO UPDATE SET payload_digest = excluded.payload_digest,
                        record_id = excluded.record_id, expires_at = excluded.expires_at
                    WHERE idempotency_keys.expires_at <= \(now)
                    RETURNING 1
                    """,
                    logger: logger
                )
                if try await rows.collect().isEmpty {
                    throw StoreConflict.idempotency(scope: entry.scope, key: entry.key)
                }
            }
        } catch let error as PSQLError where error.undidTransaction {
            // The server rolled back a deadlock victim; like a lost race, the engine retries.
            let first = records.first
            throw StoreConflict.version(resource: first?.resource ?? "", id: first?.id ?? "")
        }
    }

    /// Inserts a new record (expected version 0) or updates it if its version is still the one
    /// read; otherwise the batch loses the race.
    private static func write(_ record: Record, on connection: PostgresConnection, logger: Logger) async throws {
        let data = RecordColumns.text(of: record.data)
        let tags = RecordColumns.texts(of: record.tags)
        let amount = record.amount.map { String($0.value) }
        let unit = record.amount?.unit
        let totalsBy = record.amount?.totalsBy
        if record.version == 0 {
            let rows = try await connection.query(
                """
                INSERT INTO records (tenant, resource, id, status, sort_key, version, data, tags, amount, amount_unit,
                                     amount_totals_by)
                VALUES (\(record.tenant), \(record.resource), \(record.id), \(record.status), \(record.sortKey), 1,
                        \(data), \(tags), \(amount)::numeric, \(unit), \(totalsBy))
                ON CONFLICT (tenant, resource, id) DO NOTHING
                RETURNING 1
                """,
                logger: logger
            )
            if try await rows.collect().isEmpty {
                throw StoreConflict.version(resource: record.resource, id: record.id)
            }
            try await PostgresAmountTotals.move(record, from: nil, on: connection, logger: logger)
            return
        }
        // The row as it was, locked by the same statement that replaces it: what its totals
        // move from, without a second round trip.
        let rows = try await connection.query(
            """
            WITH old AS (
                SELECT status, tags, amount::text AS amount, amount_unit, amount_totals_by FROM records
                WHERE tenant = \(record.tenant) AND resource = \(record.resource) AND id = \(record.id)
                  AND version = \(record.version)
                FOR UPDATE
            )
            UPDATE records r SET status = \(record.status), sort_key = \(record.sortKey), version = r.version + 1,
                data = \(data), tags = \(tags), amount = \(amount)::numeric, amount_unit = \(unit),
                amount_totals_by = \(totalsBy)
            FROM old
            WHERE r.tenant = \(record.tenant) AND r.resource = \(record.resource) AND r.id = \(record.id)
            RETURNING old.status, old.tags, old.amount, old.amount_unit, old.amount_totals_by
            """,
            logger: logger
        )
        var old: PostgresAmountTotals.Image?
        for try await (status, tagTexts, amountText, unit, totalsBy) in rows.decode(
            (String?, [String], String?, String?, [String]?).self
        ) {
            old = PostgresAmountTotals.Image(
                status: status, tags: try RecordColumns.tags(from: tagTexts, of: "\(record.resource) \(record.id)"),
                amount: try RecordColumns.amount(amountText, unit: unit, totalsBy: totalsBy, of: "\(record.resource) \(record.id)")
            )
        }
        guard let old else { throw StoreConflict.version(resource: record.resource, id: record.id) }
        try await PostgresAmountTotals.move(record, from: old, on: connection, logger: logger)
    }

    public func nextSequenceValue(tenant: String, sequence: String, atLeast: Int64) async throws -> Int64 {
        if NulCharacter.isIn(tenant, sequence) { throw NulCharacter.refuse("the sequence \(sequence)") }
        let logger = self.logger
        return try await withConnection { connection in
            let rows = try await connection.query(
                """
                INSERT INTO sequences (tenant, name, value) VALUES (\(tenant), \(sequence), GREATEST(1, \(atLeast)))
                ON CONFLICT (tenant, name) DO UPDATE SET value = GREATEST(sequences.value + 1, excluded.value)
                RETURNING value
                """,
                logger: logger
            )
            for try await value in rows.decode(Int64.self) { return value }
            throw StoreFailure("the sequence \(sequence) of tenant \(tenant) returned no value")
        }
    }

    /// Inserts what is missing in one transaction, a thousand records per statement: an import
    /// of many thousand records stays well within the operation timeout.
    public func seed(_ data: SeedData, tenant: String) async throws -> Int {
        if data.isEmpty { return 0 }
        let records = data.records
        let claims = data.claims
        let floors = data.sequenceFloors.sorted { $0.key < $1.key }
        if NulCharacter.isIn(tenant) || records.contains(where: Self.hasNul) || claims.contains(where: Self.hasNul)
            || NulCharacter.isIn(floors.map(\.key))
        {
            throw NulCharacter.refuse("the seed of tenant \(tenant)")
        }
        let chunks = stride(from: 0, to: records.count, by: 1000).map {
            RecordColumns.recordSet(records[$0..<min($0 + 1000, records.count)])
        }
        let logger = self.logger
        return try await withTransaction { connection in
            var added = 0
            for chunk in chunks {
                // The added records' amounts join the running totals in the same statement.
                let rows = try await connection.query(
                    """
                    WITH added AS (
                        INSERT INTO records (tenant, resource, id, status, sort_key, version, data, tags, amount, amount_unit,
                                             amount_totals_by)
                        SELECT \(tenant), r.resource, r.id, r.status, r.sort_key, 1, r.data,
                               ARRAY(SELECT json_array_elements_text(r.tags)), r.amount::numeric, r.amount_unit,
                               CASE WHEN r.amount_totals_by IS NULL THEN NULL
                                    ELSE ARRAY(SELECT json_array_elements_text(r.amount_totals_by)) END
                        FROM json_to_recordset(\(chunk)::json)
                            AS r(resource text, id text, status text, sort_key text, data text, tags json,
                                 amount text, amount_unit text, amount_totals_by json)
                        ON CONFLICT (tenant, resource, id) DO NOTHING
                        RETURNING tenant, resource, status, tags, amount, amount_unit, amount_totals_by
                    ), totals AS (
                        \(unescaped: PostgresAmountTotals.addingSQL(from: "added"))
                    )
                    SELECT count(*) FROM added
                    """,
                    logger: logger
                )
                for try await count in rows.decode(Int64.self) { added += Int(count) }
            }
            if !claims.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO claims (tenant, resource, name, value, record_id)
                    SELECT \(tenant), c.resource, c.name, c.value, c.record_id
                    FROM unnest(\(claims.map(\.resource))::text[], \(claims.map(\.name))::text[],
                                \(claims.map(\.value))::text[], \(claims.map(\.recordID))::text[])
                        AS c(resource, name, value, record_id)
                    ON CONFLICT (tenant, resource, name, value) DO NOTHING
                    """,
                    logger: logger
                )
            }
            if !floors.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO sequences (tenant, name, value)
                    SELECT \(tenant), f.name, f.value FROM unnest(\(floors.map(\.key))::text[], \(floors.map(\.value))::int8[])
                        AS f(name, value)
                    ON CONFLICT (tenant, name) DO UPDATE SET value = GREATEST(sequences.value, excluded.value)
                    """,
                    logger: logger
                )
            }
            return added
        }
    }

    private static func refuseNul(in batch: WriteBatch) throws {
        if batch.records.contains(where: hasNul) { throw NulCharacter.refuse("a record") }
        if batch.claims.contains(where: hasNul) { throw NulCharacter.refuse("a unique value") }
        if batch.releases.contains(where: { NulCharacter.isIn($0.tenant, $0.resource, $0.name, $0.value) }) {
            throw NulCharacter.refuse("a released value")
        }
        if batch.audit.contains(where: { NulCharacter.isIn($0.tenant, $0.resource, $0.recordID, $0.from, $0.to, $0.keyID, $0.requestID) }) {
            throw NulCharacter.refuse("an audit event")
        }
        if batch.idempotency.contains(where: {
            NulCharacter.isIn($0.tenant, $0.scope, $0.key, $0.payloadDigest, $0.recordID)
        }) {
            throw NulCharacter.refuse("an idempotency key")
        }
        if batch.webhookEvents.contains(where: { PostgresWebhookOutbox.hasNul($0) }) { throw NulCharacter.refuse("a webhook event") }
    }

    private static func hasNul(_ record: Record) -> Bool {
        // `data` is JSON text, where U+0000 is written as an escape.
        NulCharacter.isIn(record.tenant, record.resource, record.id, record.status, record.sortKey, record.amount?.unit)
            || record.tags.contains { NulCharacter.isIn($0.name, $0.value) }
    }

    private static func hasNul(_ claim: UniqueClaim) -> Bool {
        NulCharacter.isIn(claim.tenant, claim.resource, claim.name, claim.value, claim.recordID)
    }
}

extension PostgresStore {
    public func amountTotals(tenant: String, _ queries: [AmountTotalsQuery]) async throws -> [[AmountTotal]] {
        let logger = self.logger
        return try await withConnection { connection in
            try await PostgresAmountTotals.read(tenant: tenant, queries, on: connection, logger: logger)
        }
    }

    /// One transaction: records without an amount get the one their resource's rule finds,
    /// then the totals are rebuilt from every record. Writers of other instances wait for it
    /// (a share lock on `records`), so no write of theirs is counted twice or missed.
    public func deriveAmounts(_ rules: [String: AmountRule]) async throws -> Int {
        let logger = self.logger
        let resources = rules.keys.sorted()
        return try await withTransaction { connection in
            try await connection.query("LOCK TABLE records IN SHARE MODE", logger: logger)
            let noted = try await connection.query(
                "SELECT 1 FROM store_notes WHERE name = \(PostgresAmountDerivation.note)", logger: logger
            ).collect()
            guard noted.isEmpty else { return 0 }
            var given = 0
            for resource in resources {
                guard let rule = rules[resource] else { continue }
                given += try await PostgresAmountDerivation.give(resource: resource, rule: rule, on: connection, logger: logger)
            }
            try await connection.query("DELETE FROM record_sums", logger: logger)
            try await connection.query(
                PostgresQuery(unsafeSQL: PostgresAmountTotals.addingSQL(from: "records")), logger: logger
            )
            try await connection.query(
                "INSERT INTO store_notes (name) VALUES (\(PostgresAmountDerivation.note))", logger: logger
            )
            return given
        }
    }
}

/// Gives records stored before schema version 2 their amounts (see ``PostgresStore/deriveAmounts(_:)``).
enum PostgresAmountDerivation {
    static let note = "amounts derived"

    static func give(
        resource: String, rule: AmountRule, on connection: PostgresConnection, logger: Logger
    ) async throws -> Int {
        let rows = try await connection.query(
            """
            SELECT tenant, \(unescaped: RecordColumns.list) FROM records
            WHERE resource = \(resource) AND amount IS NULL
            """,
            logger: logger
        )
        var tenants: [String] = []
        var ids: [String] = []
        var amounts: [String] = []
        var units: [String] = []
        var totalsBy: [[String]] = []
        for try await (tenant, id, status, sortKey, version, data, tags, amount, unit, totals) in rows.decode(
            (String, String, String?, String, Int64, String, [String], String?, String?, [String]?).self
        ) {
            let record = try RecordColumns.record(
                tenant: tenant, resource: resource, row: (id, status, sortKey, version, data, tags, amount, unit, totals)
            )
            guard let found = rule(record) else { continue }
            tenants.append(tenant)
            ids.append(id)
            amounts.append(String(found.value))
            units.append(found.unit)
            totalsBy.append(found.totalsBy)
        }
        guard !ids.isEmpty else { return 0 }
        // Arrays of arrays cannot travel as one parameter: each list goes as its JSON text.
        let totalsByTexts = totalsBy.map { JSONValue.array($0.map(JSONValue.string)).serialized }
        try await connection.query(
            """
            UPDATE records r SET amount = u.amount::numeric, amount_unit = u.unit,
                amount_totals_by = ARRAY(SELECT json_array_elements_text(u.totals_by::json))
            FROM unnest(\(tenants)::text[], \(ids)::text[], \(amounts)::text[], \(units)::text[], \(totalsByTexts)::text[])
                AS u(tenant, id, amount, unit, totals_by)
            WHERE r.tenant = u.tenant AND r.resource = \(resource) AND r.id = u.id
            """,
            logger: logger
        )
        return ids.count
    }
}
