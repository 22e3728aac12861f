import AffiliateCore
import GRDB

/// Reads for one reader connection: single records, list pages, counts, claims, audit.
///
/// Lists are read in index order (see ``SQLiteListFilter``); totals come from `record_tally`
/// whenever one row answers them.
struct SQLiteRecordReader {
    let db: Database

    func record(tenant: String, resource: String, id: String) throws -> Record? {
        let statement = try db.cachedStatement(
            sql: "SELECT \(SQLiteRecordCoding.columns("r")) FROM record r WHERE r.tenant = ? AND r.resource = ? AND r.id = ?"
        )
        return try statement.decodeFirstRow([tenant, resource, id], SQLiteRecordCoding.record(from:))
    }

    func record(claimedBy key: ClaimKey) throws -> Record? {
        let statement = try db.cachedStatement(
            sql: """
                SELECT \(SQLiteRecordCoding.columns("r")) FROM claim c
                CROSS JOIN record r ON r.tenant = c.tenant AND r.resource = c.resource AND r.id = c.record_id
                WHERE c.tenant = ? AND c.resource = ? AND c.name = ? AND c.value = ?
                """
        )
        return try statement.decodeFirstRow([key.tenant, key.resource, key.name, key.value], SQLiteRecordCoding.record(from:))
    }

    /// Records by id, whole pages and amount totals, in the connection's current transaction.
    func related(
        tenant: String, ids: [(resource: String, id: String)], pages: [RecordQuery], totals: [AmountTotalsQuery]
    ) throws -> RelatedRecords {
        RelatedRecords(
            records: try ids.map { try record(tenant: tenant, resource: $0.resource, id: $0.id) },
            pages: try pages.map { try records(matching: $0) },
            totals: try SQLiteAmountTotals.read(tenant: tenant, totals, in: db)
        )
    }

    func records(matching query: RecordQuery) throws -> RecordPage {
        try page(matching: query, as: SQLiteRecordRows.self)
    }

    /// The page by plain `OFFSET`, in the form `rows` makes of it.
    func page<Rows: SQLitePageRows>(matching query: RecordQuery, as rows: Rows.Type) throws -> Rows.Page {
        try page(
            matching: query, driver: driver(for: query), start: SQLiteListAnchors.Start(anchor: nil, skip: query.offset),
            as: rows
        )
    }

    /// The page read through a given driving index; every driver gives the same page.
    func records(matching query: RecordQuery, driver: SQLiteListFilter.Driver) throws -> RecordPage {
        try page(
            matching: query, driver: driver, start: SQLiteListAnchors.Start(anchor: nil, skip: query.offset),
            as: SQLiteRecordRows.self
        )
    }

    /// Fixes the read transaction's snapshot (its first statement does), so that what the
    /// caller checks next is known to precede the state this reader sees.
    func beginSnapshot() throws {
        _ = try Int.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM sqlite_schema LIMIT 1"))
    }

    /// The page read from the shape's offset anchors, which are read first if `anchors` keeps
    /// none under `stamp`. Call it only in a read transaction whose snapshot is known to hold
    /// the order `stamp` names (see ``SQLiteOrderGenerations``).
    func page<Rows: SQLitePageRows>(
        matching query: RecordQuery, anchors: SQLiteListAnchors, stamp: SQLiteOrderGenerations.Stamp, as rows: Rows.Type
    ) throws -> Rows.Page {
        let driver = try driver(for: query)
        let shape = SQLiteListAnchors.Shape(query, driver: driver)
        let list: [SQLiteListAnchors.Anchor]
        if let kept = anchors.anchors(for: shape, stamp: stamp) {
            list = kept
        } else {
            list = try anchorWalk(query, driver: driver)
            anchors.store(list, for: shape, stamp: stamp)
        }
        let start = SQLiteListAnchors.start(at: query.offset, in: list)
        if start.anchor != nil { anchors.served() }
        return try page(matching: query, driver: driver, start: start, as: rows)
    }

    /// Every ``SQLiteListAnchors/spacing``-th entry of the list, in one walk of its driving index.
    func anchorWalk(_ query: RecordQuery, driver: SQLiteListFilter.Driver) throws -> [SQLiteListAnchors.Anchor] {
        let filter = SQLiteListFilter(query, driver: driver)
        let cursor = try Row.fetchCursor(
            db.cachedStatement(sql: "SELECT \(filter.keys) \(filter.from) ORDER BY \(filter.order)"),
            arguments: filter.arguments
        )
        var anchors: [SQLiteListAnchors.Anchor] = []
        var position = 0
        while let row = try cursor.next() {
            position += 1
            if position % SQLiteListAnchors.spacing == 0 {
                anchors.append(SQLiteListAnchors.Anchor(sortKey: row["sort_key"], id: row["id"]))
            }
        }
        return anchors
    }

