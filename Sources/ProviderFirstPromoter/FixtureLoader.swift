import AffiliateCore

/// Turns a tenant's fixture document into records (spec §5: fixtures load promoters with their
/// promotions, rewards and payouts with explicit ids and times).
///
/// ```yaml
/// promoters:
///   - id: 8262622
///     email: avery.lee@example.com
///     created_at: "2024-05-27T17:43:38.935Z"
///     profile: { id: 8310400, first_name: Avery, last_name: Lee }
///     promotions:
///       - { id: 9441115, campaign_id: 15161, ref_id: avery }
/// payouts:
///   - { id: 2709870, promoter_id: 8262622, status: pending, amount: 20000, created_at: "2024-08-12T09:00:00.000Z" }
/// rewards:
///   - { id: 5101001, promotion_id: 9441115, status: approved, amount: 20000, created_at: "2024-08-01T12:00:00.000Z", payout_id: 2709870 }
/// ```
///
/// Everything is validated against the tenant (campaigns, vocabularies) and cross-checked
/// inside the file (references, unique values); every problem is reported with its path.
struct FixtureLoader {
    let tenant: TenantConfig
    private var reader = FixtureReader()
    private var seed = SeedData()

    /// Fixture promoters by id, for references from payouts, rewards and parents.
    private var promoters: [Int64: Promoter] = [:]
    /// Fixture promotions by id: (promoter id, campaign id).
    private var promotions: [Int64: (promoterID: Int64, campaignID: Int64)] = [:]
    /// Fixture payouts by id: (promoter id, campaign id).
    private var payouts: [Int64: (promoterID: Int64, campaignID: Int64)] = [:]

    init(tenant: TenantConfig) { self.tenant = tenant }

    static let topKeys = ["promoters", "rewards", "payouts"]
    static let promoterKeys = [
        "id", "status", "cust_id", "email", "created_at", "temp_password", "pref", "note", "parent_promoter_id",
        "auth_token", "profile", "promotions",
    ]
    static let profileKeys = ["id"] + ProfileField.text + ProfileField.networks.map { $0 + "_url" }
    static let promotionKeys = ["id", "campaign_id", "ref_id", "promo_code", "customer_promo_code", "landing_url", "url_tracking"]
    static let payoutKeys = [
        "id", "promoter_id", "campaign_id", "status", "amount", "unit", "created_at", "due_date", "date_paid", "has_issues",
    ]
    static let rewardKeys = ["id", "promotion_id", "status", "amount", "unit", "created_at", "event_id", "payout_id"]
    /// Promoter statuses (not phased); `approved` is the fixtures' alias of `active`.
    static let promoterStatuses = ["active", "pending", "denied", "approved"]

    consuming func load(_ document: JSONValue) throws(SeedProblems) -> SeedData {
        if document.isNull { return SeedData() }
        guard let top = reader.mapping(document, at: [], allowed: Self.topKeys) else {
            throw SeedProblems(reader.problems)
        }
        loadPromoters(reader.list(top, "promoters", at: []))
        loadPayouts(reader.list(top, "payouts", at: []))
        loadRewards(reader.list(top, "rewards", at: []))
        guard reader.problems.isEmpty else { throw SeedProblems(reader.problems) }
        return seed
    }

    // MARK: Promoters

