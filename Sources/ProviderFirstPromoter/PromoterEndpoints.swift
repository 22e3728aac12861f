import AffiliateCore
import Hummingbird

/// `promoters/create`, `update`, `show`, `list` and `delete` (spec §8.4-8.8).
enum PromoterEndpoints {
    @Sendable static func create(_ call: FirstPromoterCall) async throws -> Response {
        let parameters = call.parameters
        let campaign = try campaign(parameters, tenant: call.tenant)
        let promoter = try await call.engine.transaction { tx in
            let engine = tx.engine
            let parentID = try await parent(parameters, engine: engine)

            var errors = PromoterFieldErrors()
            var stale = StaleClaims()
            let email = parameters["email"] ?? ""
            if email.isEmpty {
                errors.email = PromoterFieldErrors.blank
            } else if !PromoterFormat.isValidEmail(email) {
                errors.email = PromoterFieldErrors.invalid
            } else if try await !emailIsFree(email, for: nil, engine: engine, stale: &stale) {
                errors.email = PromoterFieldErrors.taken
            }
            let custID = parameters["cust_id"]
            if let custID, !custID.isEmpty,
                try await !stale.isFree(ClaimName.custID, custID, for: nil, engine: engine, verify: { $0.custID == custID })
            {
                errors.custID = PromoterFieldErrors.taken
            }
            let requestedRef = parameters.nonEmpty("ref_id")
            if let requestedRef {
                if !PromoterFormat.isValidRefID(requestedRef) {
                    errors.refID = PromoterFieldErrors.invalid
                } else if try await !refIsFree(requestedRef, for: nil, engine: engine, stale: &stale) {
                    errors.refID = PromoterFieldErrors.taken
                }
            }
            var createdAt = tx.now
            if let text = parameters.nonEmpty("created_at") {
                if let parsed = Timestamp(iso8601: text) { createdAt = parsed } else { errors.createdAt = PromoterFieldErrors.invalid }
            }
            guard errors.isEmpty else { throw errors.failure }

            let refID: String
            if let requestedRef {
                refID = requestedRef
            } else {
                refID = try await generatedRefID(firstName: parameters["first_name"], engine: engine, stale: &stale)
            }
            let authToken = try await freshAuthToken(engine: engine)
            let id = try await engine.nextID(sequence: SequenceName.promoters)
            let promotionID = try await engine.nextID(sequence: SequenceName.promotions)
            let profileID = try await engine.nextID(sequence: SequenceName.profiles)
            let promotion = Promotion(
                id: promotionID, refID: refID, promoCode: parameters["promo_code"],
                customerPromoCode: parameters["customer_promo_code"], campaignID: campaign.id, campaignName: campaign.name,
                landingURL: parameters["landing_url"], urlTracking: parameters.flag("url_tracking") ?? false
            )
            let promoter = Promoter(
                id: id, status: "active", custID: custID, email: email, createdAt: createdAt.iso8601Milliseconds,
                tempPassword: parameters["temp_password"], defaultPromotionID: promotionID, pref: RandomText.pref(),
                note: parameters["note"], parentPromoterID: parentID, authToken: authToken,
                profile: Promoter.profile(id: profileID) { parameters[$0] }, promotions: [promotion]
            )
            let record = promoter.stored(tenant: tx.tenant.id)
            tx.insert(record)
            FirstPromoterWebhooks.emitSignedUp(promoter, record: record, on: &tx)
            stale.release(in: &tx)
            for claim in promoter.claims {
                tx.claim(ResourceName.promoters, name: claim.name, value: claim.value, for: String(id))
            }
            return promoter
        }
        var renderer = Renderer(engine: call.engine)
        renderer.remember(promoter, balances: .none)
        return .json(.ok, try await renderer.fullPromoter(promoter))
    }

