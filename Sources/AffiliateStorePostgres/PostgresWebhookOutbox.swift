import AffiliateCore
import PostgresNIO

/// Writes a commit's webhook events and their deliveries (webhooks.md §5.1) inside the commit's
/// own transaction, after its batch was applied: a committed change always has its events and
/// a rolled-back one never does.
///
/// The batch's record rows are locked by then, so two commits of one record take their numbers
/// in the order they commit, and the record's events follow its changes (§5.4).
enum PostgresWebhookOutbox {
    /// Renders and inserts each draft, in order. `known` is what the change already read back
    /// after applying its batch; a draft naming the same rows renders from it instead of reading
    /// them again. A draft whose rendering throws fails the whole commit: no event is dropped.
    static func write(
        _ drafts: [WebhookEventDraft], known: (ReadBack, RelatedRecords)? = nil, on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        guard !drafts.isEmpty else { return }
        let numbers = try await numbers(drafts.count, on: connection, logger: logger)
        let now = Timestamp.now()
        for (draft, seq) in zip(drafts, numbers) {
            let related: RelatedRecords
            if let reused = draft.relatedWithoutReading(known: known) {
                related = reused
            } else {
                related = try await PostgresStore.readBack(draft.readBack, tenant: draft.tenant, on: connection, logger: logger)
            }
            let stamp = WebhookEventStamp(seq: seq, publicID: WebhookEventStamp.newPublicID(), at: now)
            let body = ByteBuffer(bytes: try draft.body(stamp: stamp, related: related))
            // The event and one pending delivery per endpoint, due now, in one statement.
            let rows = try await connection.query(
                """
                WITH added AS (
                    INSERT INTO webhook_events (seq, public_id, tenant, type, resource, record_id, from_status, to_status, at, body)
                    VALUES (\(seq), \(stamp.publicID), \(draft.tenant), \(draft.type), \(draft.resource), \(draft.recordID),
                            \(draft.previousStatus), \(draft.status), \(now.microseconds), \(body))
                    RETURNING seq
                ), queued AS (
                    INSERT INTO webhook_deliveries (event_seq, tenant, endpoint_id, record_key, state, next_attempt_at, created_at)
                    SELECT added.seq, \(draft.tenant), e.endpoint, \(draft.recordKey), 'pending', \(now.microseconds), \(now.microseconds)
                    FROM added, unnest(\(draft.endpoints)::text[]) WITH ORDINALITY AS e(endpoint, number)
                    ORDER BY e.number
                    RETURNING 1
                )
                SELECT count(*) FROM queued
                """,
                logger: logger
            )
            var queued: Int64 = -1
            for try await count in rows.decode(Int64.self) { queued = count }
            guard queued == Int64(draft.endpoints.count) else {
                throw StoreFailure("webhook event \(seq) queued \(queued) deliveries for \(draft.endpoints.count) endpoints")
            }
        }
    }

    /// `count` new event numbers in increasing order, from one round trip: a batch's events
    /// are numbered in the order it staged them (firstpromoter-v2's `payout.updated` before
    /// `payout.completed`).
    private static func numbers(_ count: Int, on connection: PostgresConnection, logger: Logger) async throws -> [Int64] {
        let rows = try await connection.query(
            "SELECT nextval('webhook_events_seq') FROM generate_series(1, \(Int64(count)))", logger: logger
        )
        var numbers: [Int64] = []
        for try await number in rows.decode(Int64.self) { numbers.append(number) }
        guard numbers.count == count else {
            throw StoreFailure("the webhook event sequence gave \(numbers.count) numbers for \(count) events")
        }
        return numbers.sorted()
    }

    /// Text PostgreSQL cannot store (U+0000) in a draft's columns; checked with the rest of the
    /// batch before anything is sent.
    static func hasNul(_ draft: WebhookEventDraft) -> Bool {
        NulCharacter.isIn(draft.tenant, draft.type, draft.resource, draft.recordID, draft.previousStatus, draft.status)
            || NulCharacter.isIn(draft.endpoints)
    }
}
