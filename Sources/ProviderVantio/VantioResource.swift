import AffiliateCore

/// The resource names affhost stores Vantio records under, with the vendor's id prefixes.
enum VantioResource {
    static let users = "users"
    static let posters = "posters"
    static let impressions = "impressions"
    static let referrals = "referrals"
    static let earnings = "earnings"

    static let all = [users, posters, impressions, referrals, earnings]

    /// `earnings` -> `earning`, as error texts name one record.
    static func singular(_ resource: String) -> String {
        resource.hasSuffix("s") ? String(resource.dropLast()) : resource
    }

    /// `earn_`, `ref_`, ...: Vantio ids carry their kind.
    static func idPrefix(_ resource: String) -> String {
        switch resource {
        case users: "user_"
        case posters: "poster_"
        case impressions: "imp_"
        case referrals: "ref_"
        case earnings: "earn_"
        default: ""
        }
    }
}

/// How a tenant tunes the dialect (`idempotency_window`, `metadata_update`).
struct VantioSettings {
    enum MetadataUpdate: String { case merge, replace }

    static let idempotencyWindowKey = "idempotency_window"
    static let metadataUpdateKey = "metadata_update"
    static let defaultIdempotencyWindow: Int64 = 24 * 3600

    let idempotencyWindow: Int64
    let metadataUpdate: MetadataUpdate

    init(_ tenant: TenantConfig) {
        idempotencyWindow = tenant.settings[Self.idempotencyWindowKey]?.seconds ?? Self.defaultIdempotencyWindow
        metadataUpdate = tenant.settings[Self.metadataUpdateKey]?.word.flatMap(MetadataUpdate.init(rawValue:)) ?? .merge
    }
}