    @Sendable static func update(_ call: FirstPromoterCall) async throws -> Response {
        let parameters = call.parameters
        let promoter = try await call.engine.transaction { tx in
            let engine = tx.engine
            var promoter = try await PromoterLookup.find(parameters, engine: engine, missing: PromoterLookup.showOrUpdateMissing)
            let selfID = promoter.id
            if let parentEmail = parameters.nonEmpty("parent_promoter_email") {
                guard let parent = try await PromoterLookup.live(email: parentEmail, engine: engine) else {
                    throw FirstPromoterFailure.unprocessable("Parent promoter not found.")
                }
                promoter.parentPromoterID = parent.id
            }

            var errors = PromoterFieldErrors()
            var stale = StaleClaims()
            let email = parameters["email"]
            if let email {
                if email.isEmpty {
                    errors.email = PromoterFieldErrors.blank
                } else if !PromoterFormat.isValidEmail(email) {
                    errors.email = PromoterFieldErrors.invalid
                } else if try await !emailIsFree(email, for: selfID, engine: engine, stale: &stale) {
                    errors.email = PromoterFieldErrors.taken
                }
            }
            let custID = parameters["new_cust_id"]
            if let custID, !custID.isEmpty,
                try await !stale.isFree(ClaimName.custID, custID, for: selfID, engine: engine, verify: { $0.custID == custID })
            {
                errors.custID = PromoterFieldErrors.taken
            }
            let refID = parameters.nonEmpty("new_ref_id")
            let defaultIndex = promoter.promotions.firstIndex { $0.id == promoter.defaultPromotionID }
            if let refID, refID != promoter.defaultPromotion?.refID {
                if !PromoterFormat.isValidRefID(refID) {
                    errors.refID = PromoterFieldErrors.invalid
                } else if try await !refIsFree(refID, for: nil, engine: engine, stale: &stale) {
                    errors.refID = PromoterFieldErrors.taken
                }
            }
            guard errors.isEmpty else { throw errors.failure }

            stale.release(in: &tx)
            let id = String(selfID)
            if let email, email.lowercased() != promoter.email.lowercased() {
                tx.release(ResourceName.promoters, name: ClaimName.email, value: promoter.email.lowercased())
                tx.claim(ResourceName.promoters, name: ClaimName.email, value: email.lowercased(), for: id)
            }
            if let email { promoter.email = email }
            if let custID, custID != promoter.custID {
                if let old = promoter.custID, !old.isEmpty { tx.release(ResourceName.promoters, name: ClaimName.custID, value: old) }
                if !custID.isEmpty { tx.claim(ResourceName.promoters, name: ClaimName.custID, value: custID, for: id) }
                promoter.custID = custID
            }
            if let index = defaultIndex {
                var promotion = promoter.promotions[index]
                if let refID, refID != promotion.refID {
                    tx.release(ResourceName.promoters, name: ClaimName.refID, value: promotion.refID)
                    tx.claim(ResourceName.promoters, name: ClaimName.refID, value: refID, for: id)
                    promotion.refID = refID
                }
                if let code = parameters["promo_code"] { promotion.promoCode = code }
                if let code = parameters["customer_promo_code"] { promotion.customerPromoCode = code }
                if let url = parameters["landing_url"] { promotion.landingURL = url }
                if let tracking = parameters.flag("url_tracking") { promotion.urlTracking = tracking }
                promoter.promotions[index] = promotion
            }
            for name in ProfileField.text {
                if let value = parameters[name] { promoter.profile[name] = .string(value) }
            }
            promoter.profile["social_accounts"] = .object(
                ProfileField.socialAccounts(promoter.profile["social_accounts"]?.objectValue ?? [:]) { parameters[$0] }
            )
            if let note = parameters["note"] { promoter.note = note }
            if let password = parameters["temp_password"] { promoter.tempPassword = password }

            let record = promoter.stored(tenant: tx.tenant.id)
            tx.update(record)
            return promoter
        }
        var renderer = Renderer(engine: call.engine)
        return .json(.ok, try await renderer.fullPromoter(promoter))
    }

    @Sendable static func show(_ call: FirstPromoterCall) async throws -> Response {
        let promoter = try await PromoterLookup.find(call.parameters, engine: call.engine, missing: PromoterLookup.showOrUpdateMissing)
        var renderer = Renderer(engine: call.engine)
        return .json(.ok, try await renderer.fullPromoter(promoter))
    }

