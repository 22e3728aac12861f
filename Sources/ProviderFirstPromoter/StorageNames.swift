import AffiliateCore

/// The resources affhost stores FirstPromoter data under.
///
/// Promotions live inside their promoter's record (a promoter has one per campaign and they are
/// always rendered together), so a promoter, its profile and its promotions change in one write.
enum ResourceName {
    static let promoters = "promoters"
    static let rewards = "rewards"
    static let payouts = "payouts"
}

/// Tags the list endpoints filter on.
enum TagName {
    static let promoterID = "promoter_id"
    static let promotionID = "promotion_id"
    static let campaignID = "campaign_id"
    /// The payout a reward is attached to.
    static let payoutID = "payout_id"
    /// Carried by promoters that are not deleted, so lists skip soft-deleted ones in the query.
    static let live = "live"
}

/// Values that at most one record of a tenant holds; lookups by them are claim lookups.
enum ClaimName {
    /// Lower-cased: emails are unique and matched case-insensitively.
    static let email = "email"
    static let custID = "cust_id"
    static let authToken = "auth_token"
    /// Every promotion's ref id, claimed by the promoter that owns the promotion.
    static let refID = "ref_id"
    /// Every promotion's id, claimed by the promoter that owns it.
    static let promotionID = "promotion_id"
    static let eventID = "event_id"
}

/// Id sequences, one per id space of the vendor.
enum SequenceName {
    static let promoters = "promoters"
    static let promotions = "promotions"
    static let profiles = "profiles"
    static let rewards = "rewards"
    static let payouts = "payouts"
}

/// Record ids are decimal integers; the sort key pads them so that text order is id order.
enum RecordID {
    static func sortKey(_ id: Int64) -> String {
        let digits = String(id)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// A parameter as an id: decimal digits only (leading zeros allowed), positive, 64-bit.
    /// Anything else matches no record.
    static func parse(_ text: String) -> Int64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int64(text), value > 0
        else { return nil }
        return value
    }

    /// The tag value a filter parameter matches: canonical for ids, the text itself otherwise
    /// (which no stored canonical id equals, so it matches nothing).
    static func tagValue(_ text: String) -> String {
        parse(text).map { String($0) } ?? text
    }
}
