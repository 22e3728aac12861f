import AffiliateCore
import PostgresNIO

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The delivery side of the outbox (webhooks.md §5-6) for several instances sharing one
/// database: the same states, schedule and ordering as SQLite's queue, with every decision taken
/// by one statement so that two instances cannot both win it.
///
/// A lease is taken with `FOR UPDATE SKIP LOCKED` (§5.5): an instance passes over the rows
/// another one is taking and re-checks a row that changed under it, so a delivery is never
/// leased twice while its lease runs. Leases are timed by the database's clock, the one clock
/// every instance shares.
extension PostgresStore: WebhookQueue {
    public func leaseDeliveries(
        owner: String, capacity: [WebhookEndpointKey: WebhookEndpointCapacity], limit: Int, lease: Duration
    ) async throws -> [LeasedDelivery] {
        // Configured ids never hold NUL; one that did could match no stored row anyway.
        let open = capacity.filter { $0.value.slots > 0 && !NulCharacter.isIn($0.key.tenant, $0.key.endpoint, $0.value.url) }
        guard limit > 0, !open.isEmpty else { return [] }
        let keys = open.keys.sorted()
        let tenants = keys.map(\.tenant)
        let endpoints = keys.map(\.endpoint)
        let urls = keys.map { open[$0]?.url ?? "" }
        let slots = keys.map { Int64(open[$0]?.slots ?? 0) }
        let owner = PostgresWebhookRows.storable(owner)
        // Fresh for this call; with the delivery's id, unique to one lease of one delivery.
        let token = UUID().uuidString
        let until = lease.wholeMicroseconds
        // More rows are locked than leased, as SQLite reads more than it leases: some fall to
        // the per-endpoint slots.
        let scan = Int64(min(limit * 4, 2_000))
        let logger = self.logger
        return try await withConnection { connection in
            let rows = try await connection.query(
                """
                WITH clock AS (
                    SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS now
                ), ready AS (
                    SELECT o.tenant, o.endpoint_id, o.slots
                    FROM unnest(\(tenants)::text[], \(endpoints)::text[], \(urls)::text[], \(slots)::int8[])
                        AS o(tenant, endpoint_id, url, slots)
                    WHERE NOT EXISTS (
                        SELECT 1 FROM webhook_pauses p
                        WHERE p.tenant = o.tenant AND p.endpoint_id = o.endpoint_id AND p.url = o.url)
                ), due AS (
                    SELECT c.id, c.tenant, c.endpoint_id, c.next_attempt_at, c.lease_until
                    FROM webhook_deliveries c
                    WHERE c.state IN ('pending', 'retrying') AND c.next_attempt_at <= (SELECT now FROM clock)
                      AND (c.lease_until IS NULL OR c.lease_until < (SELECT now FROM clock))
                      AND EXISTS (SELECT 1 FROM ready o WHERE o.tenant = c.tenant AND o.endpoint_id = c.endpoint_id)
                      AND NOT EXISTS (
                        SELECT 1 FROM webhook_deliveries p
                        WHERE p.tenant = c.tenant AND p.endpoint_id = c.endpoint_id AND p.record_key = c.record_key
                          AND p.event_seq < c.event_seq AND p.state IN ('pending', 'retrying'))
                    ORDER BY c.next_attempt_at, c.id
                    LIMIT \(scan)
                    FOR UPDATE OF c SKIP LOCKED
                ), chosen AS (
                    SELECT ranked.id, ranked.lease_until FROM (
                        SELECT d.id, d.lease_until, d.next_attempt_at, o.slots,
                               row_number() OVER (PARTITION BY d.tenant, d.endpoint_id ORDER BY d.next_attempt_at, d.id) AS rank
                        FROM due d JOIN ready o ON o.tenant = d.tenant AND o.endpoint_id = d.endpoint_id
                    ) ranked
                    WHERE ranked.rank <= ranked.slots
                    ORDER BY ranked.next_attempt_at, ranked.id
                    LIMIT \(Int64(limit))
                ), taken AS (
                    UPDATE webhook_deliveries d
                    SET lease_owner = \(owner), lease_token = \(token) || '.' || d.id::text,
                        lease_until = clock.now + \(until)
                    FROM chosen, clock
                    WHERE d.id = chosen.id
                    RETURNING d.id, d.tenant, d.endpoint_id, d.attempts, d.schedule_base, d.event_seq, d.lease_token,
                              d.next_attempt_at, chosen.lease_until IS NOT NULL AS reclaimed
                )
                SELECT t.id, t.lease_token, t.tenant, t.endpoint_id, e.public_id, e.type, e.body, t.attempts,
                       t.schedule_base, e.at, t.reclaimed
                FROM taken t JOIN webhook_events e ON e.seq = t.event_seq
                ORDER BY t.next_attempt_at, t.id
                """,
                logger: logger
            )
            var leased: [LeasedDelivery] = []
            for try await (id, token, tenant, endpoint, eventID, type, body, attempts, base, at, reclaimed) in rows.decode(
                (Int64, String, String, String, String, String, ByteBuffer, Int, Int, Int64, Bool).self
            ) {
                leased.append(
                    LeasedDelivery(
                        id: id, token: token, endpoint: WebhookEndpointKey(tenant: tenant, endpoint: endpoint),
                        eventID: eventID, eventType: type, body: Array(body.readableBytesView), attempts: attempts,
                        scheduledAttempts: attempts - base, committedAt: Timestamp(microseconds: at), reclaimed: reclaimed
                    )
                )
            }
            return leased
        }
    }

