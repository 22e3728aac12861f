import AffiliateCore

/// A payout as stored. Its status is the record's; the amount is fixed when it is made.
struct Payout: Sendable {
    var record: Record
    var id: Int64
    var amount: Int128
    var datePaid: String?
    var dueDate: String?
    var unit: String
    var createdAt: String
    var hasIssues: Bool
    var promoterID: Int64
    var campaignID: Int64

    var status: String { record.status ?? "" }

    init?(record: Record) {
        let data = record.data
        guard let id = data.int64("id"), let amount = data.amount("amount"), let datePaid = data.optionalText("date_paid"),
            let dueDate = data.optionalText("due_date"), let unit = data.text("unit"),
            let createdAt = data.text("created_at"), let hasIssues = data["has_issues"]?.boolValue,
            let promoterID = data.int64("promoter_id"), let campaignID = data.int64("campaign_id")
        else { return nil }
        self.record = record
        self.id = id
        self.amount = amount
        self.datePaid = datePaid
        self.dueDate = dueDate
        self.unit = unit
        self.createdAt = createdAt
        self.hasIssues = hasIssues
        self.promoterID = promoterID
        self.campaignID = campaignID
    }

    static func newRecord(
        tenant: String, id: Int64, amount: Int128, datePaid: String?, dueDate: String?, unit: String, createdAt: String,
        hasIssues: Bool, promoterID: Int64, campaignID: Int64, status: String? = nil
    ) -> Record {
        var data = JSONObject()
        data["id"] = .int(id)
        data["amount"] = .amount(amount)
        data["date_paid"] = .text(datePaid)
        data["due_date"] = .text(dueDate)
        data["unit"] = .string(unit)
        data["created_at"] = .string(createdAt)
        data["has_issues"] = .bool(hasIssues)
        data["promoter_id"] = .int(promoterID)
        data["campaign_id"] = .int(campaignID)
        return Record(
            tenant: tenant, resource: ResourceName.payouts, id: String(id), status: status, sortKey: RecordID.sortKey(id),
            data: data,
            tags: [Tag(TagName.promoterID, String(promoterID)), Tag(TagName.campaignID, String(campaignID))],
            amount: Amount(amount, unit: unit, totalsBy: Balances.totalledBy)
        )
    }

    /// The amount of a stored payout record (``ResourceDescriptor/amount``).
    static let amountRule: AmountRule = { record in Payout(record: record).map { Amount($0.amount, unit: $0.unit, totalsBy: Balances.totalledBy) } }

    /// `due_date`: midnight UTC of the creation day plus the tenant's `payout_due_days`.
    static func dueDate(createdAt: Timestamp, tenant: TenantConfig) -> String? {
        guard let days = tenant.settings[FirstPromoterProvider.payoutDueDays]?.integer else { return nil }
        return createdAt.startOfDay.adding(days: days).iso8601Milliseconds
    }
}