    private mutating func loadPromoters(_ items: [JSONValue]) {
        var firstPath: [String: FixtureReader.Path] = [:]
        /// Reports a value already used in the file, naming where it was first used.
        @discardableResult
        func unique(_ kind: String, _ value: String, at path: FixtureReader.Path, reader: inout FixtureReader) -> Bool {
            let key = kind + "\u{0}" + value
            if let first = firstPath[key] {
                reader.problem(path, "\(kind) \"\(value)\" is already used at \(SeedProblem.render(first))")
                return false
            }
            firstPath[key] = path
            return true
        }
        var parents: [(path: FixtureReader.Path, parentID: Int64, promoterID: Int64)] = []
        var records: [Record] = []

        for (index, item) in items.enumerated() {
            let path: FixtureReader.Path = [.key("promoters"), .index(index)]
            guard let object = reader.mapping(item, at: path, allowed: Self.promoterKeys) else { continue }
            let id = reader.id(object, "id", at: path)
            let idIsNew = id.map { unique("promoter id", String($0), at: path + [.key("id")], reader: &reader) } ?? false
            let email = reader.string(object, "email", at: path)
            if let email {
                if !PromoterFormat.isValidEmail(email) {
                    reader.problem(path + [.key("email")], "is not a valid email address")
                } else {
                    unique("email", email.lowercased(), at: path + [.key("email")], reader: &reader)
                }
            }
            let status = reader.word(object, "status", at: path, among: Self.promoterStatuses)
            let custID = reader.text(object, "cust_id", at: path)
            if let custID, !custID.isEmpty { unique("cust_id", custID, at: path + [.key("cust_id")], reader: &reader) }
            let createdAt = reader.timestamp(object, "created_at", at: path, required: true)
            let tempPassword = reader.text(object, "temp_password", at: path)
            let note = reader.text(object, "note", at: path)
            let parentID = reader.id(object, "parent_promoter_id", at: path, required: false)
            var pref = reader.text(object, "pref", at: path)
            if let given = pref, !PromoterFormat.isValidPref(given) {
                reader.problem(path + [.key("pref")], "must be 7 characters a-z or 0-9")
                pref = nil
            }
            var authToken = reader.text(object, "auth_token", at: path)
            if let token = authToken {
                if PromoterFormat.isValidAuthToken(token) {
                    unique("auth_token", token, at: path + [.key("auth_token")], reader: &reader)
                } else {
                    reader.problem(path + [.key("auth_token")], "must be 32 characters A-Z, a-z, 0-9, _ or -")
                    authToken = nil
                }
            }

            // The profile id defaults to the promoter id (a separate id space at the vendor).
            var profileObject = JSONObject()
            var explicitProfileID: Int64?
            if let value = object["profile"], !value.isNull {
                if let profile = reader.mapping(value, at: path + [.key("profile")], allowed: Self.profileKeys) {
                    profileObject = profile
                    if profile["id"] != nil { explicitProfileID = reader.id(profile, "id", at: path + [.key("profile")]) }
                    for key in Self.profileKeys.dropFirst() { _ = reader.text(profile, key, at: path + [.key("profile")]) }
                }
            }
            let profileID = explicitProfileID ?? id
            if let profileID, explicitProfileID != nil || idIsNew {
                unique("profile id", String(profileID), at: path + [.key("profile"), .key("id")], reader: &reader)
            }

            var promotionList: [Promotion] = []
            let promotionItems = reader.list(object, "promotions", at: path)
            if promotionItems.isEmpty {
                reader.problem(path + [.key("promotions")], "needs at least one promotion (the first is the default)")
            }
            for (promotionIndex, promotionItem) in promotionItems.enumerated() {
                let promotionPath = path + [.key("promotions"), .index(promotionIndex)]
                guard let promotion = loadPromotion(promotionItem, at: promotionPath, unique: unique) else { continue }
                if promotionList.contains(where: { $0.campaignID == promotion.campaignID }) {
                    reader.problem(
                        promotionPath + [.key("campaign_id")],
                        "the promoter already has a promotion in campaign \(promotion.campaignID)"
                    )
                }
                promotionList.append(promotion)
            }

            guard let id, let email, let createdAt, let profileID, let defaultPromotion = promotionList.first else { continue }
            let promoter = Promoter(
                id: id, status: status == "approved" ? "active" : (status ?? "active"), custID: custID, email: email,
                createdAt: createdAt.iso8601Milliseconds, tempPassword: tempPassword,
                defaultPromotionID: defaultPromotion.id, pref: pref ?? derived("pref", id, length: 7),
                note: note, parentPromoterID: parentID, authToken: authToken ?? derived("auth_token", id, length: 32),
                profile: Promoter.profile(id: profileID) { key in
                    switch profileObject[key] {
                    case .string(let text)?, .number(let text)?: text
                    default: nil
                    }
                },
                promotions: promotionList
            )
            // First come, first registered: a duplicate is reported once, not again by every reference.
            if promoters[id] == nil { promoters[id] = promoter }
            for promotion in promotionList where promotions[promotion.id] == nil {
                promotions[promotion.id] = (id, promotion.campaignID)
            }
            if let parentID { parents.append((path + [.key("parent_promoter_id")], parentID, id)) }
            records.append(promoter.stored(tenant: tenant.id))
            for claim in promoter.claims {
                seed.claims.append(
                    UniqueClaim(tenant: tenant.id, resource: ResourceName.promoters, name: claim.name, value: claim.value, recordID: String(id))
                )
            }
            raise(SequenceName.promoters, to: id)
            raise(SequenceName.profiles, to: profileID)
            for promotion in promotionList { raise(SequenceName.promotions, to: promotion.id) }
        }
        for parent in parents where promoters[parent.parentID] == nil || parent.parentID == parent.promoterID {
            reader.problem(parent.path, "must be the id of another promoter in this file")
        }
        seed.records += records
    }

