import AffiliateCore

/// The dialect's webhook events (webhooks.md §3.3). Vantio documents none, so names and
/// envelope are affhost's, Standard Webhooks shaped: `{id, type, timestamp, previous_status,
/// data}`, where `data` is the stored object the API returns for the record.
enum VantioWebhooks {
    static let catalogue = ["referral.created", "referral.status_changed", "earning.created", "earning.status_changed"]

    /// `referrals` -> `referral`.
    private static func entity(_ resource: String) -> String {
        resource == VantioResource.earnings ? "earning" : "referral"
    }

    /// A record just created through the API (an idempotent replay creates nothing).
    static func emitCreated(_ record: Record, on tx: inout Transaction) {
        emit(entity(record.resource) + ".created", record: record, previousStatus: nil, on: &tx)
    }

    /// A record whose status the change moved from `previousStatus`; nothing when it did not.
    static func emitStatusChange(_ record: Record, previousStatus: String?, on tx: inout Transaction) {
        guard record.status != previousStatus else { return }
        emit(entity(record.resource) + ".status_changed", record: record, previousStatus: previousStatus, on: &tx)
    }

    private static func emit(_ type: String, record: Record, previousStatus: String?, on tx: inout Transaction) {
        let data = JSONValue.object(record.data)
        tx.emit(type, for: record, previousStatus: previousStatus, render: { _ in data }) { stamp, data in
            var body = JSONObject()
            body["id"] = .string(stamp.publicID)
            body["type"] = .string(type)
            body["timestamp"] = .string(stamp.at.iso8601Seconds)
            body["previous_status"] = previousStatus.map(JSONValue.string) ?? .null
            body["data"] = data
            return JSONValue.object(body).serializedBytes
        }
    }
}