    /// One statement: the result, the attempt row and a 410's pause stand or fall together.
    /// A delivery cancelled while in flight (its endpoint removed) keeps its state but still
    /// gets the attempt, as on SQLite; the `CASE`s read the row as it is when locked, so a
    /// cancel committed meanwhile is seen.
    public func finish(_ delivery: LeasedDelivery, result: WebhookAttemptResult) async throws -> Bool {
        let attempt = result.attempt
        let state: WebhookDeliveryState
        let next: Int64?
        let deliveredAt: Int64?
        let pausedURL: String?
        switch result.next {
        case .delivered:
            (state, next, deliveredAt, pausedURL) = (.delivered, nil, attempt.at.microseconds + attempt.durationMicroseconds, nil)
        case .retry(let at):
            (state, next, deliveredAt, pausedURL) = (.retrying, at.microseconds, nil, nil)
        case .failed:
            (state, next, deliveredAt, pausedURL) = (.failed, nil, nil, nil)
        case .paused(let url):
            // Due at once when the pause is lifted.
            (state, next, deliveredAt, pausedURL) = (.retrying, attempt.at.microseconds, nil, PostgresWebhookRows.storable(url))
        }
        let at = attempt.at.microseconds
        let code = attempt.responseCode.map(Int64.init)
        let body = attempt.responseBody.map(PostgresWebhookRows.storable)
        let error = attempt.error.map(PostgresWebhookRows.storable)
        let (tenant, endpoint) = (delivery.endpoint.tenant, delivery.endpoint.endpoint)
        if NulCharacter.isIn(tenant, endpoint, delivery.token) { return false }
        let logger = self.logger
        return try await withConnection { connection in
            let rows = try await connection.query(
                """
                WITH pause AS (
                    INSERT INTO webhook_pauses (tenant, endpoint_id, url, at)
                    SELECT \(tenant), \(endpoint), \(pausedURL)::text, \(at) WHERE \(pausedURL)::text IS NOT NULL
                    ON CONFLICT (tenant, endpoint_id) DO UPDATE SET url = excluded.url, at = excluded.at
                ), done AS (
                    UPDATE webhook_deliveries SET
                        state = CASE WHEN state = 'cancelled' THEN state ELSE \(state.rawValue) END,
                        next_attempt_at = CASE WHEN state = 'cancelled' THEN next_attempt_at ELSE \(next)::bigint END,
                        delivered_at = CASE WHEN state = 'cancelled' THEN delivered_at ELSE \(deliveredAt)::bigint END,
                        attempts = attempts + 1, last_attempt_at = \(at), response_code = \(code)::integer,
                        response_body = \(body)::text, last_error = \(error)::text,
                        lease_owner = NULL, lease_token = NULL, lease_until = NULL
                    WHERE id = \(delivery.id) AND lease_token = \(delivery.token)
                      AND state IN ('pending', 'retrying', 'cancelled')
                    RETURNING id
                ), attempt AS (
                    INSERT INTO webhook_attempts (delivery_id, at, duration_us, response_code, error, response_body)
                    SELECT id, \(at), \(attempt.durationMicroseconds), \(code)::integer, \(error)::text, \(body)::text FROM done
                )
                SELECT count(*) FROM done
                """,
                logger: logger
            )
            var stored = false
            for try await count in rows.decode(Int64.self) { stored = count > 0 }
            return stored
        }
    }

