import AffiliateCore
import Foundation
import GRDB
import Synchronization

/// The delivery side of the outbox (webhooks.md §5-6). One server opens a SQLite file, so its
/// leases are kept in memory with the same tokens and expiry PostgreSQL keeps in rows: a result
/// is only stored by the attempt that holds the delivery, and the `lease_*` columns stay empty.
extension SQLiteStore: WebhookQueue {
    /// A read, not a write: one server opens a SQLite file and leases die with its process
    /// (``releaseLeases(owner:)`` clears them at start), so leases live in memory
    /// (``SQLiteWebhookLeases``) and taking one costs no turn on the writer and no log pages.
    /// The held ids are read before the query's snapshot is taken and a finished delivery is only
    /// let go once its result is committed, so a delivery is never leased twice.
    public func leaseDeliveries(
        owner: String, capacity: [WebhookEndpointKey: WebhookEndpointCapacity], limit: Int, lease: Duration
    ) async throws -> [LeasedDelivery] {
        guard limit > 0 else { return [] }
        let leases = webhookLeases
        let held = leases.held()
        let candidates = try await read(snapshot: true) { reader -> [LeasedDelivery] in
            let db = reader.db
            let paused = try SQLiteWebhookRows.pauses(db)
            let open = capacity.filter { $0.value.slots > 0 && paused[$0.key] != $0.value.url }
            guard !open.isEmpty else { return [] }
            let now = Timestamp.now().microseconds
            let keys = try JSONEncoder().encode(open.keys.map(SQLiteWebhookRows.text))
            return try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT d.id, d.tenant, d.endpoint_id, d.attempts, d.schedule_base, e.public_id, e.type, e.body, e.at
                        FROM webhook_delivery d JOIN webhook_event e ON e.seq = d.event_seq
                        WHERE d.state IN ('pending', 'retrying') AND d.next_attempt_at <= ?1
                          AND d.tenant || char(31) || d.endpoint_id IN (SELECT value FROM json_each(?2))
                          AND d.id NOT IN (SELECT value FROM json_each(?3))
                          AND NOT EXISTS (
                            SELECT 1 FROM webhook_delivery p
                            WHERE p.tenant = d.tenant AND p.endpoint_id = d.endpoint_id AND p.record_key = d.record_key
                              AND p.event_seq < d.event_seq AND p.state IN ('pending', 'retrying'))
                        ORDER BY d.next_attempt_at, d.id
                        LIMIT ?4
                        """
                ),
                arguments: [
                    now, String(decoding: keys, as: UTF8.self), String(decoding: try JSONEncoder().encode(held), as: UTF8.self),
                    min(limit * 4, 2_000),
                ]
            ).map { row in
                let attempts: Int = row[3]
                let base: Int = row[4]
                let body: Data = row[7]
                return LeasedDelivery(
                    id: row[0], token: "", endpoint: WebhookEndpointKey(tenant: row[1], endpoint: row[2]), eventID: row[5],
                    eventType: row[6], body: [UInt8](body), attempts: attempts, scheduledAttempts: attempts - base,
                    committedAt: Timestamp(microseconds: row[8]), reclaimed: false
                )
            }
        }
        var slots = capacity.mapValues(\.slots)
        var leased: [LeasedDelivery] = []
        for var candidate in candidates where leased.count < limit {
            guard let free = slots[candidate.endpoint], free > 0,
                let (token, reclaimed) = leases.take(candidate.id, owner: owner, for: lease)
            else { continue }
            slots[candidate.endpoint] = free - 1
            candidate.token = token
            candidate.reclaimed = reclaimed
            leased.append(candidate)
        }
        return leased
    }

    public func finish(_ delivery: LeasedDelivery, result: WebhookAttemptResult) async throws -> Bool {
        let leases = webhookLeases
        guard leases.holds(delivery.id, token: delivery.token) else { return false }
        // Let go only once the result is committed (or failed to be): see leaseDeliveries.
        defer { leases.release(delivery.id, token: delivery.token) }
        return try await write { writer in
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
                    WHERE id = ? AND state IN ('pending', 'retrying')
                    """
            ).execute(arguments: [state.rawValue, next, deliveredAt] + outcome + [delivery.id])
            if db.changesCount == 0 {
                // Cancelled while in flight (its endpoint was removed): the result is still kept.
                try db.cachedStatement(
                    sql: """
                        UPDATE webhook_delivery SET attempts = attempts + 1,
                          last_attempt_at = ?, response_code = ?, response_body = ?, last_error = ?,
                          lease_owner = NULL, lease_token = NULL, lease_until = NULL
                        WHERE id = ? AND state = 'cancelled'
                        """
                ).execute(arguments: outcome + [delivery.id])
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
        webhookLeases.release(owner: owner)
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
        // An attempt in flight for one of them no longer holds it: its result is not stored.
        webhookLeases.revoke(retried)
        if !retried.isEmpty { webhookCommits.ring() }
        return retried
    }

    public func replay(_ window: WebhookReplayWindow, existing: Set<WebhookEndpointKey>) async throws -> Int {
        let count: [Int64] = try await write { writer in
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
            var restarted: [Int64] = []
            for row in candidates where existing.contains(WebhookEndpointKey(tenant: row[1], endpoint: row[2])) {
                let id: Int64 = row[0]
                try SQLiteWebhookRows.restart(db, where: "id = ?", arguments: [id])
                restarted.append(id)
            }
            return restarted
        }
        webhookLeases.revoke(count)
        if !count.isEmpty { webhookCommits.ring() }
        return count.count
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

/// The deliveries this server is sending, by id, with their leases (see
/// ``SQLiteStore/leaseDeliveries(owner:capacity:limit:lease:)``): the same tokens, owners and
/// expiry as the database leases of PostgreSQL, kept in memory.
final class SQLiteWebhookLeases: Sendable {
    private struct Lease {
        let token: String
        let owner: String
        let until: ContinuousClock.Instant
    }

    private let leases = Mutex<[Int64: Lease]>([:])

    /// The ids whose lease runs now.
    func held() -> [Int64] {
        let now = ContinuousClock.now
        return leases.withLock { $0.compactMap { $0.value.until > now ? $0.key : nil } }
    }

    /// A fresh lease of `id` for `owner`, unless one runs; `reclaimed`: it replaces an expired one.
    func take(_ id: Int64, owner: String, for duration: Duration) -> (token: String, reclaimed: Bool)? {
        let now = ContinuousClock.now
        return leases.withLock { leases in
            let previous = leases[id]
            if let previous, previous.until > now { return nil }
            let token = UUID().uuidString
            leases[id] = Lease(token: token, owner: owner, until: now + duration)
            return (token, previous != nil)
        }
    }

    func holds(_ id: Int64, token: String) -> Bool { leases.withLock { $0[id]?.token == token } }

    func release(_ id: Int64, token: String) {
        leases.withLock { leases in
            if leases[id]?.token == token { leases[id] = nil }
        }
    }

    /// Operator retries: an attempt in flight loses its hold, and its result is dropped.
    func revoke(_ ids: [Int64]) {
        leases.withLock { leases in
            for id in ids { leases[id] = nil }
        }
    }

    /// `owner`'s leases, or all of them.
    func release(owner: String?) {
        leases.withLock { leases in
            if let owner { leases = leases.filter { $0.value.owner != owner } } else { leases.removeAll() }
        }
    }
}
