import AffiliateCore
import Hummingbird
import OpenAPIKit

/// Every FirstPromoter v1 endpoint, kept as data: the router registers from it, the provider
/// recognises its paths from it, and the OpenAPI document is built from it, so none of the three
/// can leave an endpoint out.
enum FirstPromoterRouteTable {
    struct Route: Sendable {
        let method: HTTPRequest.Method
        /// Below `/api/v1/`, without the `.json` variant (`payouts/list`).
        let path: String
        let endpoint: FirstPromoterEndpoint
        /// What the document says about the endpoint; its `.json` twin reuses it.
        let operation: OpenAPI.Operation
    }

    static let prefix = "/api/v1/"
    /// Every served path also answers with this suffix (spec §1).
    static let suffixes = ["", ".json"]

    static let routes: [Route] = [
        Route(method: .get, path: "payouts/list", endpoint: PayoutEndpoints.list, operation: PayoutDocs.list),
        Route(method: .post, path: "payouts/create", endpoint: PayoutEndpoints.create, operation: PayoutDocs.create),
        Route(method: .put, path: "payouts/update", endpoint: PayoutEndpoints.update, operation: PayoutDocs.update),
        Route(method: .post, path: "promoters/create", endpoint: PromoterEndpoints.create, operation: PromoterDocs.create),
        Route(method: .put, path: "promoters/update", endpoint: PromoterEndpoints.update, operation: PromoterDocs.update),
        Route(method: .get, path: "promoters/list", endpoint: PromoterEndpoints.list, operation: PromoterDocs.list),
        Route(method: .get, path: "promoters/show", endpoint: PromoterEndpoints.show, operation: PromoterDocs.show),
        Route(method: .delete, path: "promoters/delete", endpoint: PromoterEndpoints.delete, operation: PromoterDocs.delete),
        Route(method: .post, path: "rewards/create", endpoint: RewardEndpoints.create, operation: RewardDocs.create),
        Route(method: .get, path: "rewards/list", endpoint: RewardEndpoints.list, operation: RewardDocs.list),
        Route(method: .put, path: "rewards/update", endpoint: RewardEndpoints.update, operation: RewardDocs.update),
    ]

    /// Vendor paths affhost deliberately does not serve; they answer the dialect's 404 (spec §1).
    static let unservedPaths = ["promoters/move_to_campaign", "promoters/add_to_campaign", "promoters/refresh_token"]

    /// Every route as served: each path with and without `.json`, the latter's operation id
    /// suffixed so that ids stay unique.
    static var servedRoutes: [(method: HTTPRequest.Method, path: String, operation: OpenAPI.Operation)] {
        routes.flatMap { route in
            suffixes.map { suffix in
                var operation = route.operation
                if !suffix.isEmpty {
                    operation.operationId = operation.operationId.map { $0 + "Json" }
                    operation.summary = operation.summary.map { $0 + " (`.json` suffix)" }
                }
                return (route.method, prefix + route.path + suffix, operation)
            }
        }
    }

    static func register(on router: Router<TenantRequestContext>) {
        for route in routes {
            router.firstPromoter(route.method, route.path, route.endpoint)
        }
    }
}