    /// With an `owner`, frees that instance's leases. Without one it does nothing, unlike
    /// SQLite: a worker asks so at start, believing it the only server, but here other live
    /// instances may hold leases for attempts in flight, and freeing those would let a second
    /// instance send the same delivery at the same time (webhooks.md §5.5). A dead instance's
    /// leases are retaken once they expire, and counted as reclaims.
    public func releaseLeases(owner: String?) async throws {
        guard let owner else { return }
        let logger = self.logger
        try await withConnection { connection in
            try await connection.query(
                """
                UPDATE webhook_deliveries SET lease_owner = NULL, lease_token = NULL, lease_until = NULL
                WHERE lease_owner = \(PostgresWebhookRows.storable(owner))
                """,
                logger: logger
            )
        }
    }

    public func cancelDeliveries(keeping: Set<WebhookEndpointKey>) async throws -> Int {
        // A key with NUL names no stored delivery; leaving it out keeps nothing less.
        let kept = keeping.filter { !NulCharacter.isIn($0.tenant, $0.endpoint) }
        let tenants = kept.map(\.tenant)
        let endpoints = kept.map(\.endpoint)
        let logger = self.logger
        return try await withConnection { connection in
            let rows = try await connection.query(
                """
                WITH cancelled AS (
                    UPDATE webhook_deliveries d SET state = 'cancelled', next_attempt_at = NULL
                    WHERE d.state IN ('pending', 'retrying')
                      AND NOT EXISTS (
                        SELECT 1 FROM unnest(\(tenants)::text[], \(endpoints)::text[]) AS k(tenant, endpoint_id)
                        WHERE k.tenant = d.tenant AND k.endpoint_id = d.endpoint_id)
                    RETURNING 1
                )
                SELECT count(*) FROM cancelled
                """,
                logger: logger
            )
            var cancelled = 0
            for try await count in rows.decode(Int64.self) { cancelled = Int(count) }
            return cancelled
        }
    }

    public func resume(_ endpoint: WebhookEndpointKey) async throws -> Bool {
        if NulCharacter.isIn(endpoint.tenant, endpoint.endpoint) { return false }
        let logger = self.logger
        let resumed = try await withConnection { connection in
            let rows = try await connection.query(
                """
                DELETE FROM webhook_pauses WHERE tenant = \(endpoint.tenant) AND endpoint_id = \(endpoint.endpoint)
                RETURNING 1
                """,
                logger: logger
            )
            return try await !rows.collect().isEmpty
        }
        if resumed { webhookCommits.ring() }
        return resumed
    }