    private mutating func loadPromotion(
        _ item: JSONValue, at path: FixtureReader.Path,
        unique: (String, String, FixtureReader.Path, inout FixtureReader) -> Bool
    ) -> Promotion? {
        guard let object = reader.mapping(item, at: path, allowed: Self.promotionKeys) else { return nil }
        let id = reader.id(object, "id", at: path)
        if let id { _ = unique("promotion id", String(id), path + [.key("id")], &reader) }
        var campaign: Campaign?
        if let campaignID = reader.id(object, "campaign_id", at: path, required: false) {
            campaign = tenant.campaign(id: campaignID)
            if campaign == nil { reader.problem(path + [.key("campaign_id")], "is not a campaign of tenant \(tenant.id)") }
        } else if object["campaign_id"] == nil || object["campaign_id"]?.isNull == true {
            campaign = tenant.campaigns.first
            if campaign == nil { reader.problem(path, "needs a campaign: tenant \(tenant.id) declares no campaigns") }
        }
        let refID = reader.string(object, "ref_id", at: path)
        if let refID {
            if PromoterFormat.isValidRefID(refID) {
                _ = unique("ref_id", refID, path + [.key("ref_id")], &reader)
            } else {
                reader.problem(path + [.key("ref_id")], "must use only a-z, 0-9, _ and -")
            }
        }
        let promoCode = reader.text(object, "promo_code", at: path)
        let customerPromoCode = reader.text(object, "customer_promo_code", at: path)
        let landingURL = reader.text(object, "landing_url", at: path)
        let urlTracking = reader.bool(object, "url_tracking", at: path) ?? false
        guard let id, let campaign, let refID, PromoterFormat.isValidRefID(refID) else { return nil }
        return Promotion(
            id: id, refID: refID, promoCode: promoCode, customerPromoCode: customerPromoCode, campaignID: campaign.id,
            campaignName: campaign.name, landingURL: landingURL, urlTracking: urlTracking
        )
    }

    // MARK: Payouts

    private mutating func loadPayouts(_ items: [JSONValue]) {
        let vocabulary = tenant.statusPolicies[ResourceName.payouts]?.vocabulary
            ?? FirstPromoterProvider.resourceDescriptors[0].defaultVocabulary
        for (index, item) in items.enumerated() {
            let path: FixtureReader.Path = [.key("payouts"), .index(index)]
            guard let object = reader.mapping(item, at: path, allowed: Self.payoutKeys) else { continue }
            let id = reader.id(object, "id", at: path)
            if let id, payouts[id] != nil {
                reader.problem(path + [.key("id")], "payout id \(id) is used twice")
            }
            var promoter: Promoter?
            if let promoterID = reader.id(object, "promoter_id", at: path) {
                promoter = promoters[promoterID]
                if promoter == nil { reader.problem(path + [.key("promoter_id")], "must be the id of a promoter in this file") }
            }
            var campaignID: Int64?
            if let given = reader.id(object, "campaign_id", at: path, required: false) {
                if tenant.campaign(id: given) == nil {
                    reader.problem(path + [.key("campaign_id")], "is not a campaign of tenant \(tenant.id)")
                } else {
                    campaignID = given
                }
            } else {
                campaignID = promoter?.defaultPromotion?.campaignID
            }
            let status = reader.word(object, "status", at: path, among: vocabulary.words) ?? vocabulary.initial
            let amount = reader.integer(object, "amount", at: path)
            let unit = reader.word(object, "unit", at: path, among: RewardUnit.all) ?? RewardUnit.cash
            let createdAt = reader.timestamp(object, "created_at", at: path, required: true)
            let dueDate = reader.timestamp(object, "due_date", at: path, required: false)
            let datePaid = reader.timestamp(object, "date_paid", at: path, required: false)
            let settled = vocabulary.phase(of: status) == .settled
            if settled, datePaid == nil {
                reader.problem(path + [.key("date_paid")], "is required: status \(status) means the payout was paid")
            } else if !settled, datePaid != nil {
                reader.problem(path + [.key("date_paid")], "must be null: status \(status) means the payout is not paid")
            }
            let hasIssues = reader.bool(object, "has_issues", at: path) ?? false
            guard let id, let promoter, let campaignID, let amount, let createdAt else { continue }
            if payouts[id] == nil { payouts[id] = (promoter.id, campaignID) }
            let due: String? =
                if object["due_date"] != nil { dueDate?.iso8601Milliseconds } else { Payout.dueDate(createdAt: createdAt, tenant: tenant) }
            seed.records.append(
                Payout.newRecord(
                    tenant: tenant.id, id: id, amount: Int128(amount), datePaid: datePaid?.iso8601Milliseconds,
                    dueDate: due, unit: unit, createdAt: createdAt.iso8601Milliseconds, hasIssues: hasIssues,
                    promoterID: promoter.id, campaignID: campaignID, status: status
                )
            )
            raise(SequenceName.payouts, to: id)
        }
    }