    /// The page that begins at `start` (which the query's offset leads to).
    private func page<Rows: SQLitePageRows>(
        matching query: RecordQuery, driver: SQLiteListFilter.Driver, start: SQLiteListAnchors.Start,
        as _: Rows.Type
    ) throws -> Rows.Page {
        let page = Self.pageSQL(SQLiteListFilter(query, driver: driver, after: start.anchor), query, skip: start.skip)
        var rows = Rows()
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: page.sql), arguments: page.arguments)
        while let row = try cursor.next() {
            try rows.append(row)
        }
        guard query.countTotal else { return rows.page(total: nil) }
        return rows.page(total: try total(query, SQLiteListFilter(query, driver: driver)))
    }

    /// The index with the fewest entries among the query's conditions, by their tallies: a
    /// page of "campaign 1 AND promoter 7" walks the promoter's few rows, not the campaign's
    /// million.
    private func driver(for query: RecordQuery) throws -> SQLiteListFilter.Driver {
        guard !query.tags.isEmpty else { return .records }
        guard query.tags.count > 1 || query.status != nil else { return .tag(0) }
        var best = (driver: SQLiteListFilter.Driver.tag(0), entries: Int.max)
        for (index, tag) in query.tags.enumerated() {
            let entries = try tally(query, .tag, name: tag.name, value: tag.value)
            if entries < best.entries { best = (.tag(index), entries) }
        }
        if let status = query.status,
           try tally(query, .status, status: status) < best.entries
        {
            best.driver = .records
        }
        return best.driver
    }

    /// The statement of one page.
    ///
    /// It first walks the driving index for the keys of the page's rows only (so `OFFSET`
    /// skips index entries, not records), then joins the records it kept; the outer sort
    /// orders only those. `skip` replaces the query's offset when `filter` starts after an anchor.
    static func pageSQL(
        _ filter: SQLiteListFilter, _ query: RecordQuery, skip: Int? = nil
    ) -> (sql: String, arguments: StatementArguments) {
        let limit = query.limit.map { Int64(max(0, $0)) } ?? -1
        return (
            """
            SELECT \(SQLiteRecordCoding.columns("r"))
            FROM (SELECT \(filter.keys) \(filter.from) ORDER BY \(filter.order) LIMIT ? OFFSET ?) p
            CROSS JOIN record r ON \(filter.join)
            ORDER BY p.sort_key, p.id
            """,
            filter.arguments + [limit, Int64(max(0, skip ?? query.offset))]
        )
    }

    /// The statement counting the matches of a filter that no single tally row answers.
    static func countSQL(_ filter: SQLiteListFilter) -> (sql: String, arguments: StatementArguments) {
        ("SELECT count(*) \(filter.from)", filter.arguments)
    }

    /// One tally row when the filter is at most one tag and a status; otherwise a count over
    /// the same driving index the page was read from.
    private func total(_ query: RecordQuery, _ filter: SQLiteListFilter) throws -> Int {
        switch (query.tags.first, query.tags.count, query.status) {
        case (_, 0, nil): return try tally(query, .all)
        case (_, 0, let status?): return try tally(query, .status, status: status)
        case (let tag?, 1, nil): return try tally(query, .tag, name: tag.name, value: tag.value)
        case (let tag?, 1, let status?): return try tally(query, .tagStatus, name: tag.name, value: tag.value, status: status)
        default:
            let count = Self.countSQL(filter)
            return try Int.fetchOne(db.cachedStatement(sql: count.sql), arguments: count.arguments) ?? 0
        }
    }

    private func tally(
        _ query: RecordQuery, _ facet: SQLiteTallyFacet, name: String = "", value: String = "", status: String = ""
    ) throws -> Int {
        let count = try Int.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT count FROM record_tally
                    WHERE tenant = ? AND resource = ? AND facet = ? AND name = ? AND value = ? AND status = ?
                    """
            ),
            arguments: [query.tenant, query.resource, facet.rawValue, name, value, status]
        )
        return count ?? 0
    }

    /// How many records of each (tenant, resource) use each status word, in one statement: the
    /// pairs go as one JSON array, which `json_each` numbers, and each is looked up through the
    /// tallies' key. One statement per pair was 8% of the server's profile of a reload that
    /// added 900 tenants; this is under 1%.
    func statusCounts(of pairs: [(tenant: String, resource: String)]) throws -> [[String: Int]] {
        var counts = [[String: Int]](repeating: [:], count: pairs.count)
        guard !pairs.isEmpty else { return counts }
        let list = JSONValue.array(pairs.map { .array([.string($0.tenant), .string($0.resource)]) }).serialized
        let rows = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT p.key, t.status, t.count FROM json_each(?) p
                    JOIN record_tally t ON t.tenant = json_extract(p.value, '$[0]')
                        AND t.resource = json_extract(p.value, '$[1]') AND t.facet = ? AND t.count > 0
                    """
            ),
            arguments: [list, SQLiteTallyFacet.status.rawValue]
        )
        while let row = try rows.next() {
            let index: Int = row[0]
            counts[index][row[1]] = row[2] as Int
        }
        return counts
    }

    func auditTrail(tenant: String, resource: String, recordID: String) throws -> [AuditEvent] {
        let rows = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT from_status, to_status, at, key_id, request_id FROM audit_event
                    WHERE tenant = ? AND resource = ? AND record_id = ? ORDER BY rowid
                    """
            ),
            arguments: [tenant, resource, recordID]
        )
        var events: [AuditEvent] = []
        while let row = try rows.next() {
            events.append(
                AuditEvent(
                    tenant: tenant, resource: resource, recordID: recordID, from: row[0], to: row[1],
                    at: Timestamp(microseconds: row[2]), keyID: row[3], requestID: row[4]
                )
            )
        }
        return events
    }

    func idempotencyEntry(tenant: String, scope: String, key: String) throws -> IdempotencyEntry? {
        let row = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT payload_digest, record_id, expires_at FROM idempotency_entry
                    WHERE tenant = ? AND scope = ? AND key = ?
                    """
            ),
            arguments: [tenant, scope, key]
        )
        return row.map {
            IdempotencyEntry(
                tenant: tenant, scope: scope, key: key, payloadDigest: $0[0], recordID: $0[1],
                expiresAt: Timestamp(microseconds: $0[2])
            )
        }
    }
}