    public func pausedEndpoints() async throws -> [WebhookEndpointKey: String] {
        let logger = self.logger
        return try await withConnection { connection in
            let rows = try await connection.query("SELECT tenant, endpoint_id, url FROM webhook_pauses", logger: logger)
            var paused: [WebhookEndpointKey: String] = [:]
            for try await (tenant, endpoint, url) in rows.decode((String, String, String).self) {
                paused[WebhookEndpointKey(tenant: tenant, endpoint: endpoint)] = url
            }
            return paused
        }
    }

    public func deliveries(matching filter: WebhookDeliveryFilter) async throws -> [WebhookDeliverySummary] {
        // No stored text holds NUL: such a filter matches nothing.
        if NulCharacter.isIn(filter.tenant, filter.endpoint) { return [] }
        var binds = PostgresBindings()
        var conditions: [String] = []
        if let tenant = filter.tenant {
            binds.append(tenant)
            conditions.append("d.tenant = $\(binds.count)")
        }
        if let endpoint = filter.endpoint {
            binds.append(endpoint)
            conditions.append("d.endpoint_id = $\(binds.count)")
        }
        if let state = filter.state {
            binds.append(state.rawValue)
            conditions.append("d.state = $\(binds.count)")
        }
        if let since = filter.since {
            binds.append(since.microseconds)
            conditions.append("d.created_at >= $\(binds.count)")
        }
        if let until = filter.until {
            binds.append(until.microseconds)
            conditions.append("d.created_at < $\(binds.count)")
        }
        if let before = filter.before {
            binds.append(before)
            conditions.append("d.id < $\(binds.count)")
        }
        binds.append(Int64(min(max(filter.limit, 1), WebhookDeliveryFilter.maximumLimit)))
        let condition = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT \(PostgresWebhookRows.summaryColumns) \(PostgresWebhookRows.summaryTables) \(condition)
                ORDER BY d.id DESC LIMIT $\(binds.count)
                """,
            binds: binds
        )
        let logger = self.logger
        return try await withConnection { connection in
            var summaries: [WebhookDeliverySummary] = []
            for try await row in try await connection.query(query, logger: logger).decode(PostgresWebhookRows.Summary.self) {
                summaries.append(PostgresWebhookRows.summary(row))
            }
            return summaries
        }
    }

    /// The delivery and its attempts in one transaction, so the attempts agree with the row's
    /// count even while a worker stores a result.
    public func delivery(id: Int64) async throws -> WebhookDeliveryDetail? {
        let logger = self.logger
        return try await withConnection { connection in
            try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            do {
                let detail = try await Self.delivery(id: id, on: connection, logger: logger)
                try await connection.query("COMMIT", logger: logger)
                return detail
            } catch {
                try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    private static func delivery(id: Int64, on connection: PostgresConnection, logger: Logger) async throws -> WebhookDeliveryDetail? {
        let rows = try await connection.query(
            """
            SELECT \(unescaped: PostgresWebhookRows.summaryColumns), d.response_body, e.from_status, e.body
            \(unescaped: PostgresWebhookRows.summaryTables) WHERE d.id = \(id)
            """,
            logger: logger
        )
        var found: (summary: WebhookDeliverySummary, responseBody: String?, previousStatus: String?, body: [UInt8])?
        for try await row in rows.decode(PostgresWebhookRows.Detail.self) {
            let (summaryColumns, responseBody, previousStatus, body) = PostgresWebhookRows.split(row)
            found = (PostgresWebhookRows.summary(summaryColumns), responseBody, previousStatus, Array(body.readableBytesView))
        }
        guard let found else { return nil }
        let attemptRows = try await connection.query(
            """
            SELECT at, duration_us, response_code, error, response_body FROM webhook_attempts
            WHERE delivery_id = \(id) ORDER BY at, id
            """,
            logger: logger
        )
        var attempts: [WebhookAttempt] = []
        for try await (at, duration, code, error, body) in attemptRows.decode((Int64, Int64, Int?, String?, String?).self) {
            attempts.append(
                WebhookAttempt(
                    at: Timestamp(microseconds: at), durationMicroseconds: duration, responseCode: code, error: error,
                    responseBody: body
                )
            )
        }
        return WebhookDeliveryDetail(
            summary: found.summary, responseBody: found.responseBody, previousStatus: found.previousStatus,
            attempts: attempts, body: found.body
        )
    }

    /// One statement; the ids come back in the order asked, as SQLite answers them.
    public func retry(ids: [Int64], existing: Set<WebhookEndpointKey>) async throws -> [Int64] {
        let kept = existing.filter { !NulCharacter.isIn($0.tenant, $0.endpoint) }
        guard !ids.isEmpty, !kept.isEmpty else { return [] }
        let tenants = kept.map(\.tenant)
        let endpoints = kept.map(\.endpoint)
        let logger = self.logger
        let changed = try await withConnection { connection in
            let rows = try await connection.query(
                """
                UPDATE webhook_deliveries d SET \(unescaped: PostgresWebhookRows.restart)
                FROM unnest(\(tenants)::text[], \(endpoints)::text[]) AS k(tenant, endpoint_id)
                WHERE d.id = ANY(\(ids)::int8[]) AND d.tenant = k.tenant AND d.endpoint_id = k.endpoint_id
                RETURNING d.id
                """,
                logger: logger
            )
            var changed: Set<Int64> = []
            for try await id in rows.decode(Int64.self) { changed.insert(id) }
            return changed
        }
        let retried = ids.filter(changed.contains)
        if !retried.isEmpty { webhookCommits.ring() }
        return retried
    }

    public func replay(_ window: WebhookReplayWindow, existing: Set<WebhookEndpointKey>) async throws -> Int {
        let kept = existing.filter { !NulCharacter.isIn($0.tenant, $0.endpoint) }
        if kept.isEmpty || NulCharacter.isIn(window.tenant, window.endpoint) { return 0 }
        let tenants = kept.map(\.tenant)
        let endpoints = kept.map(\.endpoint)
        let until = window.until?.microseconds
        let logger = self.logger
        let count = try await withConnection { connection in
            let rows = try await connection.query(
                """
                WITH replayed AS (
                    UPDATE webhook_deliveries d SET \(unescaped: PostgresWebhookRows.restart)
                    FROM webhook_events e, unnest(\(tenants)::text[], \(endpoints)::text[]) AS k(tenant, endpoint_id)
                    WHERE e.seq = d.event_seq AND e.at >= \(window.since.microseconds)
                      AND (\(until)::bigint IS NULL OR e.at < \(until)::bigint)
                      AND (\(window.tenant)::text IS NULL OR d.tenant = \(window.tenant)::text)
                      AND (\(window.endpoint)::text IS NULL OR d.endpoint_id = \(window.endpoint)::text)
                      AND (\(window.all) OR d.state IN ('failed', 'cancelled'))
                      AND d.tenant = k.tenant AND d.endpoint_id = k.endpoint_id
                    RETURNING 1
                )
                SELECT count(*) FROM replayed
                """,
                logger: logger
            )
            var count = 0
            for try await replayed in rows.decode(Int64.self) { count = Int(replayed) }
            return count
        }
        if count > 0 { webhookCommits.ring() }
        return count
    }

    public func queueStatistics() async throws -> [WebhookQueueStatistic] {
        let logger = self.logger
        return try await withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT tenant, endpoint_id, state, count(*), min(created_at) FROM webhook_deliveries
                WHERE state IN ('pending', 'retrying') GROUP BY tenant, endpoint_id, state
                """,
                logger: logger
            )
            var statistics: [WebhookQueueStatistic] = []
            for try await (tenant, endpoint, state, count, oldest) in rows.decode((String, String, String, Int64, Int64?).self) {
                statistics.append(
                    WebhookQueueStatistic(
                        endpoint: WebhookEndpointKey(tenant: tenant, endpoint: endpoint),
                        state: WebhookDeliveryState(rawValue: state) ?? .pending, count: Int(count),
                        oldest: oldest.map(Timestamp.init(microseconds:))
                    )
                )
            }
            return statistics
        }
    }

    /// Two statements in one transaction: the second must see the deliveries the first deleted
    /// to find the events they leave alone, which one statement's snapshot would not.
    public func purgeFinishedDeliveries(before: Timestamp) async throws -> Int {
        let cutoff = before.microseconds
        let logger = self.logger
        return try await withTransaction { connection in
            let rows = try await connection.query(
                """
                WITH gone AS (
                    DELETE FROM webhook_deliveries
                    WHERE state IN ('delivered', 'failed', 'cancelled') AND created_at < \(cutoff)
                    RETURNING id
                ), attempts AS (
                    DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM gone)
                )
                SELECT count(*) FROM gone
                """,
                logger: logger
            )
            var deleted = 0
            for try await count in rows.decode(Int64.self) { deleted = Int(count) }
            try await connection.query(
                """
                DELETE FROM webhook_events e WHERE e.at < \(cutoff)
                  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = e.seq)
                """,
                logger: logger
            )
            return deleted
        }
    }
}

