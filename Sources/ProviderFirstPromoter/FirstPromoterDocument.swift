public import AffiliateOpenAPI
import Foundation
public import OpenAPIKit

extension FirstPromoterProvider: DocumentedDialect {
    /// Built from ``FirstPromoterRouteTable``: every served path, `.json` twins included.
    public func openAPIDocument() -> OpenAPI.Document {
        OpenAPI.Document(
            openAPIVersion: .v3_1_1,
            info: .init(
                title: "affhost — FirstPromoter REST API v1 (firstpromoter-v1)",
                description: """
                    FirstPromoter's v1 API as affhost serves it. Every parameter may be sent in the query string, \
                    a form body or a JSON object body; the body wins. Every success is 200. An unknown path, or \
                    a served path with another method, answers 404 `{"error": "Not found."}`.
                    """,
                version: "1"
            ),
            servers: [OpenAPI.Server(url: URL(string: "http://127.0.0.1:3000")!, description: "The demo configuration's listener")],
            paths: RoutePaths.map(FirstPromoterRouteTable.servedRoutes),
            components: OpenAPI.Components(
                schemas: FirstPromoterSchemas.components,
                securitySchemes: [
                    "apiKey": .b(.apiKey(name: "X-API-KEY", location: .header, description: "The tenant's API key."))
                ]
            ),
            security: [[.component(named: "apiKey"): []]],
            tags: ["payouts", "promoters", "rewards"].map { OpenAPI.Tag(name: $0) }
        )
    }
}
