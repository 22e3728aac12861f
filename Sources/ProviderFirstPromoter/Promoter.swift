import AffiliateCore

/// A promoter as stored: the vendor's promoter fields (balances excluded, they are computed),
/// its profile exactly as rendered, and its promotions.
struct Promoter: Sendable {
    /// The record it was read from (version and all); `nil` for one being created.
    var record: Record?
    var id: Int64
    /// `active`, `pending` or `denied` (spec §6: not phased, changed by no endpoint).
    var status: String
    var custID: String?
    var email: String
    var createdAt: String
    var tempPassword: String?
    var defaultPromotionID: Int64
    var pref: String
    var note: String?
    var parentPromoterID: Int64?
    var authToken: String
    /// In rendered order: `id`, `first_name` ... `social_accounts`.
    var profile: JSONObject
    var promotions: [Promotion]
    /// Soft-deleted: gone from lookups and lists, still nested in its rewards and payouts.
    var deleted: Bool

    var defaultPromotion: Promotion? { promotions.first { $0.id == defaultPromotionID } }
    func promotion(id: Int64) -> Promotion? { promotions.first { $0.id == id } }
    func promotion(refID: String) -> Promotion? { promotions.first { $0.refID == refID } }

    /// Reads a stored promoter; `nil` when the layout is not this dialect's.
    init?(record: Record) {
        let data = record.data
        guard let id = data.int64("id"), let status = data.text("status"), let custID = data.optionalText("cust_id"),
            let email = data.text("email"), let createdAt = data.text("created_at"),
            let tempPassword = data.optionalText("temp_password"),
            let defaultPromotionID = data.int64("default_promotion_id"), let pref = data.text("pref"),
            let note = data.optionalText("note"), let parent = data.optionalInt64("parent_promoter_id"),
            let authToken = data.text("auth_token"), let profile = data["profile"]?.objectValue,
            let promotionValues = data["promotions"]?.arrayValue
        else { return nil }
        var promotions: [Promotion] = []
        promotions.reserveCapacity(promotionValues.count)
        for value in promotionValues {
            guard let object = value.objectValue, let promotion = Promotion(object) else { return nil }
            promotions.append(promotion)
        }
        self.init(
            id: id, status: status, custID: custID, email: email, createdAt: createdAt, tempPassword: tempPassword,
            defaultPromotionID: defaultPromotionID, pref: pref, note: note, parentPromoterID: parent,
            authToken: authToken, profile: profile, promotions: promotions
        )
        self.record = record
        self.deleted = data["deleted"]?.boolValue ?? false
    }

    init(
        id: Int64, status: String, custID: String?, email: String, createdAt: String, tempPassword: String?,
        defaultPromotionID: Int64, pref: String, note: String?, parentPromoterID: Int64?, authToken: String,
        profile: JSONObject, promotions: [Promotion]
    ) {
        self.record = nil
        self.id = id
        self.status = status
        self.custID = custID
        self.email = email
        self.createdAt = createdAt
        self.tempPassword = tempPassword
        self.defaultPromotionID = defaultPromotionID
        self.pref = pref
        self.note = note
        self.parentPromoterID = parentPromoterID
        self.authToken = authToken
        self.profile = profile
        self.promotions = promotions
        self.deleted = false
    }

    /// The record to store: the read one with new data and tags, or a new one.
    func stored(tenant: String) -> Record {
        var data = JSONObject()
        data["id"] = .int(id)
        data["status"] = .string(status)
        data["cust_id"] = .text(custID)
        data["email"] = .string(email)
        data["created_at"] = .string(createdAt)
        data["temp_password"] = .text(tempPassword)
        data["default_promotion_id"] = .int(defaultPromotionID)
        data["pref"] = .string(pref)
        data["note"] = .text(note)
        data["parent_promoter_id"] = .id(parentPromoterID)
        data["auth_token"] = .string(authToken)
        data["profile"] = .object(profile)
        data["promotions"] = .array(promotions.map { .object($0.stored) })
        data["deleted"] = .bool(deleted)
        var tags = promotions.map { Tag(TagName.campaignID, String($0.campaignID)) }
        if !deleted { tags.append(Tag(TagName.live, "true")) }
        var record = record ?? Record(tenant: tenant, resource: ResourceName.promoters, id: String(id), sortKey: RecordID.sortKey(id), data: [:])
        record.data = data
        record.tags = tags
        return record
    }