/// Row shapes and fragments shared by the queue's statements.
enum PostgresWebhookRows {
    static let summaryColumns = """
        d.id, d.tenant, d.endpoint_id, e.public_id, e.type, e.resource, e.record_id, d.state, d.attempts,
        d.next_attempt_at, d.last_attempt_at, d.response_code, d.last_error, d.created_at, d.delivered_at
        """
    static let summaryTables = "FROM webhook_deliveries d JOIN webhook_events e ON e.seq = d.event_seq"

    typealias Summary = (
        Int64, String, String, String, String, String, String, String, Int, Int64?, Int64?, Int?, String?, Int64, Int64?
    )
    typealias Detail = (
        Int64, String, String, String, String, String, String, String, Int, Int64?, Int64?, Int?, String?, Int64, Int64?,
        String?, String?, ByteBuffer
    )

    static func summary(_ row: Summary) -> WebhookDeliverySummary {
        let (id, tenant, endpoint, eventID, type, resource, recordID, state, attempts, next, last, code, error, created, delivered) = row
        return WebhookDeliverySummary(
            id: id, endpoint: WebhookEndpointKey(tenant: tenant, endpoint: endpoint), eventID: eventID, eventType: type,
            resource: resource, recordID: recordID, state: WebhookDeliveryState(rawValue: state) ?? .pending,
            attempts: attempts, nextAttemptAt: next.map(Timestamp.init(microseconds:)),
            lastAttemptAt: last.map(Timestamp.init(microseconds:)), responseCode: code, lastError: error,
            createdAt: Timestamp(microseconds: created), deliveredAt: delivered.map(Timestamp.init(microseconds:))
        )
    }

    static func split(_ row: Detail) -> (Summary, String?, String?, ByteBuffer) {
        let (a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, responseBody, previousStatus, body) = row
        return ((a, b, c, d, e, f, g, h, i, j, k, l, m, n, o), responseBody, previousStatus, body)
    }

    /// Due now, on a fresh schedule; `attempts` keeps counting. The database's clock, which
    /// leases compare against.
    static let restart = """
        state = 'pending', next_attempt_at = (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
        schedule_base = d.attempts, delivered_at = NULL, lease_owner = NULL, lease_token = NULL, lease_until = NULL
        """

    /// A receiver's answer or an error text as PostgreSQL can keep it: text cannot hold U+0000,
    /// and a body with one would make its result unstorable, so the delivery would be sent
    /// again forever. It becomes U+FFFD, as undecodable bytes already do.
    static func storable(_ text: String) -> String {
        text.utf8.contains(0) ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
    }
}
