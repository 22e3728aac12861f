import AffiliateCore
import Hummingbird

/// `rewards/create`, `rewards/list` and `rewards/update` (spec §8.9-8.11). Every error is a 422,
/// as the vendor declares no other code for these endpoints.
enum RewardEndpoints {
    /// Units the vendor knows; `discount_per` / `discount_mon` are coupon rewards affhost does not hold.
    static let invalidRewardType = FirstPromoterFailure.unprocessable(
        "Invalid reward_type. Must be one of: " + RewardUnit.all.joined(separator: ", ")
    )

    @Sendable static func create(_ call: FirstPromoterCall) async throws -> Response {
        let parameters = call.parameters
        let hasPromotionIdentifier = parameters.nonEmpty("promotion_id") != nil || parameters.nonEmpty("ref_id") != nil
        let hasLeadIdentifier = ["lead_id", "email", "uid"].contains { parameters.nonEmpty($0) != nil }
        guard hasPromotionIdentifier || hasLeadIdentifier else {
            throw FirstPromoterFailure.unprocessable("You need to pass either lead_id, email, uid, promotion_id or ref_id.")
        }
        let policy = call.engine.policy(for: ResourceName.rewards)
        let record = try await call.engine.transaction { tx in
            let engine = tx.engine
            // affhost holds no leads: without a promotion identifier nothing can match.
            guard let (promoter, promotion) = try await PromoterLookup.promotion(parameters, engine: engine) else {
                throw FirstPromoterFailure.unprocessable("Lead not found.")
            }
            guard let unit = parameters.nonEmpty("reward_type") else {
                throw FirstPromoterFailure.unprocessable("You need to pass the reward_type.")
            }
            guard RewardUnit.all.contains(unit) else { throw invalidRewardType }
            guard let amountText = parameters.nonEmpty("amount") else {
                throw FirstPromoterFailure.unprocessable("You need to pass the amount.")
            }
            guard let amount = parseAmount(amountText) else {
                throw FirstPromoterFailure.unprocessable("Amount must be an integer.")
            }
            let status = parameters["status"] ?? policy.vocabulary.initial
            guard policy.vocabulary.contains(status) else {
                throw FirstPromoterFailure.unprocessable("Invalid status. Must be one of: " + policy.vocabulary.listed)
            }
            let eventID = parameters.nonEmpty("event_id")
            if let eventID, try await findByEventID(eventID, engine: engine) != nil {
                throw FirstPromoterFailure.unprocessable("Event id has already been taken.")
            }

            let id = try await engine.nextID(sequence: SequenceName.rewards)
            var record = Reward.newRecord(
                tenant: tx.tenant.id, id: id, amount: Int128(amount), unit: unit, createdAt: tx.now.iso8601Milliseconds,
                eventID: eventID, promoterID: promoter.id, promotionID: promotion.id, campaignID: promotion.campaignID
            )
            do throws(EngineError) {
                _ = try tx.setStatus(of: &record, to: status)
            } catch {
                throw FirstPromoterFailure.status(error, noun: "reward") ?? FirstPromoterFailure(escaped: error)
            }
            tx.insert(record)
            if let eventID { tx.claim(ResourceName.rewards, name: ClaimName.eventID, value: eventID, for: String(id)) }
            if let created = Reward(record: record) {
                FirstPromoterWebhooks.emit(
                    FirstPromoterWebhooks.rewardCreated, reward: created, record: record, previousStatus: nil, on: &tx
                )
            }
            return record
        }
        return try await render(record, engine: call.engine)
    }

