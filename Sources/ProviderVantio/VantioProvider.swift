public import AffiliateCore
public import Hummingbird

/// The `vantio-v1` dialect: Vantio's ambassador API (users, posters, impressions, referrals,
/// earnings) as its clients call it, so they only change the base URL and key.
public struct VantioProvider: Provider {
    public init() {}

    public var dialect: String { "vantio-v1" }

    public var resources: [ResourceDescriptor] {
        [
            ResourceDescriptor(
                name: VantioResource.earnings,
                knownWords: [("pending", .open), ("processing", .inProgress), ("paid", .settled), ("failed", .failed)],
                defaultWords: ["pending", "processing", "paid", "failed"]
            ),
            ResourceDescriptor(
                name: VantioResource.referrals,
                knownWords: [("pending", .open), ("converted", .inProgress), ("verified", .settled), ("rejected", .void)],
                defaultWords: ["pending", "converted", "verified", "rejected"]
            ),
        ]
    }

    public var settings: [SettingDescriptor] {
        [
            SettingDescriptor(
                name: VantioSettings.idempotencyWindowKey, kind: .duration,
                summary: "how long an idempotency_key of POST /referrals and POST /earnings is remembered (default 24h)"
            ),
            SettingDescriptor(
                name: VantioSettings.metadataUpdateKey, kind: .choice(["merge", "replace"]),
                summary: "how PUT applies metadata: merge top-level keys (default) or replace the object"
            ),
        ]
    }

    /// webhooks.md §3.3: affhost's names, one per label of the vendor's dashboard.
    public var webhookEvents: [String] {
        VantioWebhooks.catalogue
    }

    /// `Authorization: Bearer <key>`; the scheme word in any case, the key taken exactly.
    public func credential(in request: Request) -> PresentedCredential {
        guard let header = request.headers[.authorization] else { return .absent }
        let value = header.trimmingSpaces
        guard let space = value.firstIndex(where: { $0 == " " || $0 == "\t" }),
              value[..<space].lowercased() == "bearer"
        else { return .malformed }
        let key = value[space...].trimmingSpaces
        return key.isEmpty ? .malformed : .key(String(key))
    }

    public func recognizes(path: String) -> Bool { VantioRouteTable.recognizes(path) }

    public func response(for error: HostError) -> Response {
        switch error {
        case .unauthorized: VantioError.unauthorized.response
        case .payloadTooLarge(let limit): VantioError.payloadTooLarge(limit: limit).response
        case .rateLimited(let state): VantioError.rateLimited(state).response
        case .unavailable: VantioError.unavailable.response
        case .internalError: VantioError.internalError.response
        }
    }

    public func addRoutes(to router: Router<TenantRequestContext>) {
        router.add(middleware: VantioErrorMiddleware())
        for route in VantioRouteTable.routes {
            router.on(RouterPath(route.path), method: route.method, use: route.handler)
        }
    }

    public func seedData(from document: JSONValue, tenant: TenantConfig) throws(SeedProblems) -> SeedData {
        try VantioSeed(tenant: tenant).read(document)
    }
}