    /// The unique values this promoter holds while it is live: lookups go through them.
    var claims: [(name: String, value: String)] {
        var claims: [(String, String)] = [(ClaimName.email, email.lowercased()), (ClaimName.authToken, authToken)]
        if let custID, !custID.isEmpty { claims.append((ClaimName.custID, custID)) }
        for promotion in promotions {
            claims.append((ClaimName.refID, promotion.refID))
            claims.append((ClaimName.promotionID, String(promotion.id)))
        }
        return claims
    }

    /// A new profile in rendered order, filled from parameters or fixture fields.
    static func profile(id: Int64, fields: (String) -> String?) -> JSONObject {
        var profile = JSONObject()
        for key in ProfileField.renderedOrder {
            switch key {
            case "id": profile[key] = .int(id)
            case "social_accounts": profile[key] = .object(ProfileField.socialAccounts([:], fields: fields))
            // Always null: affhost collects neither.
            case "vat_id", "description": profile[key] = .null
            default: profile[key] = .text(fields(key))
            }
        }
        return profile
    }
}

/// Profile fields promoters/create and promoters/update accept.
enum ProfileField {
    static let text = [
        "first_name", "last_name", "website", "company_name", "phone_number", "address", "country", "paypal_email",
        "avatar_url",
    ]
    static let renderedOrder = [
        "id", "first_name", "last_name", "website", "company_name", "phone_number", "address", "vat_id", "country",
        "paypal_email", "avatar_url", "description", "social_accounts",
    ]
    /// `twitter_url` ... → `social_accounts.twitter.url`, in the vendor's network order.
    static let networks = ["twitter", "youtube", "facebook", "linkedin", "instagram"]

    /// Existing accounts updated with the supplied `*_url` fields, in network order.
    static func socialAccounts(_ existing: JSONObject, fields: (String) -> String?) -> JSONObject {
        var accounts = JSONObject()
        for network in networks {
            if let url = fields(network + "_url") {
                accounts[network] = .object(["url": .string(url)])
            } else if let kept = existing[network] {
                accounts[network] = kept
            }
        }
        return accounts
    }
}

/// A promoter's place in one campaign: its ref id, codes and referral link.
struct Promotion: Sendable {
    var id: Int64
    var refID: String
    var promoCode: String?
    var customerPromoCode: String?
    var campaignID: Int64
    /// The campaign's name when the promotion was made, for a campaign no longer in the config.
    var campaignName: String
    var landingURL: String?
    var urlTracking: Bool

    init(
        id: Int64, refID: String, promoCode: String?, customerPromoCode: String?, campaignID: Int64,
        campaignName: String, landingURL: String?, urlTracking: Bool
    ) {
        self.id = id
        self.refID = refID
        self.promoCode = promoCode
        self.customerPromoCode = customerPromoCode
        self.campaignID = campaignID
        self.campaignName = campaignName
        self.landingURL = landingURL
        self.urlTracking = urlTracking
    }

    init?(_ object: JSONObject) {
        guard let id = object.int64("id"), let refID = object.text("ref_id"),
            let promoCode = object.optionalText("promo_code"),
            let customerPromoCode = object.optionalText("customer_promo_code"),
            let campaignID = object.int64("campaign_id"), let campaignName = object.text("campaign_name"),
            let landingURL = object.optionalText("landing_url"), let urlTracking = object["url_tracking"]?.boolValue
        else { return nil }
        self.init(
            id: id, refID: refID, promoCode: promoCode, customerPromoCode: customerPromoCode, campaignID: campaignID,
            campaignName: campaignName, landingURL: landingURL, urlTracking: urlTracking
        )
    }

    var stored: JSONObject {
        var object = JSONObject()
        object["id"] = .int(id)
        object["ref_id"] = .string(refID)
        object["promo_code"] = .text(promoCode)
        object["customer_promo_code"] = .text(customerPromoCode)
        object["campaign_id"] = .int(campaignID)
        object["campaign_name"] = .string(campaignName)
        object["landing_url"] = .text(landingURL)
        object["url_tracking"] = .bool(urlTracking)
        return object
    }

    /// The promoter's landing URL when set, else the campaign's, with `fpr=<ref_id>` appended;
    /// with URL tracking the promoter's landing URL is used as it is.
    func referralLink(campaignLandingURL: String) -> String {
        if let landingURL, !landingURL.isEmpty {
            if urlTracking { return landingURL }
            return Promotion.appendingRef(refID, to: landingURL)
        }
        return Promotion.appendingRef(refID, to: campaignLandingURL)
    }

    static func appendingRef(_ refID: String, to url: String) -> String {
        url + (url.contains("?") ? "&" : "?") + "fpr=" + refID
    }
}
