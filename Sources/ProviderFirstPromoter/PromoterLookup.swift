import AffiliateCore

/// Finding live promoters and promotions by the identifiers the vendor accepts.
///
/// Claim lookups are verified against the record they lead to: a claim is the index, the
/// record is the truth, and a soft-deleted promoter is never found.
enum PromoterLookup {
    static let showOrUpdateMissing =
        "You need to find the promoter either by id, cust_id, auth_token, ref_id, promoter_email or promo_code"
    static let deleteMissing = "You need to find the promoter either by id, cust_id, auth_token, ref_id or promoter_email"

    /// Spec §8.5: `id`, `cust_id`, `auth_token`, `ref_id`, `promoter_email`; the first present
    /// wins (a miss is a 404, never a fall-through to the next identifier).
    static func find(_ parameters: Parameters, engine: TenantEngine, missing: String) async throws -> Promoter {
        let found: Promoter?
        if let id = parameters.nonEmpty("id") {
            found = try await live(id: id, engine: engine)
        } else if let custID = parameters.nonEmpty("cust_id") {
            found = try await holder(of: ClaimName.custID, custID, engine: engine) { $0.custID == custID }
        } else if let token = parameters.nonEmpty("auth_token") {
            found = try await holder(of: ClaimName.authToken, token, engine: engine) { $0.authToken == token }
        } else if let refID = parameters.nonEmpty("ref_id") {
            found = try await holder(of: ClaimName.refID, refID, engine: engine) { $0.promotion(refID: refID) != nil }
        } else if let email = parameters.nonEmpty("promoter_email") {
            found = try await live(email: email, engine: engine)
        } else {
            throw FirstPromoterFailure.unprocessable(missing)
        }
        guard let found else { throw FirstPromoterFailure.promoterNotFound }
        return found
    }

    /// By id text; an id that is not a decimal integer matches nothing.
    static func live(id text: String, engine: TenantEngine) async throws -> Promoter? {
        guard let id = RecordID.parse(text), let record = try await engine.find(ResourceName.promoters, id: String(id))
        else { return nil }
        guard let promoter = Promoter(record: record) else { throw StoredDataError(resource: record.resource, id: record.id) }
        return promoter.deleted ? nil : promoter
    }

    /// By email, case-insensitively.
    static func live(email: String, engine: TenantEngine) async throws -> Promoter? {
        let key = email.lowercased()
        return try await holder(of: ClaimName.email, key, engine: engine) { $0.email.lowercased() == key }
    }

    /// The live promoter holding a unique value, if it still has it.
    static func holder(
        of claim: String, _ value: String, engine: TenantEngine, verify: (Promoter) -> Bool
    ) async throws -> Promoter? {
        guard let record = try await engine.find(ResourceName.promoters, claim: claim, value: value) else { return nil }
        guard let promoter = Promoter(record: record) else { throw StoredDataError(resource: record.resource, id: record.id) }
        return !promoter.deleted && verify(promoter) ? promoter : nil
    }

    /// `promotion_id` (wins) or `ref_id`: the live promoter and the promotion; `nil` when neither
    /// was given.
    ///
    /// - Throws: 422 `Promotion not found.` when the identifier matches nothing.
    static func promotion(_ parameters: Parameters, engine: TenantEngine) async throws -> (Promoter, Promotion)? {
        if let text = parameters.nonEmpty("promotion_id") {
            guard let id = RecordID.parse(text),
                let promoter = try await holder(of: ClaimName.promotionID, String(id), engine: engine, verify: { $0.promotion(id: id) != nil }),
                let promotion = promoter.promotion(id: id)
            else { throw FirstPromoterFailure.promotionNotFound }
            return (promoter, promotion)
        }
        if let refID = parameters.nonEmpty("ref_id") {
            guard let promoter = try await holder(of: ClaimName.refID, refID, engine: engine, verify: { $0.promotion(refID: refID) != nil }),
                let promotion = promoter.promotion(refID: refID)
            else { throw FirstPromoterFailure.promotionNotFound }
            return (promoter, promotion)
        }
        return nil
    }

    /// Who holds a unique promoter value, as a write must know it.
    enum ClaimState {
        case free
        /// Held by this live promoter.
        case held(Promoter)
        /// Claimed, but the record no longer has the value or is deleted: fixtures re-seeded
        /// after a rename or delete restore claims of values their records gave up. The writer
        /// releases it in the same batch before claiming the value anew.
        case stale
    }

    static func state(
        of claim: String, _ value: String, engine: TenantEngine, verify: (Promoter) -> Bool
    ) async throws -> ClaimState {
        guard let record = try await engine.find(ResourceName.promoters, claim: claim, value: value) else { return .free }
        guard let promoter = Promoter(record: record) else { throw StoredDataError(resource: record.resource, id: record.id) }
        return !promoter.deleted && verify(promoter) ? .held(promoter) : .stale
    }
}

/// The stale claims a promoter write found, released in its batch before its own claims.
struct StaleClaims {
    private(set) var values: [(name: String, value: String)] = []

    /// Whether the value may be claimed by `promoterID` (`nil`: a new promoter), noting a stale
    /// claim to release.
    mutating func isFree(
        _ claim: String, _ value: String, for promoterID: Int64?, engine: TenantEngine, verify: (Promoter) -> Bool
    ) async throws -> Bool {
        switch try await PromoterLookup.state(of: claim, value, engine: engine, verify: verify) {
        case .free:
            return true
        case .held(let holder):
            return holder.id == promoterID
        case .stale:
            if !values.contains(where: { $0.name == claim && $0.value == value }) { values.append((claim, value)) }
            return true
        }
    }

    func release(in tx: inout Transaction) {
        for stale in values { tx.release(ResourceName.promoters, name: stale.name, value: stale.value) }
    }
}
