import AffiliateCore
import Foundation
import GRDB

/// The delivery side of the outbox (webhooks.md §5-6). One server opens a SQLite file, so a
/// lease is taken in the serialised write transaction and needs no row locks; leases still
/// carry tokens so that a result is only stored by the attempt that holds the delivery.
extension SQLiteStore: WebhookQueue {
    public func leaseDeliveries(
        owner: String, capacity: [WebhookEndpointKey: WebhookEndpointCapacity], limit: Int, lease: Duration
    ) async throws -> [LeasedDelivery] {
        let open = capacity.filter { $0.value.slots > 0 }
        guard limit > 0, !open.isEmpty else { return [] }
        // Most looks find nothing due (the worker looks after every commit that queued something
        // and every poll): a read answers those without a turn on the writer.
        let anythingDue = try await read { reader in
            let now = Timestamp.now().microseconds
            return try Bool.fetchOne(
                reader.db.cachedStatement(
                    sql: """
                        SELECT EXISTS (SELECT 1 FROM webhook_delivery WHERE state IN ('pending', 'retrying')
                          AND next_attempt_at <= ?1 AND (lease_until IS NULL OR lease_until < ?1))
                        """
                ),
                arguments: [now]
            ) ?? false
        }
        guard anythingDue else { return [] }
        return try await write { writer in
            let db = writer.db
            let now = Timestamp.now()
            let paused = try SQLiteWebhookRows.pauses(db)
            var slots: [WebhookEndpointKey: Int] = [:]
            for (key, endpoint) in open where paused[key] != endpoint.url { slots[key] = endpoint.slots }
            guard !slots.isEmpty else { return [] }
            let keys = String(decoding: try JSONEncoder().encode(slots.keys.map(SQLiteWebhookRows.text)), as: UTF8.self)
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT d.id, d.tenant, d.endpoint_id, d.attempts, d.schedule_base, d.lease_until,
                               e.public_id, e.type, e.body, e.at
                        FROM webhook_delivery d JOIN webhook_event e ON e.seq = d.event_seq
                        WHERE d.state IN ('pending', 'retrying') AND d.next_attempt_at <= ?1
                          AND (d.lease_until IS NULL OR d.lease_until < ?1)
                          AND d.tenant || char(31) || d.endpoint_id IN (SELECT value FROM json_each(?2))
                          AND NOT EXISTS (
                            SELECT 1 FROM webhook_delivery p
                            WHERE p.tenant = d.tenant AND p.endpoint_id = d.endpoint_id AND p.record_key = d.record_key
                              AND p.event_seq < d.event_seq AND p.state IN ('pending', 'retrying'))
                        ORDER BY d.next_attempt_at, d.id
                        LIMIT ?3
                        """
                ),
                arguments: [now.microseconds, keys, min(limit * 4, 2_000)]
            )
            let until = now.microseconds + lease.wholeMicroseconds
            let take = try db.cachedStatement(
                sql: "UPDATE webhook_delivery SET lease_owner = ?, lease_token = ?, lease_until = ? WHERE id = ?"
            )
            var leased: [LeasedDelivery] = []
            for row in rows where leased.count < limit {
                let key = WebhookEndpointKey(tenant: row[1], endpoint: row[2])
                guard let free = slots[key], free > 0 else { continue }
                slots[key] = free - 1
                let token = UUID().uuidString
                let id: Int64 = row[0]
                try take.execute(arguments: [owner, token, until, id])
                let attempts: Int = row[3]
                let base: Int = row[4]
                let body: Data = row[8]
                leased.append(
                    LeasedDelivery(
                        id: id, token: token, endpoint: key, eventID: row[6], eventType: row[7], body: [UInt8](body),
                        attempts: attempts, scheduledAttempts: attempts - base,
                        committedAt: Timestamp(microseconds: row[9]), reclaimed: (row[5] as Int64?) != nil
                    )
                )
            }
            return leased
        }
    }

    public func finish(_ delivery: LeasedDelivery, result: WebhookAttemptResult) async throws -> Bool {
        try await write { writer in
            let db = writer.db
            let attempt = result.attempt
            let state: WebhookDeliveryState
            var next: Int64?
            var deliveredAt: Int64?
            switch result.next {
            case .delivered:
                state = .delivered
                deliveredAt = attempt.at.microseconds + attempt.durationMicroseconds
            case .retry(let at):
                state = .retrying
                next = at.microseconds
            case .failed:
                state = .failed
            case .paused(let url):
                // Due at once when the pause is lifted.
                state = .retrying
                next = attempt.at.microseconds
                try db.cachedStatement(
                    sql: "INSERT OR REPLACE INTO webhook_pause (tenant, endpoint_id, url, at) VALUES (?, ?, ?, ?)"
                ).execute(arguments: [delivery.endpoint.tenant, delivery.endpoint.endpoint, url, attempt.at.microseconds])
            }
            let outcome: StatementArguments = [
                attempt.at.microseconds, attempt.responseCode, attempt.responseBody, attempt.error,
            ]
            try db.cachedStatement(
                sql: """
                    UPDATE webhook_delivery SET state = ?, next_attempt_at = ?, delivered_at = ?, attempts = attempts + 1,
                      last_attempt_at = ?, response_code = ?, response_body = ?, last_error = ?,
                      lease_owner = NULL, lease_token = NULL, lease_until = NULL
                    WHERE id = ? AND lease_token = ? AND state IN ('pending', 'retrying')
                    """
            ).execute(arguments: [state.rawValue, next, deliveredAt] + outcome + [delivery.id, delivery.token])
            if db.changesCount == 0 {
                // Cancelled while in flight (its endpoint was removed): the result is still kept.
                try db.cachedStatement(
                    sql: """
                        UPDATE webhook_delivery SET attempts = attempts + 1,
                          last_attempt_at = ?, response_code = ?, response_body = ?, last_error = ?,
                          lease_owner = NULL, lease_token = NULL, lease_until = NULL
                        WHERE id = ? AND lease_token = ? AND state = 'cancelled'
                        """
                ).execute(arguments: outcome + [delivery.id, delivery.token])
                guard db.changesCount > 0 else { return false }
            }
            try db.cachedStatement(
                sql: """
                    INSERT INTO webhook_attempt (delivery_id, at, duration_us, response_code, error, response_body)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                delivery.id, attempt.at.microseconds, attempt.durationMicroseconds, attempt.responseCode, attempt.error,
                attempt.responseBody,
            ])
            return true
        }
    }

    public func releaseLeases(owner: String?) async throws {
        try await write { writer in
            if let owner {
                try writer.db.execute(
                    sql: "UPDATE webhook_delivery SET lease_owner = NULL, lease_token = NULL, lease_until = NULL WHERE lease_owner = ?",
                    arguments: [owner]
                )
            } else {
                try writer.db.execute(
                    sql: """
                        UPDATE webhook_delivery SET lease_owner = NULL, lease_token = NULL, lease_until = NULL
                        WHERE lease_token IS NOT NULL AND state IN ('pending', 'retrying')
                        """
                )
            }
        }
    }

    public func cancelDeliveries(keeping: Set<WebhookEndpointKey>) async throws -> Int {
        try await write { writer in
            let db = writer.db
            let queued = try Row.fetchAll(
                db, sql: "SELECT DISTINCT tenant, endpoint_id FROM webhook_delivery WHERE state IN ('pending', 'retrying')"
            ).map { WebhookEndpointKey(tenant: $0[0], endpoint: $0[1]) }
            var cancelled = 0
            for key in queued where !keeping.contains(key) {
                try db.execute(
                    sql: """
                        UPDATE webhook_delivery SET state = 'cancelled', next_attempt_at = NULL
                        WHERE tenant = ? AND endpoint_id = ? AND state IN ('pending', 'retrying')
                        """,
                    arguments: [key.tenant, key.endpoint]
                )
                cancelled += db.changesCount
            }
            return cancelled
        }
    }

    public func resume(_ endpoint: WebhookEndpointKey) async throws -> Bool {
        let resumed = try await write { writer in
            try writer.db.execute(
                sql: "DELETE FROM webhook_pause WHERE tenant = ? AND endpoint_id = ?",
                arguments: [endpoint.tenant, endpoint.endpoint]
            )
            return writer.db.changesCount > 0
        }
        if resumed { webhookCommits.ring() }
        return resumed
    }

    public func pausedEndpoints() async throws -> [WebhookEndpointKey: String] {
        try await read { try SQLiteWebhookRows.pauses($0.db) }
    }

    public func deliveries(matching filter: WebhookDeliveryFilter) async throws -> [WebhookDeliverySummary] {
        try await read { reader in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let tenant = filter.tenant {
                conditions.append("d.tenant = ?")
                arguments += [tenant]
            }
            if let endpoint = filter.endpoint {
                conditions.append("d.endpoint_id = ?")
                arguments += [endpoint]
            }
            if let state = filter.state {
                conditions.append("d.state = ?")
                arguments += [state.rawValue]
            }
            if let since = filter.since {
                conditions.append("d.created_at >= ?")
                arguments += [since.microseconds]
            }
            if let until = filter.until {
                conditions.append("d.created_at < ?")
                arguments += [until.microseconds]
            }
            if let before = filter.before {
                conditions.append("d.id < ?")
                arguments += [before]
            }
            let condition = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            arguments += [min(max(filter.limit, 1), WebhookDeliveryFilter.maximumLimit)]
            return try Row.fetchAll(
                reader.db,
                sql: "SELECT \(SQLiteWebhookRows.summaryColumns) \(SQLiteWebhookRows.summaryTables) \(condition) ORDER BY d.id DESC LIMIT ?",
                arguments: arguments
            ).map(SQLiteWebhookRows.summary)
        }
    }

    public func delivery(id: Int64) async throws -> WebhookDeliveryDetail? {
        try await read(snapshot: true) { reader in
            let db = reader.db
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT \(SQLiteWebhookRows.summaryColumns), d.response_body, e.from_status, e.body
                        \(SQLiteWebhookRows.summaryTables) WHERE d.id = ?
                        """,
                    arguments: [id]
                )
            else { return nil }
            let attempts = try Row.fetchAll(
                db,
                sql: """
                    SELECT at, duration_us, response_code, error, response_body FROM webhook_attempt
                    WHERE delivery_id = ? ORDER BY at, rowid
                    """,
                arguments: [id]
            ).map { row in
                WebhookAttempt(
                    at: Timestamp(microseconds: row[0]), durationMicroseconds: row[1], responseCode: row[2], error: row[3],
                    responseBody: row[4]
                )
            }
            let count = SQLiteWebhookRows.summaryColumnCount
            let body: Data = row[count + 2]
            return WebhookDeliveryDetail(
                summary: SQLiteWebhookRows.summary(row), responseBody: row[count], previousStatus: row[count + 1],
                attempts: attempts, body: [UInt8](body)
            )
        }
    }

    public func retry(ids: [Int64], existing: Set<WebhookEndpointKey>) async throws -> [Int64] {
        let retried = try await write { writer in
            let db = writer.db
            var retried: [Int64] = []
            for id in ids {
                guard
                    let row = try Row.fetchOne(db, sql: "SELECT tenant, endpoint_id FROM webhook_delivery WHERE id = ?", arguments: [id]),
                    existing.contains(WebhookEndpointKey(tenant: row[0], endpoint: row[1]))
                else { continue }
                try SQLiteWebhookRows.restart(db, where: "id = ?", arguments: [id])
                retried.append(id)
            }
            return retried
        }
        if !retried.isEmpty { webhookCommits.ring() }
        return retried
    }

    public func replay(_ window: WebhookReplayWindow, existing: Set<WebhookEndpointKey>) async throws -> Int {
        let count = try await write { writer in
            let db = writer.db
            var events = "SELECT seq FROM webhook_event WHERE at >= ?"
            var arguments: StatementArguments = [window.since.microseconds]
            if let until = window.until {
                events += " AND at < ?"
                arguments += [until.microseconds]
            }
            var condition = "event_seq IN (\(events))"
            if let tenant = window.tenant {
                condition += " AND tenant = ?"
                arguments += [tenant]
            }
            if let endpoint = window.endpoint {
                condition += " AND endpoint_id = ?"
                arguments += [endpoint]
            }
            if !window.all { condition += " AND state IN ('failed', 'cancelled')" }
            let candidates = try Row.fetchAll(
                db, sql: "SELECT id, tenant, endpoint_id FROM webhook_delivery WHERE \(condition)", arguments: arguments
            )
            var count = 0
            for row in candidates where existing.contains(WebhookEndpointKey(tenant: row[1], endpoint: row[2])) {
                let id: Int64 = row[0]
                try SQLiteWebhookRows.restart(db, where: "id = ?", arguments: [id])
                count += 1
            }
            return count
        }
        if count > 0 { webhookCommits.ring() }
        return count
    }

    public func queueStatistics() async throws -> [WebhookQueueStatistic] {
        try await read { reader in
            try Row.fetchAll(
                reader.db,
                sql: """
                    SELECT tenant, endpoint_id, state, count(*), min(created_at) FROM webhook_delivery
                    WHERE state IN ('pending', 'retrying') GROUP BY tenant, endpoint_id, state
                    """
            ).map { row in
                WebhookQueueStatistic(
                    endpoint: WebhookEndpointKey(tenant: row[0], endpoint: row[1]),
                    state: WebhookDeliveryState(rawValue: row[2]) ?? .pending, count: row[3],
                    oldest: (row[4] as Int64?).map(Timestamp.init(microseconds:))
                )
            }
        }
    }

    public func purgeFinishedDeliveries(before: Timestamp) async throws -> Int {
        try await write { writer in
            let db = writer.db
            let finished = "state IN ('delivered', 'failed', 'cancelled') AND created_at < ?"
            try db.execute(
                sql: "DELETE FROM webhook_attempt WHERE delivery_id IN (SELECT id FROM webhook_delivery WHERE \(finished))",
                arguments: [before.microseconds]
            )
            try db.execute(sql: "DELETE FROM webhook_delivery WHERE \(finished)", arguments: [before.microseconds])
            let deleted = db.changesCount
            try db.execute(
                sql: """
                    DELETE FROM webhook_event WHERE at < ?
                      AND NOT EXISTS (SELECT 1 FROM webhook_delivery d WHERE d.event_seq = webhook_event.seq)
                    """,
                arguments: [before.microseconds]
            )
            return deleted
        }
    }
}

/// Row shapes shared by the queue's statements.
enum SQLiteWebhookRows {
    static let summaryColumns = """
        d.id, d.tenant, d.endpoint_id, e.public_id, e.type, e.resource, e.record_id, d.state, d.attempts,
        d.next_attempt_at, d.last_attempt_at, d.response_code, d.last_error, d.created_at, d.delivered_at
        """
    static let summaryColumnCount = 15
    static let summaryTables = "FROM webhook_delivery d JOIN webhook_event e ON e.seq = d.event_seq"

    static func summary(_ row: Row) -> WebhookDeliverySummary {
        WebhookDeliverySummary(
            id: row[0], endpoint: WebhookEndpointKey(tenant: row[1], endpoint: row[2]), eventID: row[3], eventType: row[4],
            resource: row[5], recordID: row[6], state: WebhookDeliveryState(rawValue: row[7]) ?? .pending,
            attempts: row[8], nextAttemptAt: timestamp(row[9]), lastAttemptAt: timestamp(row[10]), responseCode: row[11],
            lastError: row[12], createdAt: Timestamp(microseconds: row[13]), deliveredAt: timestamp(row[14])
        )
    }

    private static func timestamp(_ value: Int64?) -> Timestamp? { value.map(Timestamp.init(microseconds:)) }

    /// `tenant` and `endpoint_id` joined as the lease statement compares them.
    static func text(_ key: WebhookEndpointKey) -> String { key.tenant + "\u{1F}" + key.endpoint }

    static func pauses(_ db: Database) throws -> [WebhookEndpointKey: String] {
        var paused: [WebhookEndpointKey: String] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT tenant, endpoint_id, url FROM webhook_pause")) {
            paused[WebhookEndpointKey(tenant: row[0], endpoint: row[1])] = row[2]
        }
        return paused
    }

    /// Due now, on a fresh schedule; `attempts` keeps counting.
    static func restart(_ db: Database, where condition: String, arguments: StatementArguments) throws {
        try db.execute(
            sql: """
                UPDATE webhook_delivery SET state = 'pending', next_attempt_at = ?, schedule_base = attempts,
                  delivered_at = NULL, lease_owner = NULL, lease_token = NULL, lease_until = NULL
                WHERE \(condition)
                """,
            arguments: [Timestamp.now().microseconds] + arguments
        )
    }
}

extension Duration {
    /// Whole microseconds, rounded down.
    var wholeMicroseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
