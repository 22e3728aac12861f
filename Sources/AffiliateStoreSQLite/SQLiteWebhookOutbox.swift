import AffiliateCore
import Foundation
import GRDB

extension SQLiteBatchWriter {
    /// Writes each event and its deliveries (webhooks.md §5.1) after the batch that caused them
    /// was applied, in the same transaction: rendered from what the batch wrote, numbered in
    /// commit order. `known` is what the change already read back after applying its batch;
    /// an event that needs the same rows renders from it instead of reading them again.
    mutating func queue(_ drafts: [WebhookEventDraft], now: Timestamp, known: (ReadBack, RelatedRecords)? = nil) throws {
        for draft in drafts {
            let related = try draft.relatedWithoutReading(known: known)
                ?? SQLiteRecordReader(db: db).related(
                    tenant: draft.tenant, ids: draft.readBack.records, pages: [], totals: draft.readBack.totals
                )
            // AUTOINCREMENT keeps numbers unused even after old events are purged; the number
            // is taken here because the body (firstpromoter-v1's `event.id`) carries it.
            let last = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT seq FROM sqlite_sequence WHERE name = 'webhook_event'")
            )
            let stamp = WebhookEventStamp(seq: (last ?? 0) + 1, publicID: WebhookEventStamp.newPublicID(), at: now)
            let body = try draft.body(stamp: stamp, related: related)
            try db.cachedStatement(
                sql: """
                    INSERT INTO webhook_event (seq, public_id, tenant, type, resource, record_id, from_status, to_status, at, body)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                stamp.seq, stamp.publicID, draft.tenant, draft.type, draft.resource, draft.recordID,
                draft.previousStatus, draft.status, now.microseconds, Data(body),
            ])
            let delivery = try db.cachedStatement(
                sql: """
                    INSERT INTO webhook_delivery (event_seq, tenant, endpoint_id, record_key, state, next_attempt_at, created_at)
                    VALUES (?, ?, ?, ?, 'pending', ?, ?)
                    """
            )
            for endpoint in draft.endpoints {
                try delivery.execute(arguments: [stamp.seq, draft.tenant, endpoint, draft.recordKey, now.microseconds, now.microseconds])
            }
        }
    }
}
