import AffiliateCore
import Hummingbird

/// `payouts/update`, `payouts/list` and `payouts/create` (spec §8.1-8.3).
enum PayoutEndpoints {
    static let paymentNotFound = FirstPromoterFailure(.notFound, "Payment not found")

    /// The vendor's seed endpoint: `id` required, `status` optional (absent: returned as is).
    @Sendable static func update(_ call: FirstPromoterCall) async throws -> Response {
        guard let idText = call.parameters.nonEmpty("id") else {
            throw FirstPromoterFailure.unprocessable("You need to find the payout by id.")
        }
        guard let id = RecordID.parse(idText) else { throw paymentNotFound }
        let status = call.parameters["status"]
        // One trip to the store: the change and the promoter it nests, read back as committed.
        let outcome = try await call.engine.change(ResourceName.payouts, id: String(id)) { stored, tx in
            guard var record = stored else { throw paymentNotFound }
            guard let payout = Payout(record: record) else { throw StoredDataError(resource: record.resource, id: record.id) }
            let readBack = Renderer.readBack(promoterID: payout.promoterID)
            guard let status else { return (payout, readBack) }
            let change: StatusChange?
            do throws(EngineError) {
                change = try tx.setStatus(of: &record, to: status)
            } catch {
                throw FirstPromoterFailure.status(error, noun: "payout") ?? FirstPromoterFailure(escaped: error)
            }
            guard let change else { return (payout, readBack) }
            if change.entersSettled {
                record.data["date_paid"] = .string(tx.now.iso8601Milliseconds)
            } else if change.leavesSettled {
                record.data["date_paid"] = .null
            }
            tx.update(record)
            guard let changed = Payout(record: record) else { throw StoredDataError(resource: record.resource, id: record.id) }
            FirstPromoterWebhooks.emit(
                FirstPromoterWebhooks.payoutStatusChanged, payout: changed, record: record, previousStatus: change.from, on: &tx
            )
            return (changed, readBack)
        }
        let payout = outcome.value
        var renderer = Renderer(engine: call.engine)
        try renderer.remember(promoterID: payout.promoterID, readBack: outcome.related)
        return .json(.ok, try await renderer.payout(payout))
    }

    /// Filters `promoter_id`, `campaign_id`, `status`: exact, AND-combined; unknown values
    /// match nothing.
    @Sendable static func list(_ call: FirstPromoterCall) async throws -> Response {
        let parameters = call.parameters
        var tags: [Tag] = []
        if let promoterID = parameters.nonEmpty("promoter_id") {
            tags.append(Tag(TagName.promoterID, RecordID.tagValue(promoterID)))
        }
        if let campaignID = parameters.nonEmpty("campaign_id") {
            tags.append(Tag(TagName.campaignID, RecordID.tagValue(campaignID)))
        }
        let paging = try Paging(parameters)
        let page = try await call.engine.list(
            ResourceName.payouts, tags: tags, status: parameters.nonEmpty("status"), offset: paging.offset,
            limit: paging.perPage, countTotal: true
        )
        var renderer = Renderer(engine: call.engine)
        var rows: [JSONValue] = []
        rows.reserveCapacity(page.records.count)
        for record in page.records {
            guard let payout = Payout(record: record) else { throw StoredDataError(resource: record.resource, id: record.id) }
            rows.append(try await renderer.payout(payout))
        }
        let headers = paging.headers(
            total: page.total ?? rows.count, request: call.request, parameters: parameters,
            filters: ["campaign_id", "promoter_id", "status"]
        )
        return .json(.ok, .array(rows), headers: headers)
    }

    /// Pays out the promoter's whole unpaid cash balance in one campaign, attaching the rewards
    /// it sums; one transaction, so two concurrent creates cannot take the same rewards (each
    /// attached reward's version guards it).
    @Sendable static func create(_ call: FirstPromoterCall) async throws -> Response {
        let parameters = call.parameters
        let promoterID = parameters.nonEmpty("promoter_id")
        let promoterEmail = parameters.nonEmpty("promoter_email")
        guard promoterID != nil || promoterEmail != nil else {
            throw FirstPromoterFailure.unprocessable("You need to pass either promoter_email or promoter_id.")
        }
        let policy = call.engine.policy(for: ResourceName.payouts)
        let record = try await call.engine.transaction { tx in
            let engine = tx.engine
            let promoter: Promoter?
            if let promoterID {
                promoter = try await PromoterLookup.live(id: promoterID, engine: engine)
            } else {
                promoter = try await PromoterLookup.live(email: promoterEmail ?? "", engine: engine)
            }
            guard let promoter else { throw FirstPromoterFailure.promoterNotFound }

            let campaign: Campaign?
            if let text = parameters.nonEmpty("campaign_id") {
                campaign = RecordID.parse(text).flatMap { tx.tenant.campaign(id: $0) }
            } else {
                campaign = promoter.defaultPromotion.flatMap { tx.tenant.campaign(id: $0.campaignID) }
            }
            guard let campaign else { throw FirstPromoterFailure.campaignNotFound }

            let status = parameters["status"] ?? policy.vocabulary.initial
            guard policy.vocabulary.contains(status) else {
                throw FirstPromoterFailure.unprocessable("Invalid status. Must be one of: " + policy.vocabulary.listed)
            }

            let ledger = try await PromoterLedger.read(promoterID: promoter.id, engine: engine)
            let unpaid = ledger.unpaidRewards(campaignID: campaign.id, tenant: tx.tenant)
            let amount = unpaid.reduce(Int128(0)) { $0 + $1.amount }
            guard !unpaid.isEmpty, amount > 0 else {
                throw FirstPromoterFailure.unprocessable("Promoter has no unpaid balance.")
            }

            let id = try await engine.nextID(sequence: SequenceName.payouts)
            var record = Payout.newRecord(
                tenant: tx.tenant.id, id: id, amount: amount, datePaid: nil,
                dueDate: Payout.dueDate(createdAt: tx.now, tenant: tx.tenant), unit: RewardUnit.cash,
                createdAt: tx.now.iso8601Milliseconds, hasIssues: false, promoterID: promoter.id, campaignID: campaign.id
            )
            let change: StatusChange?
            do throws(EngineError) {
                change = try tx.setStatus(of: &record, to: status)
            } catch {
                throw FirstPromoterFailure.status(error, noun: "payout") ?? FirstPromoterFailure(escaped: error)
            }
            if change?.toPhase == .settled { record.data["date_paid"] = .string(tx.now.iso8601Milliseconds) }
            tx.insert(record)
            for reward in unpaid { tx.update(reward.attached(to: id)) }
            if let created = Payout(record: record) {
                FirstPromoterWebhooks.emit(
                    FirstPromoterWebhooks.payoutCreated, payout: created, record: record, previousStatus: nil, on: &tx
                )
            }
            return record
        }
        guard let payout = Payout(record: record) else { throw StoredDataError(resource: record.resource, id: record.id) }
        var renderer = Renderer(engine: call.engine)
        return .json(.ok, try await renderer.payout(payout))
    }
}
