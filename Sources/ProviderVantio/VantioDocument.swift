public import AffiliateOpenAPI
import Foundation
public import OpenAPIKit

extension VantioProvider: DocumentedDialect {
    /// Built from ``VantioRouteTable``, the table the routes are registered from.
    public func openAPIDocument() -> OpenAPI.Document {
        OpenAPI.Document(
            openAPIVersion: .v3_1_1,
            info: .init(
                title: "affhost — Vantio ambassador API v1 (vantio-v1)",
                description: """
                    Vantio's ambassador API as affhost serves it. POST and PUT take JSON objects only; a new record \
                    answers 201, an idempotent replay 200. Another tenant's record answers like a missing one. \
                    An unknown path answers 404 `Route not found`; a served path with another method answers \
                    405 `Method not allowed` with an `Allow` header listing the served methods.
                    """,
                version: "1"
            ),
            servers: [OpenAPI.Server(url: URL(string: "http://127.0.0.1:3000")!, description: "The demo configuration's listener")],
            paths: RoutePaths.map(VantioRouteTable.routes.map { ($0.method, $0.path, $0.operation) }),
            components: OpenAPI.Components(
                schemas: VantioSchemas.components,
                securitySchemes: [
                    "bearer": .b(.http(scheme: "bearer", description: "`Authorization: Bearer <key>`; keys conventionally start with sk_."))
                ]
            ),
            security: [[.component(named: "bearer"): []]],
            tags: VantioResource.all.map { OpenAPI.Tag(name: $0) }
        )
    }
}
