import AffiliateCore

/// The dialect's webhook events (webhooks.md §3.1): the vendor's envelope
/// `{"event": {id, type, created_at}, "data"}` plus `event.previous_status`; `event.id` is the
/// event's outbox number. `data` is the object this dialect's API returns for the record, as
/// the commit left it.
enum FirstPromoterWebhooks {
    static let rewardCreated = "reward_created"
    static let promoterSignedUp = "promoter_signed_up"
    static let rewardStatusChanged = "reward_status_changed"
    static let payoutCreated = "payout_created"
    static let payoutStatusChanged = "payout_status_changed"

    static let catalogue = [rewardCreated, promoterSignedUp, rewardStatusChanged, payoutCreated, payoutStatusChanged]

    static func envelope(_ type: String, previousStatus: String?) -> @Sendable (WebhookEventStamp, JSONValue) -> [UInt8] {
        { stamp, data in
            var event = JSONObject()
            event["id"] = .int(stamp.seq)
            event["type"] = .string(type)
            event["created_at"] = .string(stamp.at.iso8601Milliseconds)
            event["previous_status"] = previousStatus.map(JSONValue.string) ?? .null
            var body = JSONObject()
            body["event"] = .object(event)
            body["data"] = data
            return JSONValue.object(body).serializedBytes
        }
    }

    /// Stages `type` for a payout, rendered as `payouts/update` answers it.
    static func emit(_ type: String, payout: Payout, record: Record, previousStatus: String?, on tx: inout Transaction) {
        emit(type, record: record, promoterID: payout.promoterID, previousStatus: previousStatus, on: &tx) { renderer, promoter, balances in
            renderer.payout(payout, promoter: promoter, balances: balances)
        }
    }

    /// Stages `type` for a reward, rendered as `rewards/update` answers it.
    static func emit(_ type: String, reward: Reward, record: Record, previousStatus: String?, on tx: inout Transaction) {
        emit(type, record: record, promoterID: reward.promoterID, previousStatus: previousStatus, on: &tx) { renderer, promoter, balances in
            renderer.reward(reward, promoter: promoter, balances: balances)
        }
    }

    /// An object nesting promoter `promoterID` with its balances, read back after the commit.
    private static func emit(
        _ type: String, record: Record, promoterID: Int64, previousStatus: String?, on tx: inout Transaction,
        object: @escaping @Sendable (inout Renderer, Promoter?, Balances) -> JSONValue
    ) {
        let engine = tx.engine
        tx.emit(
            type, for: record, previousStatus: previousStatus, readBack: Renderer.readBack(promoterID: promoterID),
            render: { related in
                var renderer = Renderer(engine: engine)
                let (promoter, balances) = try renderer.promoter(id: promoterID, readBack: related)
                return object(&renderer, promoter, balances)
            },
            envelope: envelope(type, previousStatus: previousStatus)
        )
    }

    /// `promoter_signed_up` keeps the vendor's shape: the full promoter and its promotions. A
    /// new promoter has nothing to count, so nothing is read back.
    static func emitSignedUp(_ promoter: Promoter, record: Record, on tx: inout Transaction) {
        let engine = tx.engine
        tx.emit(
            promoterSignedUp, for: record, previousStatus: nil,
            render: { _ in
                let renderer = Renderer(engine: engine)
                var data = JSONObject()
                data["promoter"] = renderer.fullPromoter(promoter, balances: .none)
                data["promotions"] = .array(promoter.promotions.map { renderer.promotion($0, promoterID: promoter.id) })
                return .object(data)
            },
            envelope: envelope(promoterSignedUp, previousStatus: nil)
        )
    }
}
