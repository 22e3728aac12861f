import AffiliateCore

/// Renders the vendor's objects for one response.
///
/// Each distinct promoter is read once per response, with its balances (the running totals of
/// its rewards and payouts, a few rows however long its history), however many rows nest it: a
/// page of twenty payouts of one promoter costs one store call.
struct Renderer {
    let engine: TenantEngine
    private var promoters: [Int64: (promoter: Promoter?, balances: Balances)] = [:]
    private var campaigns: [Int64: JSONValue] = [:]

    init(engine: TenantEngine) { self.engine = engine }

    var tenant: TenantConfig { engine.tenant }

    /// Makes a promoter known without reading it (one just created has nothing to count).
    mutating func remember(_ promoter: Promoter, balances: Balances) {
        promoters[promoter.id] = (promoter, balances)
    }

    /// The promoter (deleted ones included: they stay nested) and its balances.
    mutating func promoter(id: Int64) async throws -> (promoter: Promoter?, balances: Balances) {
        if let known = promoters[id] { return known }
        // The totals are read with the promoter, in one store call: a missing promoter (never
        // the case for records affhost wrote) only wastes two empty lookups.
        let found = try await engine.read(records: [(ResourceName.promoters, String(id))], totals: Balances.totals(promoterID: id))
        return try remember(promoterID: id, record: found.records[0], totals: found.totals)
    }

    /// What a change reads back to render a record nesting promoter `id`; the change's outcome
    /// goes to ``remember(promoterID:readBack:)``.
    static func readBack(promoterID id: Int64) -> ReadBack {
        ReadBack(records: [(ResourceName.promoters, String(id))], totals: Balances.totals(promoterID: id))
    }

    /// Makes promoter `id` known from what ``readBack(promoterID:)`` read back.
    mutating func remember(promoterID id: Int64, readBack related: RelatedRecords) throws {
        try remember(promoterID: id, record: related.records[0], totals: related.totals)
    }

    /// Makes promoter `id` known from its record and the totals of ``Balances/totals(promoterID:)``,
    /// read together (by ``promoter(id:)`` or a change's ``readBack(promoterID:)``).
    @discardableResult
    private mutating func remember(
        promoterID id: Int64, record: Record?, totals: [[AmountTotal]]
    ) throws -> (promoter: Promoter?, balances: Balances) {
        var entry: (promoter: Promoter?, balances: Balances) = (nil, .none)
        if let record {
            guard let promoter = Promoter(record: record) else { throw StoredDataError(resource: record.resource, id: record.id) }
            entry = (promoter, Balances(rewards: totals[0], payouts: totals[1], tenant: tenant))
        }
        promoters[id] = entry
        return entry
    }

    /// Promoter `id` and its balances from what a commit read back (``readBack(promoterID:)``),
    /// for an object rendered inside the commit (a webhook event's `data`).
    mutating func promoter(id: Int64, readBack related: RelatedRecords) throws -> (promoter: Promoter?, balances: Balances) {
        try remember(promoterID: id, record: related.records[0], totals: related.totals)
    }

    mutating func payout(_ payout: Payout) async throws -> JSONValue {
        let (promoter, balances) = try await promoter(id: payout.promoterID)
        return self.payout(payout, promoter: promoter, balances: balances)
    }

    mutating func payout(_ payout: Payout, promoter: Promoter?, balances: Balances) -> JSONValue {
        var object = JSONObject()
        object["id"] = .int(payout.id)
        object["status"] = .string(payout.status)
        object["amount"] = .amount(payout.amount)
        object["date_paid"] = .text(payout.datePaid)
        object["due_date"] = .text(payout.dueDate)
        object["unit"] = .string(payout.unit)
        object["created_at"] = .string(payout.createdAt)
        object["has_issues"] = .bool(payout.hasIssues)
        object["reward"] = .null
        object["promoter"] = promoter.map { .object(short($0, balances: balances)) } ?? .null
        object["campaign"] = campaign(id: payout.campaignID)
        return .object(object)
    }

    mutating func reward(_ reward: Reward) async throws -> JSONValue {
        let (promoter, balances) = try await promoter(id: reward.promoterID)
        return self.reward(reward, promoter: promoter, balances: balances)
    }

    mutating func reward(_ reward: Reward, promoter: Promoter?, balances: Balances) -> JSONValue {
        var object = JSONObject()
        object["id"] = .int(reward.id)
        object["status"] = .string(reward.status)
        object["amount"] = .amount(reward.amount)
        object["unit"] = .string(reward.unit)
        object["created_at"] = .string(reward.createdAt)
        object["lead"] = .null
        object["event_id"] = .text(reward.eventID)
        object["conversion_amount"] = .null
        object["tier_level"] = .int(1)
        object["promoter"] = promoter.map { .object(short($0, balances: balances)) } ?? .null
        object["promotion"] = promoter?.promotion(id: reward.promotionID).map { promotion($0, promoterID: reward.promoterID) } ?? .null
        return .object(object)
    }

