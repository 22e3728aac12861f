public import AffiliateCore
public import Hummingbird
import HTTPTypes

/// The `firstpromoter-v1` dialect: FirstPromoter's REST API v1 (payouts, promoters, rewards),
/// so that clients written against the vendor work against affhost with only the base URL and
/// key changed.
public struct FirstPromoterProvider: Provider {
    public init() {}

    public var dialect: String { "firstpromoter-v1" }

    public var resources: [ResourceDescriptor] { Self.resourceDescriptors }

    public var settings: [SettingDescriptor] { Self.settingDescriptors }

    /// webhooks.md §3.1: the vendor's two events this dialect triggers, plus affhost's three.
    public var webhookEvents: [String] {
        FirstPromoterWebhooks.catalogue
    }

    static let payoutDueDays = "payout_due_days"

    static let resourceDescriptors = [
        ResourceDescriptor(
            name: ResourceName.payouts,
            knownWords: [
                ("pending", .open), ("processing", .inProgress), ("completed", .settled), ("failed", .failed),
                ("cancelled", .void),
            ],
            defaultWords: ["pending", "processing", "completed"],
            amount: Payout.amountRule
        ),
        // `approved` first: the vendor's rewards start approved, counting toward the unpaid balance.
        ResourceDescriptor(
            name: ResourceName.rewards,
            knownWords: [("approved", .inProgress), ("pending", .open), ("denied", .void)],
            defaultWords: ["approved", "pending", "denied"],
            amount: Reward.amountRule
        ),
    ]

    static let settingDescriptors = [
        SettingDescriptor(
            name: payoutDueDays, kind: .integer(0...3650),
            summary: "days from a payout's creation day to its due_date; unset: due_date is null"
        )
    ]

    // MARK: Credentials and error style

    static let apiKeyHeader = HTTPField.Name("X-API-KEY")!

    /// `X-API-KEY`: the name matches in any case (HTTP field names do), the value exactly.
    public func credential(in request: Request) -> PresentedCredential {
        guard let value = request.headers[Self.apiKeyHeader] else { return .absent }
        return value.isEmpty ? .malformed : .key(value)
    }

    public func recognizes(path: String) -> Bool {
        let path = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? path
        let bare = path.hasSuffix(".json") ? String(path.dropLast(5)) : path
        if Self.recognizedPaths.contains(bare) { return true }
        return Self.unservedPrefixes.contains { bare == $0 || bare.hasPrefix($0 + "/") }
    }

    /// Served paths and the vendor paths affhost answers with 404 (spec §1), from the route table.
    static let recognizedPaths: Set<String> = Set(
        (FirstPromoterRouteTable.routes.map { $0.path } + FirstPromoterRouteTable.unservedPaths).map {
            FirstPromoterRouteTable.prefix + $0
        }
    )
    static let unservedPrefixes = ["leads", "track", "reports"].map { "/api/v1/" + $0 }

    public func response(for error: HostError) -> Response {
        switch error {
        case .unauthorized:
            return .json(.unauthorized, bytes: Self.badCredentials)
        case .payloadTooLarge:
            return FirstPromoterFailure.bodyTooLarge.response
        case .rateLimited(let state):
            var headers = HTTPFields()
            headers[.retryAfter] = String(max(1, state.retryAfterSeconds))
            headers[Self.rateLimitLimit] = String(state.limit)
            headers[Self.rateLimitRemaining] = "0"
            headers[Self.rateLimitReset] = String(state.resetAt)
            return .json(.tooManyRequests, Self.rateLimitExceeded, headers: headers)
        case .unavailable:
            return FirstPromoterFailure.busy.response
        case .internalError:
            return .json(.internalServerError, Self.internalError)
        }
    }

    /// The JSON string `"Bad credentials"`, quotes included: the vendor's text, JSON-encoded.
    static let badCredentials = JSONValue.string("Bad credentials").serializedBytes
    static let rateLimitExceeded = JSONValue.object(["error": .string("Rate limit exceeded.")])
    static let internalError = JSONValue.object(["error": .string("Internal server error.")])
    static let rateLimitLimit = HTTPField.Name("X-RateLimit-Limit")!
    static let rateLimitRemaining = HTTPField.Name("X-RateLimit-Remaining")!
    static let rateLimitReset = HTTPField.Name("X-RateLimit-Reset")!

    // MARK: Routes and fixtures

    public func addRoutes(to router: Router<TenantRequestContext>) {
        router.add(middleware: FirstPromoterNotFoundMiddleware())
        FirstPromoterRouteTable.register(on: router)
    }

    public func seedData(from document: JSONValue, tenant: TenantConfig) throws(SeedProblems) -> SeedData {
        try FixtureLoader(tenant: tenant).load(document)
    }
}
