import AffiliateCore

/// A reward as stored. Its status is the record's; promoter and promotion are rendered from the
/// promoter's current record, so renames and balances show through.
struct Reward: Sendable {
    var record: Record
    var id: Int64
    /// Cents for cash. Wide, because sums of client-sent 64-bit amounts must not overflow.
    var amount: Int128
    var unit: String
    var createdAt: String
    var eventID: String?
    var promoterID: Int64
    var promotionID: Int64
    var campaignID: Int64
    /// The payout this reward was paid out with, if any (it may since have failed).
    var payoutID: Int64?

    var status: String { record.status ?? "" }

    init?(record: Record) {
        let data = record.data
        guard let id = data.int64("id"), let amount = data.amount("amount"), let unit = data.text("unit"),
            let createdAt = data.text("created_at"), let eventID = data.optionalText("event_id"),
            let promoterID = data.int64("promoter_id"), let promotionID = data.int64("promotion_id"),
            let campaignID = data.int64("campaign_id"), let payoutID = data.optionalInt64("payout_id")
        else { return nil }
        self.record = record
        self.id = id
        self.amount = amount
        self.unit = unit
        self.createdAt = createdAt
        self.eventID = eventID
        self.promoterID = promoterID
        self.promotionID = promotionID
        self.campaignID = campaignID
        self.payoutID = payoutID
    }

    /// A new reward record (status set by the caller through the engine).
    static func newRecord(
        tenant: String, id: Int64, amount: Int128, unit: String, createdAt: String, eventID: String?, promoterID: Int64,
        promotionID: Int64, campaignID: Int64, payoutID: Int64? = nil, status: String? = nil
    ) -> Record {
        var data = JSONObject()
        data["id"] = .int(id)
        data["amount"] = .amount(amount)
        data["unit"] = .string(unit)
        data["created_at"] = .string(createdAt)
        data["event_id"] = .text(eventID)
        data["promoter_id"] = .int(promoterID)
        data["promotion_id"] = .int(promotionID)
        data["campaign_id"] = .int(campaignID)
        data["payout_id"] = .id(payoutID)
        var record = Record(
            tenant: tenant, resource: ResourceName.rewards, id: String(id), status: status, sortKey: RecordID.sortKey(id),
            data: data, amount: Amount(amount, unit: unit, totalsBy: Balances.totalledBy)
        )
        record.tags = tags(promoterID: promoterID, promotionID: promotionID, campaignID: campaignID, payoutID: payoutID)
        return record
    }

    static func tags(promoterID: Int64, promotionID: Int64, campaignID: Int64, payoutID: Int64?) -> [Tag] {
        var tags = [
            Tag(TagName.promoterID, String(promoterID)), Tag(TagName.promotionID, String(promotionID)),
            Tag(TagName.campaignID, String(campaignID)),
        ]
        if let payoutID { tags.append(Tag(TagName.payoutID, String(payoutID))) }
        return tags
    }

    /// The amount of a stored reward record (``ResourceDescriptor/amount``).
    static let amountRule: AmountRule = { record in Reward(record: record).map { Amount($0.amount, unit: $0.unit, totalsBy: Balances.totalledBy) } }

    /// The record attached to `payoutID`, ready for ``Transaction/update(_:)``.
    func attached(to payoutID: Int64) -> Record {
        var record = record
        record.data["payout_id"] = .int(payoutID)
        record.tags = Reward.tags(promoterID: promoterID, promotionID: promotionID, campaignID: campaignID, payoutID: payoutID)
        return record
    }
}
