import AffiliateCore
import PostgresNIO

extension PostgresStore {
    public func record(tenant: String, resource: String, id: String) async throws -> Record? {
        let logger = self.logger
        return try await withConnection { connection in
            try await Self.record(tenant: tenant, resource: resource, id: id, on: connection, logger: logger)
        }
    }

    static func record(
        tenant: String, resource: String, id: String, on connection: PostgresConnection, logger: Logger
    ) async throws -> Record? {
        if NulCharacter.isIn(tenant, resource, id) { return nil }
        let rows = try await connection.query(
            """
            SELECT \(unescaped: RecordColumns.list) FROM records
            WHERE tenant = \(tenant) AND resource = \(resource) AND id = \(id)
            """,
            logger: logger
        )
        for try await row in rows.decode(RecordColumns.Row.self) {
            return try RecordColumns.record(tenant: tenant, resource: resource, row: row)
        }
        return nil
    }

    public func record(claimedBy claim: ClaimKey) async throws -> Record? {
        if NulCharacter.isIn(claim.tenant, claim.resource, claim.name, claim.value) { return nil }
        let logger = self.logger
        return try await withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT r.id, r.status, r.sort_key, r.version, r.data, r.tags, r.amount::text, r.amount_unit, r.amount_totals_by
                FROM claims c JOIN records r ON r.tenant = c.tenant AND r.resource = c.resource AND r.id = c.record_id
                WHERE c.tenant = \(claim.tenant) AND c.resource = \(claim.resource)
                  AND c.name = \(claim.name) AND c.value = \(claim.value)
                """,
                logger: logger
            )
            for try await row in rows.decode(RecordColumns.Row.self) {
                return try RecordColumns.record(tenant: claim.tenant, resource: claim.resource, row: row)
            }
            return nil
        }
    }

    /// Pages in index order (sort key, then id). With `countTotal` the count and the page come
    /// from one statement, so they agree even while other instances write.
    public func records(matching query: RecordQuery) async throws -> RecordPage {
        guard let page = PageStatement(query, columns: RecordColumns.names) else {
            return RecordPage(records: [], total: query.countTotal ? 0 : nil)
        }
        let logger = self.logger
        let tenant = query.tenant
        let resource = query.resource
        guard query.countTotal else {
            return try await withConnection { connection in
                var records: [Record] = []
                for try await row in try await connection.query(page.rows, logger: logger).decode(RecordColumns.Row.self) {
                    records.append(try RecordColumns.record(tenant: tenant, resource: resource, row: row))
                }
                return RecordPage(records: records)
            }
        }
        return try await withConnection { connection in
            var records: [Record] = []
            var total = 0
            let rows = try await connection.query(page.rowsWithTotal, logger: logger)
            for try await (id, status, sortKey, version, data, tags, amount, unit, totalsBy, count) in rows.decode(
                (String?, String?, String?, Int64?, String?, [String]?, String?, String?, [String]?, Int64).self
            ) {
                total = Int(count)
                guard let id, let sortKey, let version, let data, let tags else { continue }
                let row = (id, status, sortKey, version, data, tags, amount, unit, totalsBy)
                records.append(try RecordColumns.record(tenant: tenant, resource: resource, row: row))
            }
            return RecordPage(records: records, total: total)
        }
    }

    /// The same page's `data` texts, joined as they arrive: no parsing, no tags.
    public func recordData(matching query: RecordQuery) async throws -> RecordDataPage {
        guard let page = PageStatement(query, columns: ["id", "data"]) else {
            return RecordDataPage(RecordPage(records: [], total: query.countTotal ? 0 : nil))
        }
        let logger = self.logger
        return try await withConnection { connection in
            var json = RecordDataJoiner(tenant: query.tenant, resource: query.resource)
            guard query.countTotal else {
                for try await (id, data) in try await connection.query(page.rows, logger: logger)
                    .decode((String, ByteBuffer).self)
                {
                    try json.append(data, id: id)
                }
                return json.page(total: nil)
            }
            var total = 0
            for try await (id, data, count) in try await connection.query(page.rowsWithTotal, logger: logger)
                .decode((String?, ByteBuffer?, Int64).self)
            {
                total = Int(count)
                if let id, let data { try json.append(data, id: id) }
            }
            return json.page(total: total)
        }
    }

    /// The entry even when expired: its `expiresAt` tells the caller, and a later commit
    /// replaces it.
    public func idempotencyEntry(tenant: String, scope: String, key: String) async throws -> IdempotencyEntry? {
        if NulCharacter.isIn(tenant, scope, key) { return nil }
        let logger = self.logger
        return try await withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT payload_digest, record_id, expires_at FROM idempotency_keys
                WHERE tenant = \(tenant) AND scope = \(scope) AND key = \(key)
                """,
                logger: logger
            )
            for try await (digest, recordID, expiresAt) in rows.decode((String, String, Int64).self) {
                return IdempotencyEntry(
                    tenant: tenant, scope: scope, key: key, payloadDigest: digest, recordID: recordID,
                    expiresAt: Timestamp(microseconds: expiresAt)
                )
            }
            return nil
        }
    }

    public func auditTrail(tenant: String, resource: String, recordID: String) async throws -> [AuditEvent] {
        if NulCharacter.isIn(tenant, resource, recordID) { return [] }
        let logger = self.logger
        return try await withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT from_status, to_status, at, key_id, request_id FROM audit_events
                WHERE tenant = \(tenant) AND resource = \(resource) AND record_id = \(recordID)
                ORDER BY seq
                """,
                logger: logger
            )
            var events: [AuditEvent] = []
            for try await (from, to, at, keyID, requestID) in rows.decode((String?, String, Int64, String, String).self) {
                events.append(
                    AuditEvent(
                        tenant: tenant, resource: resource, recordID: recordID, from: from, to: to,
                        at: Timestamp(microseconds: at), keyID: keyID, requestID: requestID
                    )
                )
            }
            return events
        }
    }

    public func statusCounts(tenant: String, resource: String) async throws -> [String: Int] {
        if NulCharacter.isIn(tenant, resource) { return [:] }
        let logger = self.logger
        return try await withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT status, count(*) FROM records
                WHERE tenant = \(tenant) AND resource = \(resource) AND status IS NOT NULL
                GROUP BY status
                """,
                logger: logger
            )
            var counts: [String: Int] = [:]
            for try await (status, count) in rows.decode((String, Int64).self) {
                counts[status] = Int(count)
            }
            return counts
        }
    }

    /// One query for all of them: the pairs go as two arrays, numbered by `WITH ORDINALITY`, and
    /// each is counted through the status index. Sixteen queries in flight took 2.6 s for the
    /// 900 tenants a reload added (bench/results/README.md).
    public func statusCounts(of pairs: [(tenant: String, resource: String)]) async throws -> [[String: Int]] {
        var counts = [[String: Int]](repeating: [:], count: pairs.count)
        // Text with NUL cannot be stored, so nothing is counted under it.
        let asked = pairs.indices.filter { !NulCharacter.isIn(pairs[$0].tenant, pairs[$0].resource) }
        guard !asked.isEmpty else { return counts }
        let tenants = asked.map { pairs[$0].tenant }
        let resources = asked.map { pairs[$0].resource }
        let logger = self.logger
        let found = try await withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT p.number, r.status, count(*)
                FROM unnest(\(tenants)::text[], \(resources)::text[]) WITH ORDINALITY AS p(tenant, resource, number)
                JOIN records r ON r.tenant = p.tenant AND r.resource = p.resource AND r.status IS NOT NULL
                GROUP BY p.number, r.status
                """,
                logger: logger
            )
            var found: [(number: Int, status: String, count: Int)] = []
            for try await (number, status, count) in rows.decode((Int64, String, Int64).self) {
                found.append((Int(number), status, Int(count)))
            }
            return found
        }
        for row in found { counts[asked[row.number - 1]][row.status] = row.count }
        return counts
    }
}

/// One list page's statements: its rows alone, or its rows beside the count of all matches
/// (a count row joined to the page, so an empty page still brings its total).
struct PageStatement {
    let rows: PostgresQuery
    let rowsWithTotal: PostgresQuery

    /// `nil` when a filter holds the NUL character, which no stored text does: nothing matches.
    init?(_ query: RecordQuery, columns: [String]) {
        let tagTexts = RecordColumns.texts(of: query.tags)
        if NulCharacter.isIn(query.tenant, query.resource, query.status) || NulCharacter.isIn(tagTexts) { return nil }
        var binds = PostgresBindings()
        binds.append(query.tenant)
        binds.append(query.resource)
        var filter = "tenant = $1 AND resource = $2"
        if let status = query.status {
            binds.append(status)
            filter += " AND status = $\(binds.count)"
        }
        if !tagTexts.isEmpty {
            binds.append(tagTexts)
            filter += " AND tags @> $\(binds.count)"
        }
        var window = ""
        if let limit = query.limit {
            binds.append(Int64(max(0, limit)))
            window += " LIMIT $\(binds.count)"
        }
        if query.offset > 0 {
            binds.append(Int64(query.offset))
            window += " OFFSET $\(binds.count)"
        }
        let page = "SELECT \(columns.joined(separator: ", ")) FROM records WHERE \(filter) ORDER BY sort_key, id\(window)"
        let selected = columns.map { "p.\($0)" }.joined(separator: ", ")
        rows = PostgresQuery(unsafeSQL: page, binds: binds)
        rowsWithTotal = PostgresQuery(
            unsafeSQL: """
                SELECT \(selected), c.total
                FROM (SELECT count(*) AS total FROM records WHERE \(filter)) c
                LEFT JOIN LATERAL (\(page)) p ON true
                """,
            binds: binds
        )
    }
}

/// Stored `data` texts joined into one JSON array (see ``RecordDataPage/Builder``).
struct RecordDataJoiner {
    let tenant: String
    let resource: String
    private var builder = RecordDataPage.Builder()

    init(tenant: String, resource: String) {
        self.tenant = tenant
        self.resource = resource
    }

    mutating func append(_ data: ByteBuffer, id: String) throws {
        guard builder.append(stored: data.readableBytesView) else {
            throw RecordColumns.unreadableData(tenant: tenant, resource: resource, id: id)
        }
    }

    mutating func page(total: Int?) -> RecordDataPage { builder.finish(total: total) }
}