    /// The full promoter: short fields, then profile, promotions, custom fields and promo codes.
    mutating func fullPromoter(_ stored: Promoter) async throws -> JSONValue {
        let balances: Balances
        if let known = promoters[stored.id] {
            balances = known.balances
        } else {
            let totals = try await engine.read(records: [], totals: Balances.totals(promoterID: stored.id)).totals
            balances = Balances(rewards: totals[0], payouts: totals[1], tenant: tenant)
            promoters[stored.id] = (stored, balances)
        }
        return fullPromoter(stored, balances: balances)
    }

    func fullPromoter(_ stored: Promoter, balances: Balances) -> JSONValue {
        var object = short(stored, balances: balances)
        object["profile"] = .object(stored.profile)
        object["promotions"] = .array(stored.promotions.map { promotion($0, promoterID: stored.id) })
        object["custom_fields"] = .null
        object["promo_codes"] = .array([])
        return .object(object)
    }

    func short(_ promoter: Promoter, balances: Balances) -> JSONObject {
        var object = JSONObject()
        object["id"] = .int(promoter.id)
        object["status"] = .string(promoter.status)
        object["cust_id"] = .text(promoter.custID)
        object["email"] = .string(promoter.email)
        object["created_at"] = .string(promoter.createdAt)
        object["temp_password"] = .text(promoter.tempPassword)
        object["default_promotion_id"] = .int(promoter.defaultPromotionID)
        object["pref"] = .string(promoter.pref)
        object["default_ref_id"] = .text(promoter.defaultPromotion?.refID)
        object["note"] = .text(promoter.note)
        object["w8_form_url"] = .null
        object["w9_form_url"] = .null
        object["parent_promoter_id"] = .id(promoter.parentPromoterID)
        object["earnings_balance"] = balances.earnings
        object["current_balance"] = balances.current
        object["paid_balance"] = balances.paid
        object["auth_token"] = .string(promoter.authToken)
        return object
    }

    func promotion(_ promotion: Promotion, promoterID: Int64) -> JSONValue {
        let campaign = tenant.campaign(id: promotion.campaignID)
        let link: JSONValue
        if let campaign {
            link = .string(promotion.referralLink(campaignLandingURL: campaign.landingURL))
        } else if let landing = promotion.landingURL, !landing.isEmpty {
            link = .string(promotion.referralLink(campaignLandingURL: landing))
        } else {
            link = .null
        }
        var object = JSONObject()
        object["id"] = .int(promotion.id)
        object["status"] = .string("offer_running")
        object["ref_id"] = .string(promotion.refID)
        object["promo_code"] = .text(promotion.promoCode)
        object["customer_promo_code"] = .text(promotion.customerPromoCode)
        object["target_reached_at"] = .null
        object["promoter_id"] = .int(promoterID)
        object["campaign_id"] = .int(promotion.campaignID)
        object["referral_link"] = link
        object["current_offer"] = .null
        object["current_referral_reward"] = .null
        object["current_promotion_reward"] = .null
        object["current_target_reward"] = .null
        object["campaign_name"] = .string(campaign?.name ?? promotion.campaignName)
        object["hidden"] = .bool(false)
        for counter in Renderer.zeroCounters { object[counter] = .int(0) }
        return .object(object)
    }

    /// affhost tracks no visits or sales, so every counter of a promotion is 0.
    static let zeroCounters = [
        "visitors_count", "leads_count", "customers_count", "refunds_count", "cancellations_count", "sales_count",
        "sales_total", "refunds_total", "active_customers_count",
    ]

    /// The campaign from the tenant's YAML; `null` once it was removed from the file.
    mutating func campaign(id: Int64) -> JSONValue {
        if let known = campaigns[id] { return known }
        let value: JSONValue = tenant.campaign(id: id).map { campaign in
            var object = JSONObject()
            object["id"] = .int(campaign.id)
            object["name"] = .string(campaign.name)
            object["landing_url"] = .string(campaign.landingURL)
            object["description"] = .text(campaign.description)
            object["private"] = .bool(campaign.isPrivate)
            object["color"] = .string(campaign.color)
            object["default_webhook_url"] = .string(campaign.defaultWebhookURL)
            object["auto_approve_rewards"] = .bool(campaign.autoApproveRewards)
            object["auto_approve_promoters"] = .bool(campaign.autoApprovePromoters)
            return .object(object)
        } ?? .null
        campaigns[id] = value
        return value
    }
}