    /// Filters, AND-combined, each checked in this order: `promotion_id` / `ref_id`,
    /// `promoter_id`, `campaign_id`; an unknown one is a 422.
    @Sendable static func list(_ call: FirstPromoterCall) async throws -> Response {
        let parameters = call.parameters
        let engine = call.engine
        var tags: [Tag] = []
        if let (_, promotion) = try await PromoterLookup.promotion(parameters, engine: engine) {
            tags.append(Tag(TagName.promotionID, String(promotion.id)))
        }
        if let promoterID = parameters.nonEmpty("promoter_id") {
            guard let promoter = try await PromoterLookup.live(id: promoterID, engine: engine) else {
                throw FirstPromoterFailure.unprocessable("Promoter not found.")
            }
            tags.append(Tag(TagName.promoterID, String(promoter.id)))
        }
        if let text = parameters.nonEmpty("campaign_id") {
            guard let id = RecordID.parse(text), call.tenant.campaign(id: id) != nil else {
                throw FirstPromoterFailure.campaignNotFound
            }
            tags.append(Tag(TagName.campaignID, String(id)))
        }
        let paging = try Paging(parameters)
        let page = try await engine.list(
            ResourceName.rewards, tags: tags, offset: paging.offset, limit: paging.perPage, countTotal: true
        )
        var renderer = Renderer(engine: engine)
        var rows: [JSONValue] = []
        rows.reserveCapacity(page.records.count)
        for record in page.records {
            guard let reward = Reward(record: record) else { throw StoredDataError(resource: record.resource, id: record.id) }
            rows.append(try await renderer.reward(reward))
        }
        let headers = paging.headers(
            total: page.total ?? rows.count, request: call.request, parameters: parameters,
            filters: ["campaign_id", "promoter_id", "promotion_id", "ref_id"]
        )
        return .json(.ok, .array(rows), headers: headers)
    }

    /// `id` (wins) or `event_id`; `status` optional (absent: returned as is). Balances and
    /// unpaid rewards follow from the new status; an existing payout's amount never changes.
    @Sendable static func update(_ call: FirstPromoterCall) async throws -> Response {
        let parameters = call.parameters
        let idText = parameters.nonEmpty("id")
        let eventID = parameters.nonEmpty("event_id")
        guard idText != nil || eventID != nil else {
            throw FirstPromoterFailure.unprocessable("You need to find the reward either by id or event_id.")
        }
        let status = parameters["status"]
        let notFound = FirstPromoterFailure.unprocessable("Reward not found.")
        let id: String
        if let idText {
            // An id that is not a decimal integer matches nothing.
            guard let parsed = RecordID.parse(idText) else { throw notFound }
            id = String(parsed)
        } else {
            guard let found = try await findByEventID(eventID ?? "", engine: call.engine) else { throw notFound }
            id = found.id
        }
        let outcome = try await call.engine.change(ResourceName.rewards, id: id) { stored, tx in
            // Found by event id: the reward must still hold it when the change runs.
            guard var record = stored, idText != nil || record.data.text("event_id") == eventID else { throw notFound }
            guard let reward = Reward(record: record) else { throw StoredDataError(resource: record.resource, id: record.id) }
            let readBack = Renderer.readBack(promoterID: reward.promoterID)
            guard let status else { return (reward, readBack) }
            let change: StatusChange
            do throws(EngineError) {
                guard let made = try tx.setStatus(of: &record, to: status) else { return (reward, readBack) }
                change = made
            } catch {
                throw FirstPromoterFailure.status(error, noun: "reward") ?? FirstPromoterFailure(escaped: error)
            }
            tx.update(record)
            guard let changed = Reward(record: record) else { throw StoredDataError(resource: record.resource, id: record.id) }
            FirstPromoterWebhooks.emit(
                FirstPromoterWebhooks.rewardStatusChanged, reward: changed, record: record, previousStatus: change.from, on: &tx
            )
            return (changed, readBack)
        }
        let reward = outcome.value
        var renderer = Renderer(engine: call.engine)
        try renderer.remember(promoterID: reward.promoterID, readBack: outcome.related)
        return .json(.ok, try await renderer.reward(reward))
    }

    static func render(_ record: Record, engine: TenantEngine) async throws -> Response {
        guard let reward = Reward(record: record) else { throw StoredDataError(resource: record.resource, id: record.id) }
        var renderer = Renderer(engine: engine)
        return .json(.ok, try await renderer.reward(reward))
    }

    /// The reward holding an event id, if its data still says so.
    static func findByEventID(_ eventID: String, engine: TenantEngine) async throws -> Record? {
        guard let record = try await engine.find(ResourceName.rewards, claim: ClaimName.eventID, value: eventID),
            record.data.text("event_id") == eventID
        else { return nil }
        return record
    }

    /// `^-?[0-9]+$` within 64 bits.
    static func parseAmount(_ text: String) -> Int64? {
        var digits = Substring(text)
        if digits.first == "-" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(text)
    }
}