    // MARK: Rewards

    private mutating func loadRewards(_ items: [JSONValue]) {
        let vocabulary = tenant.statusPolicies[ResourceName.rewards]?.vocabulary
            ?? FirstPromoterProvider.resourceDescriptors[1].defaultVocabulary
        var rewardIDs = Set<Int64>()
        var eventIDs: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let path: FixtureReader.Path = [.key("rewards"), .index(index)]
            guard let object = reader.mapping(item, at: path, allowed: Self.rewardKeys) else { continue }
            let id = reader.id(object, "id", at: path)
            if let id, !rewardIDs.insert(id).inserted {
                reader.problem(path + [.key("id")], "reward id \(id) is used twice")
            }
            var promotion: (id: Int64, promoterID: Int64, campaignID: Int64)?
            if let promotionID = reader.id(object, "promotion_id", at: path) {
                if let known = promotions[promotionID] {
                    promotion = (promotionID, known.promoterID, known.campaignID)
                } else {
                    reader.problem(path + [.key("promotion_id")], "must be the id of a promotion in this file")
                }
            }
            let status = reader.word(object, "status", at: path, among: vocabulary.words) ?? vocabulary.initial
            let amount = reader.integer(object, "amount", at: path)
            let unit = reader.word(object, "unit", at: path, among: RewardUnit.all) ?? RewardUnit.cash
            let createdAt = reader.timestamp(object, "created_at", at: path, required: true)
            let eventID = reader.text(object, "event_id", at: path).flatMap { $0.isEmpty ? nil : $0 }
            if let eventID {
                if let first = eventIDs[eventID] {
                    reader.problem(path + [.key("event_id")], "event_id \"\(eventID)\" is already used at rewards[\(first)]")
                } else {
                    eventIDs[eventID] = index
                }
            }
            let payoutID = reader.id(object, "payout_id", at: path, required: false)
            if let payoutID, let promotion {
                if let payout = payouts[payoutID] {
                    if payout.promoterID != promotion.promoterID || payout.campaignID != promotion.campaignID {
                        reader.problem(
                            path + [.key("payout_id")], "payout \(payoutID) belongs to another promoter or campaign than the reward"
                        )
                    } else if unit != RewardUnit.cash {
                        reader.problem(path + [.key("payout_id")], "only cash rewards are paid out")
                    }
                } else {
                    reader.problem(path + [.key("payout_id")], "must be the id of a payout in this file")
                }
            }
            guard let id, let promotion, let amount, let createdAt else { continue }
            seed.records.append(
                Reward.newRecord(
                    tenant: tenant.id, id: id, amount: Int128(amount), unit: unit, createdAt: createdAt.iso8601Milliseconds,
                    eventID: eventID, promoterID: promotion.promoterID, promotionID: promotion.id,
                    campaignID: promotion.campaignID, payoutID: payoutID, status: status
                )
            )
            if let eventID {
                seed.claims.append(
                    UniqueClaim(tenant: tenant.id, resource: ResourceName.rewards, name: ClaimName.eventID, value: eventID, recordID: String(id))
                )
            }
            raise(SequenceName.rewards, to: id)
        }
    }

    // MARK: Helpers

    private mutating func raise(_ sequence: String, to id: Int64) {
        seed.sequenceFloors[sequence] = max(seed.sequenceFloors[sequence] ?? 0, id)
    }

    /// A stable value for a field the fixture leaves out, so that reloading the same file
    /// yields the same records and claims.
    private func derived(_ field: String, _ id: Int64, length: Int) -> String {
        String(KeyDigest.sha256Hex("firstpromoter-v1/\(tenant.id)/promoters/\(id)/\(field)").prefix(length))
    }
}
