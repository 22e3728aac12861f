import AffiliateCore
import Hummingbird
import OpenAPIKit

/// Every Vantio endpoint, kept as data so the router, the 404/405 answers and the OpenAPI
/// document agree on what is served: Hummingbird's router reports a known path with another
/// method as not found, and only this table can tell the two apart.
enum VantioRouteTable {
    struct Route: Sendable {
        let method: HTTPRequest.Method
        let path: String
        let handler: @Sendable (Request, TenantRequestContext) async throws -> Response
        /// What the document says about the route.
        let operation: OpenAPI.Operation
    }

    static let routes: [Route] = [
        Route(method: .get, path: "/api/v1/users", handler: ReadOnlyRoutes.users.list, operation: VantioDocs.listUsers),
        Route(method: .get, path: "/api/v1/users/:id", handler: ReadOnlyRoutes.users.get, operation: VantioDocs.getUser),
        Route(method: .get, path: "/api/v1/posters", handler: ReadOnlyRoutes.posters.list, operation: VantioDocs.listPosters),
        Route(method: .get, path: "/api/v1/posters/:id", handler: ReadOnlyRoutes.posters.get, operation: VantioDocs.getPoster),
        Route(method: .get, path: "/api/v1/impressions", handler: ReadOnlyRoutes.impressions.list, operation: VantioDocs.listImpressions),
        Route(method: .get, path: "/api/v1/impressions/:id", handler: ReadOnlyRoutes.impressions.get, operation: VantioDocs.getImpression),
        Route(method: .get, path: "/api/v1/referrals", handler: ReferralRoutes.list, operation: VantioDocs.listReferrals),
        Route(method: .post, path: "/api/v1/referrals", handler: ReferralRoutes.create, operation: VantioDocs.createReferral),
        Route(method: .get, path: "/api/v1/referrals/:id", handler: ReferralRoutes.get, operation: VantioDocs.getReferral),
        Route(method: .put, path: "/api/v1/referrals/:id", handler: ReferralRoutes.update, operation: VantioDocs.updateReferral),
        Route(method: .get, path: "/api/v1/earnings", handler: EarningRoutes.list, operation: VantioDocs.listEarnings),
        Route(method: .post, path: "/api/v1/earnings", handler: EarningRoutes.create, operation: VantioDocs.createEarning),
        Route(method: .get, path: "/api/v1/earnings/:id", handler: EarningRoutes.get, operation: VantioDocs.getEarning),
        Route(method: .put, path: "/api/v1/earnings/:id", handler: EarningRoutes.update, operation: VantioDocs.updateEarning),
    ]

    private static let patterns: [(segments: [Substring], method: HTTPRequest.Method)] = routes.map {
        ($0.path.split(separator: "/"), $0.method)
    }

    /// The methods served at `path` (empty when no route has that shape), in table order.
    static func methods(at path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/")
        return patterns.filter { pattern in
            pattern.segments.count == segments.count
                && zip(pattern.segments, segments).allSatisfy { $0.first == ":" || $0 == $1 }
        }.map(\.method)
    }

    /// `/api/v1/<one of Vantio's resources>[/...]`.
    static func recognizes(_ path: String) -> Bool {
        let bare = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let segments = bare.split(separator: "/", maxSplits: 3)
        return segments.count >= 3 && segments[0] == "api" && segments[1] == "v1"
            && VantioResource.all.contains { $0 == segments[2] }
    }
}

/// Renders what the routes cannot: unknown paths (404), known paths with another method (405
/// with `Allow`), and engine refusals. Store outages go on to the host, which answers 503 and
/// logs them.
struct VantioErrorMiddleware: RouterMiddleware {
    typealias Context = TenantRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = VantioRouteTable.methods(at: request.uri.path)
            throw allowed.isEmpty ? VantioError.routeNotFound : .methodNotAllowed(allow: allowed)
        } catch let error as EngineError {
            if case .unavailable = error { throw error }
            throw VantioError(error)
        }
    }
}