    @Sendable static func list(_ call: FirstPromoterCall) async throws -> Response {
        var tags = [Tag(TagName.live, "true")]
        if call.parameters.nonEmpty("campaign_id") != nil {
            tags.append(Tag(TagName.campaignID, String(try campaign(call.parameters, tenant: call.tenant).id)))
        }
        let paging = try Paging(call.parameters)
        let page = try await call.engine.list(
            ResourceName.promoters, tags: tags, offset: paging.offset, limit: paging.perPage, countTotal: true
        )
        var renderer = Renderer(engine: call.engine)
        var rows: [JSONValue] = []
        rows.reserveCapacity(page.records.count)
        for record in page.records {
            guard let promoter = Promoter(record: record) else { throw StoredDataError(resource: record.resource, id: record.id) }
            rows.append(try await renderer.fullPromoter(promoter))
        }
        let headers = paging.headers(
            total: page.total ?? rows.count, request: call.request, parameters: call.parameters, filters: ["campaign_id"]
        )
        return .json(.ok, .array(rows), headers: headers)
    }

    @Sendable static func delete(_ call: FirstPromoterCall) async throws -> Response {
        let parameters = call.parameters
        try await call.engine.transaction { tx in
            var promoter = try await PromoterLookup.find(parameters, engine: tx.engine, missing: PromoterLookup.deleteMissing)
            promoter.deleted = true
            tx.release(ResourceName.promoters, name: ClaimName.email, value: promoter.email.lowercased())
            if let custID = promoter.custID, !custID.isEmpty {
                tx.release(ResourceName.promoters, name: ClaimName.custID, value: custID)
            }
            for promotion in promoter.promotions {
                tx.release(ResourceName.promoters, name: ClaimName.refID, value: promotion.refID)
            }
            tx.update(promoter.stored(tenant: tx.tenant.id))
        }
        return .json(.ok, removed)
    }

    static let removed: JSONValue = .object(["message": .string("Promoter removed.")])

    /// `campaign_id` when given (it must be in the config), else the default (first) campaign.
    static func campaign(_ parameters: Parameters, tenant: TenantConfig) throws(FirstPromoterFailure) -> Campaign {
        if let text = parameters.nonEmpty("campaign_id") {
            guard let id = RecordID.parse(text), let campaign = tenant.campaign(id: id) else { throw .campaignNotFound }
            return campaign
        }
        guard let campaign = tenant.campaigns.first else { throw .campaignNotFound }
        return campaign
    }

    /// `parent_promoter_id` (wins) or `parent_promoter_email`; `nil` when neither was given.
    static func parent(_ parameters: Parameters, engine: TenantEngine) async throws -> Int64? {
        let parent: Promoter?
        if let id = parameters.nonEmpty("parent_promoter_id") {
            parent = try await PromoterLookup.live(id: id, engine: engine)
        } else if let email = parameters.nonEmpty("parent_promoter_email") {
            parent = try await PromoterLookup.live(email: email, engine: engine)
        } else {
            return nil
        }
        guard let parent else { throw FirstPromoterFailure.unprocessable("Parent promoter not found.") }
        return parent.id
    }

    static func refIsFree(_ refID: String, for promoterID: Int64?, engine: TenantEngine, stale: inout StaleClaims) async throws -> Bool {
        try await stale.isFree(ClaimName.refID, refID, for: promoterID, engine: engine) { $0.promotion(refID: refID) != nil }
    }

    /// Emails are claimed lower-cased: unique and matched case-insensitively.
    static func emailIsFree(_ email: String, for promoterID: Int64?, engine: TenantEngine, stale: inout StaleClaims) async throws -> Bool {
        let key = email.lowercased()
        return try await stale.isFree(ClaimName.email, key, for: promoterID, engine: engine) { $0.email.lowercased() == key }
    }

    /// The first name's stem if free, else the stem plus 4 random characters; 5 random
    /// characters when the stem is empty.
    static func generatedRefID(firstName: String?, engine: TenantEngine, stale: inout StaleClaims) async throws -> String {
        let stem = PromoterFormat.refStem(firstName: firstName)
        if !stem.isEmpty, try await refIsFree(stem, for: nil, engine: engine, stale: &stale) { return stem }
        for _ in 0..<16 {
            let candidate = stem.isEmpty ? RandomText.make(5, from: RandomText.lowerAlphanumerics)
                : stem + RandomText.make(4, from: RandomText.lowerAlphanumerics)
            if try await refIsFree(candidate, for: nil, engine: engine, stale: &stale) { return candidate }
        }
        throw EngineError.contention
    }

    static func freshAuthToken(engine: TenantEngine) async throws -> String {
        for _ in 0..<4 {
            let token = RandomText.authToken()
            if try await engine.find(ResourceName.promoters, claim: ClaimName.authToken, value: token) == nil { return token }
        }
        throw EngineError.contention
    }
}
